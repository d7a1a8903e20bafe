//! Helpers for tests against the native local stack (`make test` exports its environment from
//! `.local/stack.env`), shared by the api's tests, the consumers' tests, the end-to-end flows and the
//! benchmark. Every helper works on data the calling test made itself, so tests can run in
//! parallel against a stack that holds other data.
//!
//! # Layout
//! - [`api`]: the one client of the api (in-process or over HTTP) and the one user type.
//! - here: the stack's environment and its DynamoDB store, unique ids and places, dev tokens, MSK events, topic reads,
//!   moto's record of pushes, breaking and mending the stack.

pub mod api;

use aws_lambda_events::kafka::KafkaEvent;
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::sync::Once;
use std::time::{Duration, Instant};
use weelo_core::contract::events::EventRecord;
use weelo_msk::ConsumedRecord;

/// A store on the stack's tables, for a test to seed and inspect what a function reads and writes.
/// A new one each call: an SDK client belongs to the runtime of the test that made it.
pub async fn store() -> weelo_dynamo::DynamoStore {
    init();
    weelo_dynamo::StoreSettings::from_env().expect("the stack's table names").connect().await.1
}

/// Panics with instructions when the stack's environment is missing; turns on logs when
/// `WEELO_TEST_LOG` is set (e.g. `debug`).
pub fn init() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if let Ok(filter) = std::env::var("WEELO_TEST_LOG") {
            tracing_subscriber::fmt().with_env_filter(filter).with_test_writer().init();
        }
    });
    assert!(
        std::env::var("TABLE_BOOKINGS").is_ok(),
        "the local stack's environment is not set: run `make test`, or `localstack/stack.sh start` and \
         `set -a; . .local/stack.env; set +a` before `cargo test`"
    );
}

/// A fresh id, so tests never see each other's data.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

/// A city centre no other test or run uses, so matching around it finds only the transporters the
/// test put there: a random point between 55° S and 55° N, anywhere in longitude. Matching reaches
/// about 24 km, and two such points fall that close about once in 100,000 pairs (a band of India
/// alone made it about once in 1,500, and the geo index keeps positions for 15 minutes).
pub fn private_city() -> (f64, f64) {
    let bits = uuid::Uuid::new_v4().as_u128();
    let lat = -55.0 + (bits % 11_000) as f64 / 100.0;
    let lng = -179.0 + ((bits >> 32) % 35_800) as f64 / 100.0;
    (lat, lng)
}

/// A development token for `sub` with `role`, valid for `lifetime_secs` (negative: already expired).
pub fn token_for(sub: &str, role: &str, lifetime_secs: i64) -> String {
    weelo_local::dev_tokens::dev_token(sub, role, lifetime_secs).expect("minting a dev token")
}

/// An MSK event as an event-source mapping delivers it, holding `records` on partition 0 of their
/// topics from offset `first_offset` on.
pub fn msk_event(records: &[EventRecord], first_offset: i64) -> KafkaEvent {
    let consumed: Vec<ConsumedRecord> = records
        .iter()
        .enumerate()
        .map(|(i, record)| {
            consumed(&record.topic, 0, first_offset + i as i64, record.key.as_bytes(), record.payload.as_bytes())
        })
        .collect();
    msk_event_of(&consumed)
}

/// An MSK event as an event-source mapping delivers it, holding exactly these records.
pub fn msk_event_of(records: &[ConsumedRecord]) -> KafkaEvent {
    weelo_msk::encode("arn:aws:kafka:test", None, records)
}

/// One consumed record with the given raw value (which need not be a valid event).
pub fn consumed(topic: &str, partition: i32, offset: i64, key: &[u8], value: &[u8]) -> ConsumedRecord {
    ConsumedRecord {
        topic: topic.to_owned(),
        partition,
        offset,
        timestamp_ms: Utc::now().timestamp_millis(),
        key: Some(key.to_vec()),
        value: Some(value.to_vec()),
        headers: vec![],
    }
}

