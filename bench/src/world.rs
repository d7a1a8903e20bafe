//! The benchmark's world on the native local stack: the real api handler in-process, and a city
//! of transporters (profile, phone with an SNS endpoint, a fresh position) seeded through the same
//! api routes and the same location-consumer code the product uses.

use futures::{StreamExt, stream};
use indicatif::ProgressBar;
use lambda_http::Body;
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{Value, json};
use weelo_api::App;
use weelo_core::events::{DomainEvent, LocationUpdated};
use weelo_core::ids::{EventId, UserId};
use weelo_core::location::LocationPoint;
use weelo_location_consumer::LocationConsumer;
use weelo_testkit::{msk_event, token_for, unique};

/// How many seeding requests run at once.
const SEED_CONCURRENCY: usize = 8;

#[derive(Debug, Clone)]
pub struct Person {
    pub id: String,
    pub token: String,
}

impl Person {
    pub fn new(role: &str) -> Self {
        let id = unique(role);
        let token = token_for(&id, role, 6 * 3600);
        Self { id, token }
    }
}

/// Calls the api handler in-process with an API Gateway v2 event; returns status and JSON body.
pub async fn call(app: &App, method: &str, path: &str, token: &str, body: Option<&Value>) -> (u16, Value) {
    call_with_headers(app, method, path, token, body, &[]).await
}

/// [`call`] with more request headers (such as `Idempotency-Key`).
pub async fn call_with_headers(
    app: &App,
    method: &str,
    path: &str,
    token: &str,
    body: Option<&Value>,
    extra_headers: &[(&str, &str)],
) -> (u16, Value) {
    let mut headers = vec![
        ("content-type".to_owned(), "application/json".to_owned()),
        ("authorization".to_owned(), format!("Bearer {token}")),
    ];
    headers.extend(extra_headers.iter().map(|(name, value)| ((*name).to_owned(), (*value).to_owned())));
    let text = body.map(Value::to_string).unwrap_or_default();
    let request = weelo_api::gateway_event::http_api_request(method, path, &headers, &text);
    let response = weelo_api::serve(app, request).await.expect("serve never fails");
    let status = response.status().as_u16();
    let body = match response.into_body() {
        Body::Text(text) => serde_json::from_str(&text).unwrap_or(Value::Null),
        Body::Binary(bytes) => serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        _ => Value::Null,
    };
    (status, body)
}

pub use weelo_testkit::private_city;

/// `n` available tipper transporters with one phone each, within about 3 km of `centre`.
pub async fn seed_transporters(
    app: &App,
    locations: &LocationConsumer,
    centre: (f64, f64),
    n: usize,
    progress: &ProgressBar,
) -> anyhow::Result<Vec<Person>> {
    let people: Vec<Person> = (0..n).map(|_| Person::new("transporter")).collect();
    let profile = json!({"vehicleTypes": ["tipper"], "available": true});
    let results: Vec<anyhow::Result<()>> = stream::iter(&people)
        .map(|person| {
            let profile = &profile;
            async move {
                let (status, body) = call(app, "PUT", "/v1/transporters/me", &person.token, Some(profile)).await;
                anyhow::ensure!(status == 200, "profile: {status} {body}");
                let phone = json!({"platform": "android", "token": unique("bench-phone")});
                let (status, body) = call(app, "POST", "/v1/devices", &person.token, Some(&phone)).await;
                anyhow::ensure!(status == 201, "device: {status} {body}");
                progress.inc(1);
                Ok(())
            }
        })
        .buffer_unordered(SEED_CONCURRENCY)
        .collect()
        .await;
    results.into_iter().collect::<anyhow::Result<Vec<()>>>()?;
    let now = chrono::Utc::now();
    let records: Vec<_> = people
        .iter()
        .enumerate()
        .map(|(i, person)| {
            let angle = i as f64 * 2.399;
            let radius = 0.03 * ((i % 10) as f64 + 1.0) / 10.0;
            let point = LocationPoint {
                lat: centre.0 + radius * angle.sin(),
                lng: centre.1 + radius * angle.cos(),
                recorded_at: now,
                speed_kmh: None,
                heading_deg: None,
                accuracy_m: None,
            };
            let update = LocationUpdated { transporter_id: UserId::parse(&person.id).expect("a valid id"), point };
            DomainEvent::LocationUpdated(update).to_record(EventId::generate(), "/weelo/bench", now)
        })
        .collect();
    let event = LambdaEvent::new(msk_event(&records, 0), Context::default());
    let response = weelo_location_consumer::handle(locations, event).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    anyhow::ensure!(response.is_success(), "seeding positions failed: {response:?}");
    Ok(people)
}

/// A booking body for a tipper from `at`.
pub fn booking_at(at: (f64, f64)) -> Value {
    json!({"pickup": {"lat": at.0, "lng": at.1}, "drop": {"lat": at.0 + 0.3, "lng": at.1}, "vehicleType": "tipper"})
}
