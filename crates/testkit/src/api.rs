//! The one client of the api that the api's tests, the end-to-end flows and the benchmark use, and
//! the one kind of user they act as. In-process, it feeds the real handler API Gateway v2 events
//! exactly as Lambda delivers them (the api's tests, the benchmark); over HTTP, it calls a running
//! api (the end-to-end flows, through the local Lambda service).

use crate::{token_for, unique};
use lambda_http::Body;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use weelo_api::App;
use weelo_core::model::ids::UserId;

/// Who a test or the benchmark acts as: a user with a valid token, and the FCM token of the phone
/// they register (if they do).
#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub token: String,
    pub phone_token: String,
}

impl User {
    /// A new user of `role` (`customer` or `transporter`) with a 6-hour token and no phone yet.
    pub fn new(role: &str) -> Self {
        let id = unique(role);
        Self { token: token_for(&id, role, 6 * 3600), phone_token: unique("phone"), id }
    }

    pub fn customer() -> Self {
        Self::new("customer")
    }

    pub fn transporter() -> Self {
        Self::new("transporter")
    }

    /// A new user of `role` whose phone is registered through `api` (as the app does at login).
    pub async fn with_phone(api: &ApiClient, role: &str) -> Self {
        let user = Self::new(role);
        let phone = json!({"platform": "android", "token": user.phone_token});
        let answer = api.call("POST", "/v1/devices", Some(&user), Some(phone)).await;
        assert_eq!(answer.status, 201, "{answer:?}");
        user
    }

    pub fn user_id(&self) -> UserId {
        UserId::parse(&self.id).expect("test user ids are valid")
    }
}

/// One answer of the api.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: http::HeaderMap,
    /// The JSON body (`null` when empty or not JSON).
    pub body: Value,
}

impl Answer {
    /// The `error.code` of an error answer.
    pub fn error_code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or_default()
    }
}

/// The local stack's api settings with a patient producer (30 s). `KAFKA_PUBLISH_TIMEOUT_MS` is
/// how long a user waits before the api leaves the event to the outbox relay; tests that look for
/// what the api published run no relay, and a test's api is a new producer, maybe on a busy
/// machine. A test of the fallback itself keeps the stack's timeout ([`ApiClient::in_process`]).
pub fn patient_settings() -> weelo_api::Settings {
    crate::init();
    let mut settings = weelo_api::Settings::from_env().expect("the local stack's settings");
    settings.kafka.publish_timeout = Duration::from_secs(30);
    settings
}

enum Transport {
    InProcess(Arc<App>),
    Http { client: reqwest::Client, base: String },
}

/// The api, in-process or over HTTP.
pub struct ApiClient {
    transport: Transport,
}

impl ApiClient {
    /// The real api application in this process, started against the local stack, as deployed:
    /// its publish timeout is the stack's `KAFKA_PUBLISH_TIMEOUT_MS`.
    pub async fn in_process() -> Self {
        crate::init();
        let app = App::from_env().await.expect("the api starts against the local stack");
        Self { transport: Transport::InProcess(Arc::new(app)) }
    }

    /// [`ApiClient::in_process`] with [`patient_settings`], for tests that check what it published.
    pub async fn in_process_publishing_patiently() -> Self {
        Self::in_process_with(&patient_settings()).await
    }

    /// The api application built from `settings` in this process (another route set, say).
    pub async fn in_process_with(settings: &weelo_api::Settings) -> Self {
        crate::init();
        let app = App::connect(settings).await.expect("the api starts against the local stack");
        Self { transport: Transport::InProcess(Arc::new(app)) }
    }

    /// The api served at `base` (e.g. `http://127.0.0.1:9020/lambda-url/api`).
    pub fn over_http(base: &str) -> Self {
        crate::init();
        // A request that hangs fails the test with a clear message instead of hanging it.
        let client = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().expect("an HTTP client");
        Self { transport: Transport::Http { client, base: base.to_owned() } }
    }

