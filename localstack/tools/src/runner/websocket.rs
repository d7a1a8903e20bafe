//! The local WebSocket gateway: what API Gateway's WebSocket API does for the `live-socket`
//! function (docs/live-tracking.md), on the local Lambda service's port.
//!
//! - `GET /websocket` (upgrade): the REQUEST authorizer is invoked with the handshake's headers
//!   and query; an `Allow` policy is followed by the `$connect` route with the authorizer's
//!   context in `requestContext.authorizer`; a non-200 answer refuses the handshake with that
//!   status, as API Gateway does. The `Sec-WebSocket-Protocol` the function answers is selected.
//! - Each text frame is a MESSAGE event on the route its `action` selects (`subscribe`,
//!   `unsubscribe`, else `$default`); the function's `body` goes back to the client (the route
//!   response). A close invokes `$disconnect`.
//! - `POST|DELETE|GET /websocket/@connections/{id}`: the Management API, which the live-tracking
//!   consumer's SDK client reaches through `LIVE_CONNECTIONS_URL`. An unknown connection answers
//!   410 `GoneException`, as API Gateway does for a client that left.

use super::Service;
use super::pool::Outcome;
use axum::Router;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// The function behind the WebSocket API (authorizer and routes).
pub const FUNCTION: &str = "live-socket";
/// Routes selected by `$request.body.action`; anything else is `$default`.
const ROUTES: [&str; 2] = ["subscribe", "unsubscribe"];

/// The open connections, by id: where the Management API's posts go.
#[derive(Default)]
pub struct Connections {
    open: Mutex<HashMap<String, mpsc::UnboundedSender<Message>>>,
}

impl Connections {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, mpsc::UnboundedSender<Message>>> {
        self.open.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

type Shared = State<Arc<Service>>;

pub fn routes() -> Router<Arc<Service>> {
    Router::new()
        .route("/websocket", get(handshake))
        .route("/websocket/@connections/{id}", post(post_to).delete(close).get(info))
}

async fn handshake(
    State(service): Shared, RawQuery(query): RawQuery, headers: HeaderMap, upgrade: WebSocketUpgrade,
) -> Response {
    let Some(function) = service.function(FUNCTION).cloned() else {
        return (StatusCode::NOT_FOUND, "no live-socket function").into_response();
    };
    let id = base64::engine::general_purpose::STANDARD.encode(&uuid::Uuid::new_v4().as_bytes()[..10]);
    let (header_map, query_map) = (flat_headers(&headers), query_parameters(query.as_deref()));
    let arn = format!("arn:aws:execute-api:{}:000000000000:local/live/$connect", service.host.region);
    let authorizer = json!({
        "type": "REQUEST", "methodArn": arn, "headers": header_map, "queryStringParameters": query_map,
        "requestContext": context(&id, "$connect", "CONNECT", None),
    });
    let Some(policy) = answer(function.invoke(Bytes::from(authorizer.to_string())).await) else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "authorizer failed").into_response();
    };
    if policy["policyDocument"]["Statement"][0]["Effect"] != "Allow" {
        return (StatusCode::FORBIDDEN, json!({ "message": "Forbidden" }).to_string()).into_response();
    }
    let mut admitted = policy["context"].as_object().cloned().unwrap_or_default();
    admitted.insert("principalId".into(), policy["principalId"].clone());
    let connect = json!({
        "headers": header_map, "queryStringParameters": query_map,
        "requestContext": context(&id, "$connect", "CONNECT", Some(&admitted)), "isBase64Encoded": false,
    });
    let Some(connected) = answer(function.invoke(Bytes::from(connect.to_string())).await) else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "$connect failed").into_response();
    };
    let status = connected["statusCode"].as_u64().unwrap_or(200);
    if status != 200 {
        return StatusCode::from_u16(status as u16).unwrap_or(StatusCode::FORBIDDEN).into_response();
    }
    let protocol = connected["headers"]["Sec-WebSocket-Protocol"].as_str().map(str::to_owned);
    let upgrade = match protocol {
        Some(protocol) => upgrade.protocols([protocol]),
        None => upgrade,
    };
    upgrade.on_upgrade(move |socket| session(service, id, admitted, socket))
}

