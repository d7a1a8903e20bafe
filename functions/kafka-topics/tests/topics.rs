//! The `kafka-topics` handler against the local Kafka broker.

use lambda_runtime::{Context, LambdaEvent};
use rdkafka::admin::{AdminClient, AdminOptions, AlterConfig, ConfigSource, ResourceSpecifier};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Duration;
use weelo_kafka_topics::{Settings, TopicsReport, handle};
use weelo_testkit::unique;

const WEEK_MS: i64 = 604_800_000;

fn request(names: &[String]) -> LambdaEvent<weelo_kafka_topics::TopicsRequest> {
    request_with(names, 3, WEEK_MS)
}

fn request_with(
    names: &[String], partitions: i32, retention_ms: i64,
) -> LambdaEvent<weelo_kafka_topics::TopicsRequest> {
    let topics: Vec<_> =
        names.iter().map(|n| json!({"name": n, "partitions": partitions, "retentionMs": retention_ms})).collect();
    let payload = serde_json::from_value(json!({"$comment": "as in topics.json", "topics": topics})).unwrap();
    LambdaEvent::new(payload, Context::default())
}

/// How many partitions the broker lists for `topic` once it lists `expected`, or as last read after
/// 30 s (0: not listed). Like configurations, a broker's metadata follows the controller's changes
/// with a delay.
fn partitions_once(bootstrap: &Settings, topic: &str, expected: usize) -> usize {
    let consumer: BaseConsumer = bootstrap.kafka.client_config().create().unwrap();
    let mut last = 0;
    for _ in 0..60 {
        let metadata = consumer.fetch_metadata(Some(topic), Duration::from_secs(10)).unwrap();
        last = metadata.topics().iter().filter(|t| t.error().is_none()).map(|t| t.partitions().len()).sum();
        if last == expected {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    last
}

/// The topic's configuration overrides (`retention.ms`, and whatever an operator set) once `key`
/// reads `expected`, or as last read after 30 s. A broker answers from its copy of the cluster
/// metadata, which follows the controller's changes with a delay, so a read right after a change
/// can still show the value before it.
async fn overrides_once(bootstrap: &Settings, topic: &str, key: &str, expected: &str) -> BTreeMap<String, String> {
    let admin: AdminClient<DefaultClientContext> = bootstrap.kafka.client_config().create().unwrap();
    let mut last = BTreeMap::new();
    for _ in 0..60 {
        let described = admin.describe_configs([&ResourceSpecifier::Topic(topic)], &AdminOptions::new()).await.unwrap();
        if let Some(Ok(resource)) = described.into_iter().next() {
            last = resource
                .entries
                .into_iter()
                .filter(|e| e.source == ConfigSource::DynamicTopic)
                .map(|e| (e.name, e.value.unwrap_or_default()))
                .collect();
            if last.get(key).map(String::as_str) == Some(expected) {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    last
}

#[tokio::test]
async fn topics_are_created_once_with_their_partitions_and_found_existing_afterwards() {
    // GIVEN two topic definitions that the broker does not have
    weelo_testkit::init();
    let bootstrap = Settings::from_env().unwrap();
    let names = vec![unique("bootstrap-a"), unique("bootstrap-b")];

    // WHEN the function is invoked twice with them
    let first = handle(&bootstrap, request(&names)).await.unwrap();
    let second = handle(&bootstrap, request(&names)).await.unwrap();

    // THEN the first run creates both with three partitions, and the second finds both existing
    let mut created = first.created.clone();
    created.sort();
    let mut expected = names.clone();
    expected.sort();
    assert_eq!(created, expected);
    assert_eq!((first.updated, first.existing), (vec![], vec![]));
    assert_eq!(second, TopicsReport { created: vec![], updated: vec![], existing: names.clone() });
    for name in &names {
        assert_eq!(partitions_once(&bootstrap, name, 3), 3, "{name}");
        let overrides = overrides_once(&bootstrap, name, "retention.ms", "604800000").await;
        assert_eq!(overrides.get("retention.ms").map(String::as_str), Some("604800000"));
    }
}

#[tokio::test]
async fn a_definition_asking_for_more_partitions_and_other_retention_updates_the_topic_and_keeps_other_overrides() {
    // GIVEN a topic made from a definition, on which an operator has since set another override
    weelo_testkit::init();
    let bootstrap = Settings::from_env().unwrap();
    let name = unique("bootstrap-grow");
    handle(&bootstrap, request(std::slice::from_ref(&name))).await.unwrap();
    assert_eq!(partitions_once(&bootstrap, &name, 3), 3, "the broker lists the new topic");
    let admin: AdminClient<DefaultClientContext> = bootstrap.kafka.client_config().create().unwrap();
    let operator = AlterConfig::new(ResourceSpecifier::Topic(&name))
        .set("retention.ms", "604800000")
        .set("max.message.bytes", "2000000");
    admin.alter_configs([&operator], &AdminOptions::new()).await.unwrap().remove(0).unwrap();

    overrides_once(&bootstrap, &name, "max.message.bytes", "2000000").await;

    // WHEN the definition is changed to 6 partitions and 3 days, and applied twice
    let three_days = (3 * 24 * 3_600_000).to_string();
    let first =
        handle(&bootstrap, request_with(std::slice::from_ref(&name), 6, three_days.parse().unwrap())).await.unwrap();
    let after = overrides_once(&bootstrap, &name, "retention.ms", &three_days).await;
    let second =
        handle(&bootstrap, request_with(std::slice::from_ref(&name), 6, three_days.parse().unwrap())).await.unwrap();

    // THEN the first run reports both changes and makes them, keeping the operator's override;
    // the second (once the broker shows the first's changes) finds nothing to do
    assert_eq!(
        first.updated,
        [format!("{name}: partitions 3 → 6"), format!("{name}: retention.ms 604800000 → {three_days}")]
    );
    assert_eq!(partitions_once(&bootstrap, &name, 6), 6);
    assert_eq!(after.get("retention.ms"), Some(&three_days));
    assert_eq!(after.get("max.message.bytes").map(String::as_str), Some("2000000"));
    assert_eq!(second, TopicsReport { created: vec![], updated: vec![], existing: vec![name] });
}

#[tokio::test]
async fn a_definition_with_fewer_partitions_than_its_topic_is_refused_and_nothing_changes() {
    // GIVEN a topic with 3 partitions and one week's retention
    weelo_testkit::init();
    let bootstrap = Settings::from_env().unwrap();
    let existing = unique("bootstrap-shrink");
    let missing = unique("bootstrap-shrink-new");
    handle(&bootstrap, request(std::slice::from_ref(&existing))).await.unwrap();
    assert_eq!(partitions_once(&bootstrap, &existing, 3), 3, "the broker lists the new topic");

    // WHEN definitions ask for 2 partitions and one day, beside a topic that does not exist yet
    let payload = serde_json::from_value(json!({"topics": [
        {"name": existing, "partitions": 2, "retentionMs": 86_400_000},
        {"name": missing, "partitions": 3, "retentionMs": WEEK_MS},
    ]}))
    .unwrap();
    let refused = handle(&bootstrap, LambdaEvent::new(payload, Context::default())).await.unwrap_err();

    // THEN the invocation fails naming the topic, which is unchanged, and the new topic is not made
    assert!(refused.to_string().contains(&format!("{existing}: defined with 2 partitions, has 3")), "{refused}");
    assert_eq!(partitions_once(&bootstrap, &existing, 3), 3);
    let overrides = overrides_once(&bootstrap, &existing, "retention.ms", "604800000").await;
    assert_eq!(overrides.get("retention.ms").map(String::as_str), Some("604800000"));
    let consumer: BaseConsumer = bootstrap.kafka.client_config().create().unwrap();
    let all = consumer.fetch_metadata(None, Duration::from_secs(10)).unwrap();
    assert!(all.topics().iter().all(|t| t.name() != missing), "{missing} was created");
}

#[tokio::test]
async fn a_retention_the_broker_refuses_fails_the_invocation_with_the_brokers_reason() {
    // GIVEN a topic with one week's retention
    weelo_testkit::init();
    let bootstrap = Settings::from_env().unwrap();
    let name = unique("bootstrap-invalid");
    handle(&bootstrap, request(std::slice::from_ref(&name))).await.unwrap();
    assert_eq!(partitions_once(&bootstrap, &name, 3), 3, "the broker lists the new topic");

    // WHEN its definition asks for a retention below -1 (which Kafka does not accept)
    let refused = handle(&bootstrap, request_with(std::slice::from_ref(&name), 3, -2)).await.unwrap_err();

    // THEN the invocation fails naming the topic and the broker's reason, and the retention stays
    let message = refused.to_string();
    assert!(message.contains(&format!("setting retention.ms of {name}")), "{message}");
    assert!(message.contains("InvalidConfig") || message.contains("Invalid value"), "{message}");
    let overrides = overrides_once(&bootstrap, &name, "retention.ms", "604800000").await;
    assert_eq!(overrides.get("retention.ms").map(String::as_str), Some("604800000"));
}

#[tokio::test]
async fn an_empty_request_is_refused() {
    // GIVEN a payload without topics  WHEN it is handled  THEN the invocation fails
    weelo_testkit::init();
    let bootstrap = Settings::from_env().unwrap();
    let payload = serde_json::from_value(json!({"topics": []})).unwrap();
    assert!(handle(&bootstrap, LambdaEvent::new(payload, Context::default())).await.is_err());
}
