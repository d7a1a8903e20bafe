//! The stack the trip lifecycle flows run on: a local Lambda service of the test's own with a short
//! offer window (and any other setting the test needs), a bridge to it, and the deadline sweeper's
//! schedule, as `make run` runs them. The shared functions of `localstack/e2e.sh` run no sweeper,
//! so these tests' deadlines are fired only by their own.

use crate::{
    Answer, ApiClient, Bridge, PrivateFunctions, User, booking_at, eventually, pushed_messages, wait_until_located,
};
use serde_json::Value;
use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use weelo_testkit::unique;

/// `weelo-local schedule` invoking `function` every `every_secs`; killed when dropped.
pub struct Schedule {
    child: Child,
}

impl Schedule {
    pub fn start(function: &str, every_secs: u64, invoke_url: &str) -> Self {
        let binary = std::env::var("WEELO_LOCAL_BIN").expect("WEELO_LOCAL_BIN (set by localstack/e2e.sh)");
        let child = Command::new(binary)
            .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
            .args(["schedule", "--function", function, "--every-secs", &every_secs.to_string()])
            .args(["--invoke-url", invoke_url])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting weelo-local schedule");
        Self { child }
    }
}

impl Drop for Schedule {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Functions with the test's settings, a bridge to them and the deadline sweeper every second.
pub struct TripStack {
    pub api: ApiClient,
    /// `None` while the test has the sweeper stopped.
    pub sweeper: Option<Schedule>,
    _bridge: Bridge,
    pub functions: PrivateFunctions,
}

impl TripStack {
    /// Starts it on `port` with an offer window of `window_secs` and the settings in `env`.
    pub async fn start(port: u16, window_secs: u64, env: &[(&str, String)]) -> Self {
        let mut settings = vec![("OFFER_WINDOW_SECS", window_secs.to_string())];
        settings.extend(env.iter().map(|(key, value)| (*key, value.clone())));
        let functions = PrivateFunctions::start(port, &settings, &[]).await;
        let api = ApiClient::over_http(&format!("{}/lambda-url/api", functions.url));
        let up = eventually(60, async || api.call("GET", "/v1/health", None, None).await.status == 200).await;
        assert!(up, "the api of the trip stack on port {port} did not answer");
        let bridge = Bridge::start_to(&unique("-trips"), &functions.url).await;
        let sweeper = Some(Schedule::start("deadline-sweeper", 1, &functions.url));
        Self { api, sweeper, _bridge: bridge, functions }
    }
}

/// The FCM messages `phone` received about `subject` (a booking or order id), as `(kind, message)`.
pub async fn pushes_about(phone: &str, subject: &str) -> Vec<(String, Value)> {
    pushed_messages(phone, subject)
        .await
        .iter()
        .filter_map(|raw| {
            let outer: Value = serde_json::from_str(raw).ok()?;
            let inner: Value = serde_json::from_str(outer["GCM"].as_str()?).ok()?;
            let message = inner["fcmV1Message"]["message"].clone();
            Some((message["data"]["kind"].as_str()?.to_owned(), message))
        })
        .collect()
}

/// How many pushes of each kind `phone` received about `subject` (a booking or order id).
pub async fn kinds(phone: &str, subject: &str) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for (kind, _) in pushes_about(phone, subject).await {
        *counts.entry(kind).or_default() += 1;
    }
    counts
}

pub async fn has_push(phone: &str, subject: &str, kind: &str) -> bool {
    kinds(phone, subject).await.contains_key(kind)
}

/// Transporters with phones, each driving a tipper at its place.
pub async fn drivers(api: &ApiClient, at: &[(f64, f64)]) -> Vec<User> {
    let mut people = Vec::new();
    for place in at {
        let driver = User::with_phone(api, "transporter").await;
        api.drive(&driver, "tipper", true, *place).await;
        people.push(driver);
    }
    wait_until_located(&people).await;
    people
}

pub async fn book(api: &ApiClient, customer: &User, at: (f64, f64)) -> String {
    let booked = api.call("POST", "/v1/bookings", Some(customer), Some(booking_at(at, "tipper"))).await;
    assert_eq!(booked.status, 201, "{booked:?}");
    booked.body["bookingId"].as_str().unwrap().to_owned()
}

pub async fn step(api: &ApiClient, who: &User, booking: &str, verb: &str) -> Answer {
    api.call("POST", &format!("/v1/bookings/{booking}/{verb}"), Some(who), None).await
}

/// Whether `driver`'s inbox (`GET /v1/offers`) holds `booking`.
pub async fn in_inbox(api: &ApiClient, driver: &User, booking: &str) -> bool {
    let page = api.call("GET", "/v1/offers?limit=100", Some(driver), None).await;
    assert_eq!(page.status, 200, "{page:?}");
    page.body["items"].as_array().unwrap().iter().any(|offer| offer["bookingId"] == booking)
}

pub async fn status(api: &ApiClient, customer: &User, booking: &str) -> Value {
    api.call("GET", &format!("/v1/bookings/{booking}"), Some(customer), None).await.body
}

/// About 1 km north of `at` per `km`.
pub fn north(at: (f64, f64), km: f64) -> (f64, f64) {
    (at.0 + km / 111.0, at.1)
}
