//! API Gateway HTTP API (payload v2) requests built in code, exactly as Lambda delivers them: how
//! the integration tests and the benchmark drive the real handler in-process.

use lambda_http::Request;
use serde_json::{Map, Value, json};

/// A request for `method path` with these headers (names are lower-cased, as API Gateway does) and body text.
pub fn http_api_request(method: &str, path: &str, headers: &[(String, String)], body: &str) -> Request {
    let event = http_api_event(method, path, headers, body);
    lambda_http::request::from_str(&event.to_string()).expect("a valid API Gateway v2 event")
}

/// The same request as the JSON event Lambda hands the function (`path` may end in `?query`).
pub fn http_api_event(method: &str, path: &str, headers: &[(String, String)], body: &str) -> Value {
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    let headers: Map<String, Value> =
        headers.iter().map(|(k, v)| (k.to_lowercase(), Value::String(v.clone()))).collect();
    json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012", "apiId": "local", "domainName": "api.weelo.local", "domainPrefix": "api",
            "http": { "method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "in-process" },
            "requestId": uuid::Uuid::new_v4().to_string(), "routeKey": "$default", "stage": "$default",
            "time": "24/Nov/2026:00:00:00 +0000", "timeEpoch": 0
        },
        "body": body,
        "isBase64Encoded": false
    })
}
