//! End to end for GPS: 10,000 points from 500 trucks, sent over HTTP out of order to the
//! gps-ingest function, through Kafka and the bridge to the location-consumer; and the same path while DynamoDB throttles or stops
//! answering, behind a mapping in provisioned mode and in on-demand mode; and gps-ingest's metric
//! lines, held back across requests and written at its end. Run by `localstack/e2e.sh`.

use futures::{StreamExt, stream};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use weelo_core::model::ids::UserId;
use weelo_core::ports::{TrackRange, TransporterStore};
use weelo_e2e::*;
use weelo_local::bridge::HttpInvoker;
use weelo_testkit::{local_stack, unique};

const TRUCKS: usize = 500;
const POINTS_PER_TRUCK: usize = 20;
const POINTS_PER_REQUEST: usize = 10;

/// How many of `transporter`'s points a track of the last day shows (the history keeps a point
/// twice only across segments of a batch redelivered split differently, and a track shows it once).
async fn history_count(store: &weelo_dynamo::DynamoStore, transporter: &str) -> i32 {
    use weelo_core::ports::LocationHistoryStore;
    let now = chrono::Utc::now();
    let transporter = UserId::parse(transporter).unwrap();
    let day = TrackRange { from: now - chrono::Duration::days(1), until: now, limit: 1000, after: None };
    let day = store.track(&transporter, day).await.unwrap();
    i32::try_from(day.items.len()).unwrap()
}

