//! The service's routes: Lambda's Invoke API, function URLs, the Runtime API of the processes, and
//! the status.

use super::gateway::{self, HttpAnswer};
use super::pool::{Gone, InstanceId, Outcome};
use super::{Service, ServiceStatus};
use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use bytes::Bytes;
use std::sync::Arc;

/// Lambda takes payloads of up to 6 MB; a little more here, so the function decides.
const MAX_PAYLOAD_BYTES: usize = 8 * 1024 * 1024;

type Shared = State<Arc<Service>>;

pub fn router(service: Arc<Service>) -> Router {
    const RUNTIME: &str = "/rt/{name}/{instance}/2018-06-01/runtime";
    const EXTENSION: &str = "/rt/{name}/{instance}/2020-01-01/extension";
    Router::new()
        .route("/2015-03-31/functions/{name}/invocations", post(invoke))
        .route("/lambda-url/{name}", any(function_url))
        .route("/lambda-url/{name}/{*path}", any(function_url))
        .route(&format!("{RUNTIME}/invocation/next"), get(next))
        .route(&format!("{RUNTIME}/invocation/{{request}}/response"), post(respond))
        .route(&format!("{RUNTIME}/invocation/{{request}}/error"), post(report_error))
        .route(&format!("{RUNTIME}/init/error"), post(init_error))
        .route(&format!("{EXTENSION}/register"), post(register_extension))
        .route(&format!("{EXTENSION}/event/next"), get(next_extension_event))
        .route("/_weelo/status", get(status))
        .merge(super::websocket::routes())
        .layer(DefaultBodyLimit::max(MAX_PAYLOAD_BYTES))
        .with_state(service)
}

/// `POST /2015-03-31/functions/{name}/invocations`: `RequestResponse` (the default) answers the
/// outcome, `Event` answers 202 at once and runs it in the background.
async fn invoke(State(service): Shared, Path(name): Path<String>, headers: HeaderMap, payload: Bytes) -> Response {
    let Some(function) = service.function(&name).cloned() else {
        return not_found(&name);
    };
    if headers.get("x-amz-invocation-type").is_some_and(|t| t == "Event") {
        tokio::spawn(async move { function.invoke(payload).await });
        return StatusCode::ACCEPTED.into_response();
    }
    let mut response = match function.invoke(payload).await {
        Outcome::Response(body) => (StatusCode::OK, body).into_response(),
        Outcome::Error { body, .. } => {
            let mut response = (StatusCode::OK, body).into_response();
            response.headers_mut().insert("x-amz-function-error", HeaderValue::from_static("Unhandled"));
            response
        }
    };
    response.headers_mut().insert("x-amz-executed-version", HeaderValue::from_static("$LATEST"));
    response
}

async fn function_url(
    State(service): Shared, Path(params): Path<Vec<(String, String)>>, method: Method, uri: Uri, headers: HeaderMap,
    body: Bytes,
) -> Response {
    let name = params.iter().find(|(key, _)| key == "name").map(|(_, v)| v.clone()).unwrap_or_default();
    let Some(function) = service.function(&name).cloned() else {
        return not_found(&name);
    };
    let prefix = format!("/lambda-url/{name}");
    let path = uri.path().strip_prefix(&prefix).filter(|p| !p.is_empty()).unwrap_or("/");
    let event = gateway::http_event(&name, &method, path, uri.query().unwrap_or_default(), &headers, &body);
    let answer = match function.invoke(Bytes::from(event.to_string())).await {
        Outcome::Response(document) => gateway::http_answer(&document),
        Outcome::Error { .. } => HttpAnswer::function_failed(),
    };
    let mut response = Response::new(Body::from(answer.body));
    *response.status_mut() = answer.status;
    *response.headers_mut() = answer.headers;
    response
}