/// One connection from its upgrade to its close.
async fn session(service: Arc<Service>, id: String, admitted: Map<String, Value>, socket: WebSocket) {
    let (mut sink, mut stream) = socket.split();
    let (to_client, mut outbox) = mpsc::unbounded_channel::<Message>();
    service.sockets.lock().insert(id.clone(), to_client.clone());
    let writer = tokio::spawn(async move {
        while let Some(message) = outbox.recv().await {
            let closing = matches!(message, Message::Close(_));
            if sink.send(message).await.is_err() || closing {
                break;
            }
        }
    });
    while let Some(Ok(frame)) = stream.next().await {
        let text = match frame {
            Message::Text(text) => text.to_string(),
            Message::Binary(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Message::Close(_) => break,
            _ => continue,
        };
        let action = serde_json::from_str::<Value>(&text).ok().and_then(|v| v["action"].as_str().map(str::to_owned));
        let route = action.filter(|a| ROUTES.contains(&a.as_str())).unwrap_or_else(|| "$default".to_owned());
        let event = json!({
            "requestContext": context(&id, &route, "MESSAGE", Some(&admitted)), "body": text, "isBase64Encoded": false,
        });
        let Some(function) = service.function(FUNCTION).cloned() else { break };
        let reply = match answer(function.invoke(Bytes::from(event.to_string())).await) {
            Some(document) => document["body"].as_str().map(str::to_owned),
            // As API Gateway: an integration failure answers the client with an error message.
            None => Some(json!({ "message": "Internal server error" }).to_string()),
        };
        if let Some(body) = reply {
            let _ = to_client.send(Message::Text(body.into()));
        }
    }
    service.sockets.lock().remove(&id);
    writer.abort();
    let event = json!({ "requestContext": context(&id, "$disconnect", "DISCONNECT", Some(&admitted)) });
    if let Some(function) = service.function(FUNCTION).cloned() {
        function.invoke(Bytes::from(event.to_string())).await;
    }
}

async fn post_to(State(service): Shared, Path(id): Path<String>, body: Bytes) -> Response {
    let sender = service.sockets.lock().get(&id).cloned();
    let text = String::from_utf8_lossy(&body).into_owned();
    match sender {
        Some(sender) if sender.send(Message::Text(text.into())).is_ok() => StatusCode::OK.into_response(),
        _ => gone(),
    }
}

async fn close(State(service): Shared, Path(id): Path<String>) -> Response {
    match service.sockets.lock().remove(&id) {
        Some(sender) => {
            let _ = sender.send(Message::Close(None));
            StatusCode::NO_CONTENT.into_response()
        }
        None => gone(),
    }
}

async fn info(State(service): Shared, Path(id): Path<String>) -> Response {
    if service.sockets.lock().contains_key(&id) {
        axum::Json(json!({ "connectedAt": null, "identity": { "sourceIp": "127.0.0.1" } })).into_response()
    } else {
        gone()
    }
}

fn gone() -> Response {
    let mut response = (StatusCode::GONE, json!({ "message": null }).to_string()).into_response();
    response.headers_mut().insert("x-amzn-errortype", HeaderValue::from_static("GoneException"));
    response
}

/// The function's answer as JSON, `None` when it failed.
fn answer(outcome: Outcome) -> Option<Value> {
    match outcome {
        Outcome::Response(body) => serde_json::from_slice(&body).ok(),
        Outcome::Error { .. } => None,
    }
}

fn context(id: &str, route: &str, event_type: &str, authorizer: Option<&Map<String, Value>>) -> Value {
    let now = chrono::Utc::now();
    let mut context = json!({
        "routeKey": route, "eventType": event_type, "connectionId": id, "stage": "live", "apiId": "local",
        "domainName": "127.0.0.1", "requestId": uuid::Uuid::new_v4().to_string(),
        "requestTimeEpoch": now.timestamp_millis(), "connectedAt": now.timestamp_millis(),
        "identity": { "sourceIp": "127.0.0.1" },
    });
    if let Some(authorizer) = authorizer {
        context["authorizer"] = Value::Object(authorizer.clone());
    }
    context
}

/// Headers as API Gateway's WebSocket events carry them: one value per name (the last one).
fn flat_headers(headers: &HeaderMap) -> Map<String, Value> {
    let mut flat = Map::new();
    for (name, value) in headers {
        flat.insert(name.as_str().to_owned(), Value::String(String::from_utf8_lossy(value.as_bytes()).into_owned()));
    }
    flat
}

fn query_parameters(query: Option<&str>) -> Map<String, Value> {
    form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
        .collect()
}
