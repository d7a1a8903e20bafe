//! The live-tracking handler on MSK batches, against the DynamoDB emulator and an `@connections`
//! endpoint of the test's own (an HTTP server answering as API Gateway's Management API does:
//! 200, 410 `GoneException` for a client that left, 429 `LimitExceededException` when busy), so
//! what the SDK client sends and how the consumer reacts to each answer are both real.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use chrono::{DateTime, Duration, Utc};
use lambda_runtime::{Context, LambdaEvent};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use weelo_core::contract::events::{DomainEvent, EventRecord, LocationUpdated};
use weelo_core::model::caller::{Caller, Role};
use weelo_core::model::ids::{BookingId, EventId, UserId};
use weelo_core::model::live::{ConnectionId, LiveConnection, Watcher};
use weelo_core::model::location::LocationPoint;
use weelo_core::model::trip::TripRef;
use weelo_core::ports::LiveStore;
use weelo_live_tracking::{LiveTracking, Settings};
use weelo_testkit::{msk_event, unique};

/// What the fake `@connections` endpoint received, and how often each connection was throttled.
#[derive(Default)]
struct Received {
    posts: Vec<(String, Value)>,
    throttled: HashMap<String, u32>,
}

type Shared = Arc<Mutex<Received>>;

/// Connections named `gone-…` have left (410); `busy-…` are throttled twice, then take posts.
async fn post(State(received): State<Shared>, Path(id): Path<String>, body: String) -> axum::response::Response {
    let mut received = received.lock().unwrap();
    if id.starts_with("gone-") {
        return (StatusCode::GONE, [("x-amzn-errortype", "GoneException")], "{}").into_response();
    }
    let throttled = received.throttled.entry(id.clone()).or_default();
    if id.starts_with("busy-") && *throttled < 2 {
        *throttled += 1;
        return (StatusCode::TOO_MANY_REQUESTS, [("x-amzn-errortype", "LimitExceededException")], "{}").into_response();
    }
    received.posts.push((id, serde_json::from_str(&body).expect("JSON posted")));
    StatusCode::OK.into_response()
}

/// The consumer, posting to an endpoint of this test's own.
async fn consumer() -> (LiveTracking, Shared) {
    weelo_testkit::init();
    let received = Shared::default();
    let app = axum::Router::new().route("/@connections/{id}", axum::routing::post(post)).with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let settings = Settings { connections_url: url, ..Settings::from_env().unwrap() };
    (weelo_live_tracking::connect(&settings).await.unwrap(), received)
}

/// A connection named `prefix-…` watching a booking whose truck is `truck`.
async fn watching(prefix: &str, truck: &UserId) -> (ConnectionId, TripRef) {
    let id = ConnectionId::parse(&unique(prefix)).unwrap();
    let watcher = Watcher::User(Caller { user_id: UserId::parse(&unique("customer")).unwrap(), role: Role::Customer });
    let connection = LiveConnection { id: id.clone(), watcher, expires_at: Utc::now() + Duration::hours(1) };
    let trip = TripRef::Booking(BookingId::generate());
    let store = weelo_testkit::store().await;
    store.put_connection(&connection).await.unwrap();
    store.watch(&connection, &trip, Some(truck)).await.unwrap();
    (id, trip)
}

fn point(truck: &UserId, at: DateTime<Utc>) -> EventRecord {
    let point =
        LocationPoint { lat: 12.0, lng: 77.0, recorded_at: at, speed_kmh: None, heading_deg: None, accuracy_m: None };
    DomainEvent::LocationUpdated(LocationUpdated { transporter_id: truck.clone(), point }).to_record(
        EventId::generate(),
        "/weelo/api",
        Utc::now(),
    )
}

async fn deliver(consumer: &LiveTracking, records: &[EventRecord]) -> Value {
    let event = LambdaEvent::new(msk_event(records, 0), Context::default());
    serde_json::to_value(weelo_live_tracking::handle(consumer, event).await.unwrap()).unwrap()
}

fn times_posted_to(received: &Shared, id: &ConnectionId) -> Vec<String> {
    let received = received.lock().unwrap();
    let posts = received.posts.iter().filter(|(to, _)| to == id.as_str());
    posts.map(|(_, message)| message["recordedAt"].as_str().unwrap().to_owned()).collect()
}

fn iso(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

#[tokio::test]
async fn each_trucks_newest_point_of_a_batch_is_posted_once_and_an_older_one_never() {
    // GIVEN a connection watching a truck, and another truck nobody watches
    let (consumer, received) = consumer().await;
    let (truck, unwatched) = (UserId::parse(&unique("truck")).unwrap(), UserId::parse(&unique("truck")).unwrap());
    let (id, _) = watching("phone", &truck).await;
    let t = |s: i64| DateTime::from_timestamp(1_900_000_000 + s, 0).unwrap();

    // WHEN a batch holds the truck's points out of order (and the other truck's), then a batch
    // holds an older point, then one a newer point
    let first = [point(&truck, t(5)), point(&unwatched, t(9)), point(&truck, t(9)), point(&truck, t(3))];
    let answer = deliver(&consumer, &first).await;
    deliver(&consumer, &[point(&truck, t(7))]).await;
    deliver(&consumer, &[point(&truck, t(10))]).await;

    // THEN the connection got the first batch's newest point and the newer one, nothing else
    assert_eq!(answer["batchItemFailures"], serde_json::json!([]), "{answer}");
    assert_eq!(times_posted_to(&received, &id), vec![iso(t(9)), iso(t(10))]);
}

#[tokio::test]
async fn a_gone_connection_is_forgotten_and_a_throttled_one_retried_without_failing_the_others() {
    // GIVEN one truck watched by a client that left, a busy one and a plain one
    let (consumer, received) = consumer().await;
    let truck = UserId::parse(&unique("truck")).unwrap();
    let (gone, _) = watching("gone", &truck).await;
    let (busy, _) = watching("busy", &truck).await;
    let (plain, _) = watching("phone", &truck).await;

    // WHEN the truck sends a point
    let answer = deliver(&consumer, &[point(&truck, Utc::now())]).await;

    // THEN the batch succeeded, the busy and the plain connection got the point once each (the
    // busy one after two throttled tries), and the gone one is forgotten with its watches
    assert_eq!(answer["batchItemFailures"], serde_json::json!([]), "{answer}");
    assert_eq!(times_posted_to(&received, &busy).len(), 1);
    assert_eq!(times_posted_to(&received, &plain).len(), 1);
    assert_eq!(received.lock().unwrap().throttled.get(busy.as_str()), Some(&2));
    assert!(weelo_testkit::store().await.get_connection(&gone).await.unwrap().is_none());
    let watchers = weelo_testkit::store().await.watchers_of_transporter(&truck).await.unwrap();
    assert!(watchers.iter().all(|w| w.connection != gone), "{watchers:?}");
    assert_eq!(watchers.len(), 2);
}
