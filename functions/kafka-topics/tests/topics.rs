//! The `kafka-topics` handler against the local Kafka broker.

use lambda_runtime::{Context, LambdaEvent};
use rdkafka::consumer::{BaseConsumer, Consumer};
use serde_json::json;
use std::time::Duration;
use weelo_kafka_topics::{Bootstrap, TopicsReport, handle};
use weelo_testkit::unique;

fn request(names: &[String]) -> LambdaEvent<weelo_kafka_topics::TopicsRequest> {
    let topics: Vec<_> =
        names.iter().map(|n| json!({"name": n, "partitions": 3, "retentionMs": 604_800_000})).collect();
    let payload = serde_json::from_value(json!({"$comment": "as in topics.json", "topics": topics})).unwrap();
    LambdaEvent::new(payload, Context::default())
}

#[tokio::test]
async fn topics_are_created_once_with_their_partitions_and_found_existing_afterwards() {
    // GIVEN two topic definitions that the broker does not have
    weelo_testkit::init();
    let bootstrap = Bootstrap::from_env().unwrap();
    let names = vec![unique("bootstrap-a"), unique("bootstrap-b")];

    // WHEN the function is invoked twice with them
    let first = handle(&bootstrap, request(&names)).await.unwrap();
    let second = handle(&bootstrap, request(&names)).await.unwrap();

    // THEN the first run creates both with three partitions, and the second finds both existing
    let mut created = first.created.clone();
    created.sort();
    let mut expected = names.clone();
    expected.sort();
    assert_eq!(TopicsReport { created, existing: vec![] }, TopicsReport { created: expected, existing: vec![] });
    assert_eq!(second, TopicsReport { created: vec![], existing: names.clone() });
    let consumer: BaseConsumer = bootstrap.kafka.client_config().create().unwrap();
    for name in &names {
        let metadata = consumer.fetch_metadata(Some(name), Duration::from_secs(10)).unwrap();
        assert_eq!(metadata.topics()[0].partitions().len(), 3, "{name}");
    }
}

#[tokio::test]
async fn an_empty_request_is_refused() {
    // GIVEN a payload without topics  WHEN it is handled  THEN the invocation fails
    weelo_testkit::init();
    let bootstrap = Bootstrap::from_env().unwrap();
    let payload = serde_json::from_value(json!({"topics": []})).unwrap();
    assert!(handle(&bootstrap, LambdaEvent::new(payload, Context::default())).await.is_err());
}
