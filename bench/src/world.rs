//! The benchmark's world on the native local stack: the real api handler in-process (the tests'
//! `weelo_testkit::api` client), and a city of transporters (profile, phone with an SNS endpoint, a
//! fresh position) seeded through the same api routes and the same location-consumer code the
//! product uses.

use futures::{StreamExt, stream};
use indicatif::ProgressBar;
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{Value, json};
use weelo_core::contract::events::{DomainEvent, LocationsReported};
use weelo_core::model::ids::{EventId, UserId};
use weelo_core::model::location::LocationPoint;
use weelo_location_consumer::LocationConsumer;
use weelo_testkit::api::{ApiClient, User};
use weelo_testkit::msk_event;

/// How many seeding requests run at once.
const SEED_CONCURRENCY: usize = 8;

pub use weelo_testkit::private_city;

/// `n` available tipper transporters with one phone each, within about 3 km of `centre`.
pub async fn seed_transporters(
    api: &ApiClient, locations: &LocationConsumer, centre: (f64, f64), n: usize, progress: &ProgressBar,
) -> anyhow::Result<Vec<User>> {
    let people: Vec<User> = (0..n).map(|_| User::transporter()).collect();
    let profile = json!({"vehicleTypes": ["tipper"], "available": true});
    let results: Vec<anyhow::Result<()>> = stream::iter(&people)
        .map(|person| {
            let profile = &profile;
            async move {
                let answer = api.call("PUT", "/v1/transporters/me", Some(person), Some(profile.clone())).await;
                anyhow::ensure!(answer.status == 200, "profile: {answer:?}");
                let phone = json!({"platform": "android", "token": person.phone_token});
                let answer = api.call("POST", "/v1/devices", Some(person), Some(phone)).await;
                anyhow::ensure!(answer.status == 201, "device: {answer:?}");
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
            let transporter_id = UserId::parse(&person.id).expect("a valid id");
            let reported = LocationsReported { transporter_id, points: vec![point] };
            DomainEvent::LocationsReported(reported).to_record(EventId::generate(), "/weelo/bench", now)
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