/// Records on `topic` since `since` that match `predicate`. Waits up to 12 s until `expected` of
/// them are read and so is everything the topic held when the read began, then 2 s more, so a
/// duplicate arriving right behind them is seen too (with `expected` 0: nothing matched).
pub async fn records_matching(
    topic: &str, since: DateTime<Utc>, expected: usize, predicate: impl Fn(&ConsumedRecord) -> bool + Send + 'static,
) -> Vec<ConsumedRecord> {
    let config = weelo_kafka::KafkaConfig::from_env().expect("Kafka configuration");
    let topic = topic.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut complete_since: Option<Instant> = None;
        let records =
            weelo_kafka::read_records(&config, &topic, since, Duration::from_secs(12), |records, read_all| {
                if complete_since.is_none() && read_all && records.iter().filter(|r| predicate(r)).count() >= expected {
                    complete_since = Some(Instant::now());
                }
                complete_since.is_some_and(|at| at.elapsed() > Duration::from_secs(2))
            })
            .expect("reading the topic");
        records.into_iter().filter(|r| predicate(r)).collect()
    })
    .await
    .expect("reader task")
}

/// Records on `topic` since `since` whose key is `key` (see [`records_matching`]).
pub async fn records_with_key(topic: &str, key: &str, since: DateTime<Utc>, expected: usize) -> Vec<ConsumedRecord> {
    let key = key.to_owned();
    records_matching(topic, since, expected, move |r| r.key_text().as_deref() == Some(key.as_str())).await
}

/// Records on `topic` since `since` whose key is `key` and whose CloudEvents type is `ty` (as
/// `com.weelo.booking.accepted.v1`; see [`records_matching`]).
pub async fn records_of_type(
    topic: &str, key: &str, ty: &str, since: DateTime<Utc>, expected: usize,
) -> Vec<ConsumedRecord> {
    let (key, ty) = (key.to_owned(), ty.to_owned());
    records_matching(topic, since, expected, move |r| {
        r.key_text().as_deref() == Some(key.as_str())
            && serde_json::from_str::<Value>(&r.value_text()).is_ok_and(|event| event["type"] == ty.as_str())
    })
    .await
}

/// The CloudEvent of a consumed record, parsed.
pub fn cloud_event(record: &ConsumedRecord) -> Value {
    serde_json::from_str(&record.value_text()).expect("a JSON CloudEvent")
}

/// Every SNS platform endpoint moto holds, with the messages pushed to it (its `/moto-api/data.json`).
pub async fn sns_platform_endpoints() -> Vec<Value> {
    let base = std::env::var("AWS_ENDPOINT_URL").expect("AWS_ENDPOINT_URL");
    let data: Value = reqwest::get(format!("{base}/moto-api/data.json"))
        .await
        .expect("moto answers")
        .json()
        .await
        .expect("moto's data is JSON");
    data["sns"]["PlatformEndpoint"].as_array().cloned().unwrap_or_default()
}

/// The pushes moto's SNS recorded for `endpoint_arn`: the SNS messages as published, parsed.
pub async fn pushes_to_endpoint(endpoint_arn: &str) -> Vec<Value> {
    sns_platform_endpoints()
        .await
        .iter()
        .filter(|e| e["arn"].as_str() == Some(endpoint_arn))
        .flat_map(|e| e["messages"].as_object().cloned().unwrap_or_default().into_values())
        .map(|m| m.as_str().and_then(|text| serde_json::from_str(text).ok()).unwrap_or(m))
        .collect()
}

/// Runs `localstack/stack.sh` with `args` (`stop-kafka`, `start-kafka`, `pause NAME`, `resume NAME`):
/// how the fault tests break and mend the shared local stack.
pub fn local_stack(args: &[&str]) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../localstack/stack.sh");
    let status =
        std::process::Command::new("bash").arg(script).args(args).status().expect("running localstack/stack.sh");
    assert!(status.success(), "localstack/stack.sh {args:?} failed");
}