#[tokio::test]
async fn ten_thousand_points_sent_out_of_order_keep_each_trucks_newest_position_and_all_history() {
    // GIVEN 500 trucks, each with 20 points recorded a second apart, the newest at the highest
    // latitude, sending them to the gps-ingest function's URL as the apps do
    let api = e2e_gps();
    let _bridge = Bridge::start(&unique("-e2e")).await;
    let centre = private_city();
    let now = chrono::Utc::now();
    let trucks: Vec<User> = (0..TRUCKS).map(|_| User::new("transporter")).collect();
    let point = |truck: usize, n: usize| {
        let recorded_at = now - chrono::Duration::seconds((POINTS_PER_TRUCK - n) as i64);
        json!({"lat": centre.0 + n as f64 / 1000.0, "lng": centre.1 + truck as f64 / 10_000.0,
               "recordedAt": recorded_at.to_rfc3339()})
    };
    // Each truck's points are shuffled into two requests, and the 1,000 requests are shuffled too,
    // so newer points often arrive before older ones (a phone flushing an offline buffer late).
    let mut requests: Vec<(usize, usize, Vec<serde_json::Value>)> = Vec::new();
    for truck in 0..TRUCKS {
        let mut order: Vec<usize> = (0..POINTS_PER_TRUCK).collect();
        order.sort_by_key(|n| (n * 7 + truck * 13) % POINTS_PER_TRUCK);
        for (part, chunk) in order.chunks(POINTS_PER_REQUEST).enumerate() {
            requests.push((truck, part, chunk.iter().map(|n| point(truck, *n)).collect()));
        }
    }
    requests.sort_by_key(|(truck, part, _)| ((truck * 7919 + (1 - part) * 104_729) % 10_007, *part));

    // WHEN every request is sent, eight at a time
    let statuses: Vec<u16> = stream::iter(requests)
        .map(|(truck, _, points)| {
            let api = &api;
            let truck = trucks[truck].clone();
            async move {
                api.call("POST", "/v1/tracking/location", Some(&truck), Some(json!({"points": points}))).await.status
            }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    assert!(statuses.iter().all(|s| *s == 202), "{:?}", statuses.iter().filter(|s| **s != 202).collect::<Vec<_>>());

    // THEN every truck's latest position is its newest point, and the history holds all 10,000
    let store = store().await;
    let newest_lat = centre.0 + (POINTS_PER_TRUCK - 1) as f64 / 1000.0;
    let mut settled = false;
    for _ in 0..60 {
        let mut at_newest = 0;
        let mut history = 0;
        for User { id, .. } in &trucks {
            let position = store.latest_position(&UserId::parse(id).unwrap()).await.unwrap();
            if position.is_some_and(|p| (p.point.lat - newest_lat).abs() < 1e-9) {
                at_newest += 1;
            }
            history += history_count(&store, id).await;
        }
        if at_newest == TRUCKS && history == (TRUCKS * POINTS_PER_TRUCK) as i32 {
            settled = true;
            break;
        }
        assert!(history <= (TRUCKS * POINTS_PER_TRUCK) as i32, "the trucks' tracks show duplicates: {history}");
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
    assert!(settled, "the positions or the history never matched what was sent");
    // AND once everything was processed, no older point overwrote a newer one
    tokio::time::sleep(Duration::from_secs(3)).await;
    for User { id, .. } in &trucks {
        let position = store.latest_position(&UserId::parse(id).unwrap()).await.unwrap().unwrap();
        assert!((position.point.lat - newest_lat).abs() < 1e-9, "{id}: {}", position.point.lat);
    }
    // AND the gps-ingest URL serves nothing else: a truck's accept is an unknown route there
    let accept = api.call("POST", "/v1/bookings/b-1/accept", Some(&trucks[0]), None).await;
    assert_eq!((accept.status, accept.error_code()), (404, "route_not_found"), "{}", accept.body);
}

/// Makes the DynamoDB emulator answer the next `count` calls of `operation` with a throttling
/// error (see localstack/moto_serialized.py); returns what the emulator says is left to serve.
async fn throttle(operation: &str, count: u32) -> serde_json::Value {
    let url = format!("{}/_weelo/faults", std::env::var("AWS_ENDPOINT_URL_DYNAMODB").unwrap());
    let body = json!({"operation": operation, "count": count, "error": "ProvisionedThroughputExceededException"});
    reqwest::Client::new().post(url).json(&body).send().await.unwrap().json().await.unwrap()
}

async fn faults_left() -> serde_json::Value {
    let url = format!("{}/_weelo/faults", std::env::var("AWS_ENDPOINT_URL_DYNAMODB").unwrap());
    reqwest::get(url).await.unwrap().json().await.unwrap()
}

#[tokio::test]
async fn throttled_dynamodb_writes_are_retried_and_no_gps_point_is_lost_or_doubled() {
    // GIVEN the location mapping running the real location-consumer, and DynamoDB about to throttle
    // position and history writes more often than the SDK's own three attempts absorb
    let api = e2e_api();
    let _bridge = InProcessBridge::start("location-consumer", "location.updated", real_functions()).await;
    let centre = private_city();
    let trucks: Vec<User> = (0..3).map(|_| User::new("transporter")).collect();
    throttle("PutItem", 7).await;
    throttle("BatchWriteItem", 7).await;

    // WHEN each truck sends 20 points in two requests
    for truck in &trucks {
        for part in 0..2 {
            let points: Vec<_> = (0..10)
                .map(|i| {
                    let n = part * 10 + i;
                    let at = chrono::Utc::now() - chrono::Duration::seconds(60 - n);
                    json!({"lat": centre.0 + n as f64 / 1000.0, "lng": centre.1, "recordedAt": at.to_rfc3339()})
                })
                .collect();
            let sent = api.call("POST", "/v1/tracking/location", Some(truck), Some(json!({"points": points}))).await;
            assert_eq!(sent.status, 202, "{sent:?}");
        }
    }

    // THEN the throttling was served, and still every truck ends on its newest point with exactly
    // its 20 points in the history
    let store = store().await;
    let newest_lat = centre.0 + 19.0 / 1000.0;
    let mut settled = false;
    for _ in 0..60 {
        let mut done = 0;
        for User { id, .. } in &trucks {
            let position = store.latest_position(&UserId::parse(id).unwrap()).await.unwrap();
            let history = history_count(&store, id).await;
            assert!(history <= 20, "the track of {id} shows duplicates: {history}");
            if position.is_some_and(|p| (p.point.lat - newest_lat).abs() < 1e-9) && history == 20 {
                done += 1;
            }
        }
        // The throttled position writes may still be on their retries when the history is whole:
        // a position is written only with a geo index write, and read from the history.
        let left = faults_left().await;
        let served = |operation: &str| left[operation]["remaining"] == 0;
        if done == trucks.len() && served("PutItem") && served("BatchWriteItem") {
            settled = true;
            break;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    let left = faults_left().await;
    assert!(settled, "the history never matched what was sent, or the faults were not all served: {left}");
    assert_eq!(left["PutItem"]["remaining"], 0, "{left}");
    assert_eq!(left["BatchWriteItem"]["remaining"], 0, "{left}");
}

/// Resumes the DynamoDB emulator when dropped, so a failing assertion never leaves it frozen.
struct DynamoDbPaused;

impl DynamoDbPaused {
    fn now() -> Self {
        local_stack(&["pause", "dynamodb"]);
        Self
    }
}

impl Drop for DynamoDbPaused {
    fn drop(&mut self) {
        local_stack(&["resume", "dynamodb"]);
    }
}

#[tokio::test]
async fn a_dynamodb_outage_during_a_batch_fails_it_fast_and_the_retry_loses_and_doubles_nothing() {
    // GIVEN the location mapping in provisioned mode running the real location-consumer, which
    // answers a failed partition with a partial batch response
    outage_is_redelivered_losing_and_doubling_nothing(real_functions(), false).await;
}

#[tokio::test]
async fn behind_an_on_demand_mapping_an_outage_is_answered_with_an_error_and_nothing_is_lost_or_doubled() {
    // GIVEN the location mapping in on-demand mode (the small profile), which reads no partial
    // batch response, and the real location-consumer answering failures with a function error
    let functions = PrivateFunctions::start(9048, &[("KAFKA_FAILURE_REPORTING", "function-error".into())], &[]).await;
    let invoker = HttpInvoker { client: reqwest::Client::new(), base_url: functions.url.clone() };
    outage_is_redelivered_losing_and_doubling_nothing(invoker, true).await;
}

/// GIVEN the location mapping (on demand or not) invoking the real location-consumer through
/// `functions`, and the DynamoDB emulator frozen (it accepts connections and never answers: an
/// outage, not a refusal); WHEN trucks send points; THEN a batch failed during the outage, and
/// once DynamoDB is back every truck ends on its newest point with exactly its points in the
/// history, and nothing went to the mapping's on-failure destination.
async fn outage_is_redelivered_losing_and_doubling_nothing(functions: HttpInvoker, on_demand: bool) {
    let _api = e2e_api();
    let failures = Arc::new(AtomicUsize::new(0));
    let invoker = FailureCountingInvoker { inner: functions, failures: failures.clone() };
    let bridge = InProcessBridge::start_in_mode("location-consumer", "location.updated", invoker, on_demand).await;
    let centre = private_city();
    let trucks: Vec<User> = (0..3).map(|_| User::new("transporter")).collect();
    let outage = DynamoDbPaused::now();

    // WHEN each truck sends 20 points while it is frozen, and it stays frozen until an invocation
    // has failed (the SDK gives up after its 10 s operation timeout, well inside the function's
    // 60 s), or 60 s have passed: a fixed wait raced the bridge's first poll on a slow machine
    let api = e2e_api();
    for truck in &trucks {
        let points: Vec<_> = (0..20)
            .map(|n| {
                let at = chrono::Utc::now() - chrono::Duration::seconds(60 - n);
                json!({"lat": centre.0 + n as f64 / 1000.0, "lng": centre.1, "recordedAt": at.to_rfc3339()})
            })
            .collect();
        let sent = api.call("POST", "/v1/tracking/location", Some(truck), Some(json!({"points": points}))).await;
        assert_eq!(sent.status, 202, "{sent:?}");
    }
    eventually(60, async || failures.load(Ordering::SeqCst) >= 1).await;
    drop(outage);

    // THEN the batch failed during the outage (so the mapping redelivered it), and once DynamoDB is
    // back every truck ends on its newest point with exactly its 20 points in the history
    assert!(failures.load(Ordering::SeqCst) >= 1, "no invocation failed while DynamoDB was frozen");
    let store = store().await;
    let newest_lat = centre.0 + 19.0 / 1000.0;
    let settled = eventually(120, async || {
        let mut done = 0;
        for User { id, .. } in &trucks {
            let position = store.latest_position(&UserId::parse(id).unwrap()).await.unwrap();
            let history = history_count(&store, id).await;
            assert!(history <= 20, "the track of {id} shows duplicates: {history}");
            done += usize::from(position.is_some_and(|p| (p.point.lat - newest_lat).abs() < 1e-9) && history == 20);
        }
        done == trucks.len()
    })
    .await;
    assert!(settled, "positions or history never matched what was sent after the outage");
    // AND nothing was given up on
    assert!(bridge.dead_letters().await.is_empty(), "the outage's batch was dead-lettered");
}

#[tokio::test]
async fn gps_ingest_counts_every_request_in_few_metric_lines_and_writes_what_it_held_when_it_ends() {
    // GIVEN a local Lambda service of this test's own, running gps-ingest as functions.json
    // configures it (its metric lines held back up to 10 s, METRICS_FLUSH_SECONDS)
    let service = PrivateFunctions::start(9049, &[], &[]).await;
    let gps = ApiClient::over_http(&format!("{}/lambda-url/gps-ingest", service.url));
    let truck = User::new("transporter");
    let centre = private_city();
    const REQUESTS: usize = 30;

    // WHEN a truck sends 30 requests of one point each, one after the other
    for n in 0..REQUESTS {
        let point = json!({"lat": centre.0 + n as f64 / 10_000.0, "lng": centre.1,
                           "recordedAt": chrono::Utc::now().to_rfc3339()});
        assert_eq!(gps.call("POST", "/v1/tracking/location", Some(&truck), Some(point)).await.status, 202);
    }
    // AND then its environment ends, as Lambda ends an idle one (SIGTERM, then SIGKILL)
    let log = service.log.clone();
    drop(service);

    // THEN its lines count every record it published, 30, in fewer lines than requests
    let (ok, summary) = weelo_ops(&["metrics", &log]);
    assert!(ok, "{summary}");
    let published = summary
        .lines()
        .find(|l| l.starts_with("gps-ingest") && l.split_whitespace().nth(1) == Some("Published"))
        .and_then(|l| l.split_whitespace().nth(2)?.parse::<f64>().ok());
    assert_eq!(published, Some(REQUESTS as f64), "{summary}");
    let text = std::fs::read_to_string(&log).expect("the service's log");
    let lines = text.lines().filter(|l| l.contains(r#""Function":"gps-ingest""#) && l.contains(r#""Published""#));
    assert!(lines.count() < REQUESTS, "a metric line a request:\n{text}");
}
