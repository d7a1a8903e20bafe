//! Harness for the end-to-end flows: the api over plain HTTP (`E2E_API_URL`, served by
//! `cargo lambda watch`), a private bridge process per test (`WEELO_LOCAL_BIN bridge`, with its own
//! consumer groups starting at the end of each topic), and moto's record of pushes.

use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use weelo_testkit::{token_for, unique};

pub struct Api {
    client: reqwest::Client,
    base: String,
}

#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl Api {
    pub fn from_env() -> Self {
        weelo_testkit::init();
        let base = std::env::var("E2E_API_URL").expect("E2E_API_URL (set by localstack/e2e.sh)");
        Self { client: reqwest::Client::new(), base }
    }

    pub async fn call(&self, method: &str, path: &str, token: &str, body: Option<Value>) -> Answer {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self.client.request(method, format!("{}{path}", self.base)).bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the api answers");
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        Answer { status, body: serde_json::from_str(&text).unwrap_or(Value::Null) }
    }
}

/// A user with a token and one registered phone.
#[derive(Debug, Clone)]
pub struct Person {
    pub id: String,
    pub token: String,
    pub phone_token: String,
}

impl Person {
    pub async fn new(api: &Api, role: &str) -> Self {
        let id = unique(role);
        let token = token_for(&id, role, 3600);
        let phone_token = unique("phone");
        let answer =
            api.call("POST", "/v1/devices", &token, Some(json!({"platform": "android", "token": phone_token}))).await;
        assert_eq!(answer.status, 201, "{answer:?}");
        Self { id, token, phone_token }
    }

    /// Sets the transporter profile and sends one GPS point.
    pub async fn drive(&self, api: &Api, vehicle: &str, available: bool, at: (f64, f64)) {
        let profile = api
            .call(
                "PUT",
                "/v1/transporters/me",
                &self.token,
                Some(json!({"vehicleTypes": [vehicle], "available": available})),
            )
            .await;
        assert_eq!(profile.status, 200, "{profile:?}");
        let point = json!({"lat": at.0, "lng": at.1, "recordedAt": chrono::Utc::now().to_rfc3339()});
        let sent = api.call("POST", "/v1/tracking/location", &self.token, Some(point)).await;
        assert_eq!(sent.status, 202, "{sent:?}");
    }
}

/// A bridge process of this test's own; killed when dropped.
pub struct Bridge {
    child: Child,
}

impl Bridge {
    pub fn start(group_suffix: &str) -> Self {
        let binary = std::env::var("WEELO_LOCAL_BIN").expect("WEELO_LOCAL_BIN (set by localstack/e2e.sh)");
        let invoke = std::env::var("E2E_INVOKE_URL").expect("E2E_INVOKE_URL (set by localstack/e2e.sh)");
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
        let child = Command::new(binary)
            .current_dir(root)
            .args(["bridge", "--invoke-url", &invoke, "--from-latest", &format!("--group-suffix={group_suffix}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting the bridge");
        Self { child }
    }

    /// Kills the process outright (SIGKILL), as a crash would.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits for a new bridge's consumer groups to own their partitions before anything is published.
pub async fn settle() {
    tokio::time::sleep(Duration::from_secs(8)).await;
}

/// How many pushes moto recorded for each phone token, counting only messages containing `needle`.
pub async fn pushes_by_phone(needle: &str) -> std::collections::HashMap<String, usize> {
    let base = std::env::var("AWS_ENDPOINT_URL").expect("AWS_ENDPOINT_URL");
    let data: Value = reqwest::get(format!("{base}/moto-api/data.json")).await.unwrap().json().await.unwrap();
    let mut counts = std::collections::HashMap::new();
    for endpoint in data["sns"]["PlatformEndpoint"].as_array().into_iter().flatten() {
        let Some(token) = endpoint["token"].as_str() else { continue };
        let n = endpoint["messages"]
            .as_object()
            .map(|m| m.values().filter(|v| v.as_str().is_some_and(|s| s.contains(needle))).count())
            .unwrap_or(0);
        if n > 0 {
            counts.insert(token.to_owned(), n);
        }
    }
    counts
}

/// Polls `check` every half second for up to `seconds`; returns whether it held.
pub async fn eventually(seconds: u64, mut check: impl AsyncFnMut() -> bool) -> bool {
    for _ in 0..seconds * 2 {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    false
}

/// A place no other run uses, so only this test's transporters are near it.
pub fn private_city() -> (f64, f64) {
    let bits = uuid::Uuid::new_v4().as_u128();
    (10.0 + (bits % 2000) as f64 / 100.0, 70.0 + ((bits >> 16) % 1500) as f64 / 100.0)
}

/// `n` points scattered within about `spread_deg` degrees of `centre`.
pub fn around(centre: (f64, f64), spread_deg: f64, n: usize) -> Vec<(f64, f64)> {
    (0..n)
        .map(|i| {
            let angle = i as f64 * 2.399;
            let radius = spread_deg * ((i % 10) as f64 + 1.0) / 10.0;
            (centre.0 + radius * angle.sin(), centre.1 + radius * angle.cos())
        })
        .collect()
}
