//! Test harness: the real `api` application, started in-process against the running local stack
//! (Kafka, the DynamoDB emulator, moto for SNS), fed API Gateway HTTP API v2 events exactly as
//! Lambda delivers them. Every test makes its own users and resources (unique ids), so tests run in
//! parallel and against a stack that already holds other data.
//!
//! The environment comes from `.local/stack.env` (exported by `make test`). Set `WEELO_TEST_LOG`
//! (e.g. `debug`) to see the application's logs.
#![allow(dead_code, unused_imports)] // each test binary uses a different part of the harness

use lambda_http::Body;
use serde_json::{Value, json};
use weelo_api::App;
pub use weelo_testkit::{cloud_event, records_matching, records_with_key, token_for, unique};

pub struct TestApp {
    pub app: App,
}

pub struct TestResponse {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Value,
}

/// A user with a valid token.
#[derive(Clone)]
pub struct User {
    pub id: String,
    pub token: String,
}

impl TestApp {
    pub async fn spawn() -> Self {
        weelo_testkit::init();
        let app = App::from_env().await.expect("the api starts against the local stack");
        Self { app }
    }

    /// Sends a request with a JSON body (if any) as a user (if any).
    pub async fn call(&self, method: &str, path: &str, user: Option<&User>, body: Option<Value>) -> TestResponse {
        let mut headers = vec![("content-type".to_owned(), "application/json".to_owned())];
        if let Some(user) = user {
            headers.push(("authorization".to_owned(), format!("Bearer {}", user.token)));
        }
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        self.call_raw(method, path, &headers, &body).await
    }

    /// Sends exactly these headers and body text.
    pub async fn call_raw(&self, method: &str, path: &str, headers: &[(String, String)], body: &str) -> TestResponse {
        let request = weelo_api::gateway_event::http_api_request(method, path, headers, body);
        let response = weelo_api::serve(&self.app, request).await.expect("serve never fails");
        let (parts, body) = response.into_parts();
        let text = match body {
            Body::Empty => String::new(),
            Body::Text(text) => text,
            Body::Binary(bytes) => String::from_utf8(bytes).expect("UTF-8 body"),
            _ => String::new(),
        };
        let body = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).expect("a JSON body") };
        TestResponse { status: parts.status.as_u16(), headers: parts.headers, body }
    }
}

impl TestResponse {
    /// The `error.code` of an error response.
    pub fn error_code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or_default()
    }
}

pub fn customer() -> User {
    let id = unique("customer");
    User { token: token_for(&id, "customer", 3600), id }
}

pub fn transporter() -> User {
    let id = unique("transporter");
    User { token: token_for(&id, "transporter", 3600), id }
}

pub fn booking_body() -> Value {
    json!({
        "pickup": { "lat": 19.0760, "lng": 72.8777, "address": "Andheri East, Mumbai" },
        "drop": { "lat": 18.5204, "lng": 73.8567 },
        "vehicleType": "tipper"
    })
}

pub fn order_body() -> Value {
    json!({
        "pickup": { "lat": 19.0760, "lng": 72.8777 },
        "drop": { "lat": 18.5204, "lng": 73.8567 },
        "trucks": [
            { "vehicleType": "tipper", "quantity": 2 },
            { "vehicleType": "container", "quantity": 1 }
        ]
    })
}

pub fn user_id(user: &User) -> weelo_core::ids::UserId {
    weelo_core::ids::UserId::parse(&user.id).expect("test user ids are valid")
}

/// The CloudEvents `id` of a record.
pub fn event_id(record: &weelo_kafka::ConsumedRecord) -> String {
    cloud_event(record)["id"].as_str().expect("an id").to_owned()
}
