//! Function URLs: an HTTP request as the API Gateway HTTP API event (payload format 2.0) that
//! Lambda hands the function behind it, and the function's answer back as the HTTP response.

use base64::Engine;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use serde_json::{Map, Value, json};

/// The event for `method path?query` with these headers and body. As API Gateway does: header
/// names lower-cased and repeated headers joined by commas, cookies in a list of their own, query
/// parameters decoded, and a body that is not UTF-8 base64-encoded (`isBase64Encoded`).
pub fn http_event(function: &str, method: &Method, path: &str, query: &str, headers: &HeaderMap, body: &[u8]) -> Value {
    let (joined, cookies) = headers_and_cookies(headers);
    let (body, encoded) = match std::str::from_utf8(body) {
        Ok(text) => (text.to_owned(), false),
        Err(_) => (base64::engine::general_purpose::STANDARD.encode(body), true),
    };
    let user_agent = headers.get(http::header::USER_AGENT).map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let now = chrono::Utc::now();
    let mut event = json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": joined,
        "requestContext": {
            "accountId": "000000000000", "apiId": function, "domainName": "127.0.0.1", "domainPrefix": function,
            "http": {
                "method": method.as_str(), "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1",
                "userAgent": user_agent.unwrap_or_default(),
            },
            "requestId": uuid::Uuid::new_v4().to_string(), "routeKey": "$default", "stage": "$default",
            "time": now.format("%d/%b/%Y:%H:%M:%S %z").to_string(), "timeEpoch": now.timestamp_millis(),
        },
        "isBase64Encoded": encoded,
    });
    if !body.is_empty() {
        event["body"] = Value::String(body);
    }
    if !cookies.is_empty() {
        event["cookies"] = Value::Array(cookies);
    }
    let parameters =
        joined_pairs(form_urlencoded::parse(query.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())));
    if !parameters.is_empty() {
        event["queryStringParameters"] = Value::Object(parameters);
    }
    event
}

/// The headers (lower-case names, repeated ones joined by commas, values as UTF-8 text) and the
/// cookies of the `Cookie` header, apart.
fn headers_and_cookies(headers: &HeaderMap) -> (Map<String, Value>, Vec<Value>) {
    let mut cookies = Vec::new();
    let mut pairs = Vec::new();
    for (name, value) in headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        if name == http::header::COOKIE {
            cookies.extend(value.split("; ").map(|c| Value::String(c.to_owned())));
        } else {
            pairs.push((name.as_str().to_owned(), value));
        }
    }
    (joined_pairs(pairs.into_iter()), cookies)
}

/// Name–value pairs as a JSON object, the values of a repeated name joined by commas.
fn joined_pairs(pairs: impl Iterator<Item = (String, String)>) -> Map<String, Value> {
    let mut joined: Map<String, Value> = Map::new();
    for (name, value) in pairs {
        match joined.get_mut(&name) {
            Some(Value::String(existing)) => {
                existing.push(',');
                existing.push_str(&value);
            }
            _ => {
                joined.insert(name, Value::String(value));
            }
        }
    }
    joined
}

/// An HTTP response: status, headers and body.
#[derive(Debug)]
pub struct HttpAnswer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl HttpAnswer {
    fn plain(status: StatusCode, message: &str) -> Self {
        let mut headers = HeaderMap::new();
        headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        Self { status, headers, body: Bytes::from(json!({ "message": message }).to_string()) }
    }

    /// What API Gateway answers when the function failed (its error is not shown to the client).
    pub fn function_failed() -> Self {
        Self::plain(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
    }
}

/// The function's answer (an API Gateway v2 response document) as the HTTP response.
pub fn http_answer(document: &[u8]) -> HttpAnswer {
    let Ok(value) = serde_json::from_slice::<Value>(document) else { return HttpAnswer::function_failed() };
    let status = value["statusCode"]
        .as_u64()
        .and_then(|s| u16::try_from(s).ok())
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::OK);
    let mut headers = HeaderMap::new();
    for (name, value) in value["headers"].as_object().into_iter().flatten() {
        if let (Ok(name), Some(Ok(value))) = (name.parse::<HeaderName>(), value.as_str().map(HeaderValue::from_str)) {
            headers.insert(name, value);
        }
    }
    for (name, values) in value["multiValueHeaders"].as_object().into_iter().flatten() {
        let Ok(name) = name.parse::<HeaderName>() else { continue };
        headers.remove(&name);
        for value in values.as_array().into_iter().flatten().filter_map(Value::as_str) {
            if let Ok(value) = HeaderValue::from_str(value) {
                headers.append(name.clone(), value);
            }
        }
    }
    for cookie in value["cookies"].as_array().into_iter().flatten().filter_map(Value::as_str) {
        if let Ok(value) = HeaderValue::from_str(cookie) {
            headers.append(http::header::SET_COOKIE, value);
        }
    }
    let text = value["body"].as_str().unwrap_or_default();
    let body = if value["isBase64Encoded"].as_bool() == Some(true) {
        base64::engine::general_purpose::STANDARD.decode(text).map(Bytes::from).unwrap_or_default()
    } else {
        Bytes::from(text.to_owned())
    };
    HttpAnswer { status, headers, body }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_becomes_the_event_api_gateway_would_send() {
        // GIVEN a request with repeated headers, a cookie, a query and a body that is not UTF-8
        let mut headers = HeaderMap::new();
        headers.append("X-Thing", HeaderValue::from_static("a"));
        headers.append("x-thing", HeaderValue::from_static("b"));
        headers.insert("cookie", HeaderValue::from_static("s=1; t=2"));
        headers.insert("idempotency-key", HeaderValue::from_bytes("é".as_bytes()).unwrap());
        let event = http_event("api", &Method::POST, "/v1/bookings", "limit=5&s=a&s=b", &headers, &[0xff, 0x00]);
        // THEN headers are joined, cookies listed, the query decoded and the body base64-encoded
        assert_eq!(event["headers"]["x-thing"], "a,b");
        assert_eq!(event["headers"]["idempotency-key"], "é");
        assert!(event["headers"].get("cookie").is_none());
        assert_eq!(event["cookies"], json!(["s=1", "t=2"]));
        assert_eq!(event["queryStringParameters"], json!({"limit": "5", "s": "a,b"}));
        assert_eq!((event["body"].as_str(), event["isBase64Encoded"].as_bool()), (Some("/wA="), Some(true)));
        assert_eq!(event["requestContext"]["http"]["method"], "POST");
        // AND lambda_http reads it as the request it was
        let request = lambda_http::request::from_str(&event.to_string()).expect("an API Gateway v2 event");
        assert_eq!(request.uri().path(), "/v1/bookings");
    }

    #[test]
    fn an_answer_becomes_the_http_response_and_garbage_a_500() {
        let document = json!({
            "statusCode": 201, "headers": {"content-type": "application/json"},
            "multiValueHeaders": {"x-many": ["1", "2"]}, "body": "{\"ok\":true}", "isBase64Encoded": false
        });
        let answer = http_answer(document.to_string().as_bytes());
        assert_eq!(answer.status, StatusCode::CREATED);
        assert_eq!(answer.headers.get_all("x-many").iter().count(), 2);
        assert_eq!(answer.body, Bytes::from_static(b"{\"ok\":true}"));
        assert_eq!(http_answer(b"not json").status, StatusCode::INTERNAL_SERVER_ERROR);
    }
}