async fn next(State(service): Shared, Path((name, instance)): Path<(String, InstanceId)>) -> Response {
    let Some(function) = service.functions.get(&name).cloned() else { return not_found(&name) };
    match function.next(instance).await {
        Ok(invocation) => {
            let arn = format!("arn:aws:lambda:{}:000000000000:function:{name}", service.host.region);
            let mut response = (StatusCode::OK, invocation.payload).into_response();
            let headers = response.headers_mut();
            for (key, value) in [
                ("lambda-runtime-aws-request-id", invocation.request_id),
                ("lambda-runtime-deadline-ms", invocation.deadline_ms.to_string()),
                ("lambda-runtime-invoked-function-arn", arn),
                ("lambda-runtime-trace-id", format!("Root=1-{:08x}-{}", invocation.deadline_ms / 1000, "0".repeat(24))),
                ("content-type", "application/json".to_owned()),
            ] {
                headers.insert(key, HeaderValue::from_str(&value).expect("ASCII header values"));
            }
            response
        }
        Err(Gone) => (StatusCode::GONE, "this process has been replaced").into_response(),
    }
}

async fn respond(
    State(service): Shared, Path((name, instance, request)): Path<(String, InstanceId, String)>, body: Bytes,
) -> Response {
    finish(&service, &name, instance, &request, Outcome::Response(body))
}

async fn report_error(
    State(service): Shared, Path((name, instance, request)): Path<(String, InstanceId, String)>, body: Bytes,
) -> Response {
    let error_type = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v["errorType"].as_str().map(str::to_owned))
        .unwrap_or_else(|| "Unhandled".to_owned());
    finish(&service, &name, instance, &request, Outcome::Error { error_type, body })
}

fn finish(service: &Service, name: &str, instance: InstanceId, request: &str, outcome: Outcome) -> Response {
    let Some(function) = service.functions.get(name) else { return not_found(name) };
    if function.complete(instance, request, outcome) {
        StatusCode::ACCEPTED.into_response()
    } else {
        // As Lambda: an answer for an invocation that is over (it timed out) is refused.
        (StatusCode::BAD_REQUEST, "no such invocation running here").into_response()
    }
}

async fn init_error(
    State(service): Shared, Path((name, instance)): Path<(String, InstanceId)>, body: Bytes,
) -> Response {
    if let Some(function) = service.functions.get(&name) {
        function.init_failed(instance, &body);
    }
    StatusCode::ACCEPTED.into_response()
}

/// Extensions API: `POST …/extension/register`. The one extension Weelo's functions register is
/// `lambda_runtime`'s no-op internal one, for the SIGTERM at the environment's end (which the
/// service sends every process it ends), so registering is all there is to it.
async fn register_extension(Path((name, instance)): Path<(String, InstanceId)>) -> Response {
    let body = serde_json::json!({ "functionName": name, "functionVersion": "$LATEST", "handler": "bootstrap" });
    let mut response = (StatusCode::OK, body.to_string()).into_response();
    let id = HeaderValue::from_str(&format!("{name}-{instance}-extension")).expect("ASCII names");
    response.headers_mut().insert("lambda-extension-identifier", id);
    response
}

/// Extensions API: `GET …/extension/event/next`. An extension subscribed to no event waits here
/// until its process ends.
async fn next_extension_event() -> Response {
    std::future::pending().await
}

#[derive(serde::Deserialize)]
struct Since {
    #[serde(default)]
    since: u64,
}

async fn status(State(service): Shared, Query(Since { since }): Query<Since>) -> Response {
    let status = ServiceStatus {
        functions: service.functions.values().map(|f| f.status()).collect(),
        notable: service.host.logs.since(since),
    };
    axum::Json(status).into_response()
}

fn not_found(name: &str) -> Response {
    let body = serde_json::json!({ "Type": "User", "Message": format!("Function not found: {name}") });
    let mut response = (StatusCode::NOT_FOUND, body.to_string()).into_response();
    response.headers_mut().insert("x-amzn-errortype", HeaderValue::from_static("ResourceNotFoundException"));
    response
}