    /// The in-process application, to look at what it stored or published.
    pub fn app(&self) -> &App {
        match &self.transport {
            Transport::InProcess(app) => app,
            Transport::Http { base, .. } => panic!("the api at {base} runs in another process"),
        }
    }

    /// Sends a JSON body (if any) as `user` (if any).
    pub async fn call(&self, method: &str, path: &str, user: Option<&User>, body: Option<Value>) -> Answer {
        self.call_with(method, path, user, body, &[]).await
    }

    /// [`ApiClient::call`] with more headers (such as `Idempotency-Key`).
    pub async fn call_with(
        &self, method: &str, path: &str, user: Option<&User>, body: Option<Value>, extra: &[(&str, &str)],
    ) -> Answer {
        let mut headers = vec![("content-type".to_owned(), "application/json".to_owned())];
        if let Some(user) = user {
            headers.push(("authorization".to_owned(), format!("Bearer {}", user.token)));
        }
        headers.extend(extra.iter().map(|(name, value)| ((*name).to_owned(), (*value).to_owned())));
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        self.call_raw(method, path, &headers, &body).await
    }

    /// Sends exactly these headers and body text.
    pub async fn call_raw(&self, method: &str, path: &str, headers: &[(String, String)], body: &str) -> Answer {
        match &self.transport {
            Transport::InProcess(app) => {
                let request = weelo_api::gateway_event::http_api_request(method, path, headers, body);
                let response = weelo_api::serve(app, request).await.expect("serve never fails");
                let (parts, body) = response.into_parts();
                let bytes = match body {
                    Body::Text(text) => text.into_bytes(),
                    Body::Binary(bytes) => bytes,
                    _ => Vec::new(),
                };
                // Every answer of the api is JSON or empty, but the tracking page's HTML (as a
                // string): anything else fails the test.
                let html = parts.headers.get("content-type").is_some_and(|t| t.as_bytes().starts_with(b"text/html"));
                let body = match () {
                    _ if bytes.is_empty() => Value::Null,
                    _ if html => Value::String(String::from_utf8(bytes).expect("UTF-8 HTML")),
                    _ => serde_json::from_slice(&bytes).expect("a JSON body"),
                };
                Answer { status: parts.status.as_u16(), headers: parts.headers, body }
            }
            Transport::Http { client, base } => {
                let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
                let mut request = client.request(method, format!("{base}{path}")).body(body.to_owned());
                for (name, value) in headers {
                    request = request.header(name, value);
                }
                let response = request.send().await.expect("the api answers");
                let (status, headers) = (response.status().as_u16(), response.headers().clone());
                let bytes = response.bytes().await.unwrap_or_default();
                Answer { status, headers, body: serde_json::from_slice(&bytes).unwrap_or(Value::Null) }
            }
        }
    }

    /// As a transporter's app does: sets their profile (this vehicle type, available or not) and
    /// sends one GPS point at `at`, sending it again after a pause while the api answers 503
    /// (Kafka did not acknowledge in time).
    pub async fn drive(&self, driver: &User, vehicle: &str, available: bool, at: (f64, f64)) {
        let profile = json!({"vehicleTypes": [vehicle], "available": available});
        let answer = self.call("PUT", "/v1/transporters/me", Some(driver), Some(profile)).await;
        assert_eq!(answer.status, 200, "{answer:?}");
        let point = json!({"lat": at.0, "lng": at.1, "recordedAt": chrono::Utc::now().to_rfc3339()});
        let mut sent = self.call("POST", "/v1/tracking/location", Some(driver), Some(point.clone())).await;
        for _ in 0..5 {
            if sent.status != 503 {
                break;
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
            sent = self.call("POST", "/v1/tracking/location", Some(driver), Some(point.clone())).await;
        }
        assert_eq!(sent.status, 202, "{sent:?}");
    }
}
