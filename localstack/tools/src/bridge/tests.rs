//! The bridge against the real local broker and moto's SQS and S3, with scripted functions that
//! crash, time out, return garbage, or report a poison record.
use super::*;
use aws_lambda_events::kafka::KafkaEvent;
use base64::Engine;
use rdkafka::producer::{FutureProducer, FutureRecord};
use std::collections::BTreeSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// What a scripted function does on its n-th invocation (0-based), given the batch's values.
type Script = dyn Fn(usize, &[String]) -> Behaviour + Send + Sync;

enum Behaviour {
    Succeed,
    Crash,
    Hang,
    Garbage,
    FailAt(i64),
}

struct ScriptedFunction {
    calls: AtomicUsize,
    script: Box<Script>,
    /// (offset, value) of records in invocations that succeeded, for each such record.
    processed: Mutex<Vec<(i64, String)>>,
}

impl Invoke for ScriptedFunction {
    async fn invoke(&self, _function: &str, payload: Vec<u8>) -> Result<Vec<u8>, InvokeError> {
        let call = self.calls.fetch_add(1, Ordering::SeqCst);
        let event: KafkaEvent = serde_json::from_slice(&payload).expect("the bridge sends MSK events");
        assert_eq!(event.event_source.as_deref(), Some("aws:kafka"));
        let mut records: Vec<(String, i64, String)> = Vec::new();
        for (key, batch) in &event.records {
            for r in batch {
                assert_eq!(key, &format!("{}-{}", r.topic.as_deref().unwrap(), r.partition));
                let value = base64::engine::general_purpose::STANDARD.decode(r.value.as_deref().unwrap()).unwrap();
                records.push((key.clone(), r.offset, String::from_utf8(value).unwrap()));
            }
        }
        let values: Vec<String> = records.iter().map(|r| r.2.clone()).collect();
        match (self.script)(call, &values) {
            Behaviour::Succeed => {
                self.processed.lock().unwrap().extend(records.iter().map(|r| (r.1, r.2.clone())));
                Ok(b"null".to_vec())
            }
            Behaviour::Crash => Err(InvokeError::Function("process exited".into())),
            Behaviour::Hang => {
                tokio::time::sleep(Duration::from_secs(5)).await;
                Ok(b"null".to_vec())
            }
            Behaviour::Garbage => Ok(b"\x00not json".to_vec()),
            Behaviour::FailAt(offset) => {
                let partition = records[0].0.clone();
                self.processed
                    .lock()
                    .unwrap()
                    .extend(records.iter().filter(|r| r.1 < offset).map(|r| (r.1, r.2.clone())));
                let response = serde_json::json!({"batchItemFailures": [{"itemIdentifier": {"partition": partition, "offset": offset}}]});
                Ok(response.to_string().into_bytes())
            }
        }
    }
}

struct Setup {
    kafka: KafkaConfig,
    mapping: Mapping,
    dead_letters: DeadLetters,
    queue_url: String,
}

/// A fresh one-partition topic holding `values`, and a fresh dead-letter queue.
async fn setup(values: &[&str]) -> Setup {
    assert!(std::env::var("KAFKA_BOOTSTRAP_SERVERS").is_ok(), "start the local stack and export .local/stack.env");
    let kafka = KafkaConfig::from_env().unwrap();
    let suffix = uuid_suffix();
    let topic = format!("bridge-test-{suffix}");
    weelo_kafka::ensure_topics(
        &kafka,
        &[weelo_kafka::TopicDefinition { name: topic.clone(), partitions: 1, retention_ms: 3_600_000 }],
        1,
    )
    .await
    .unwrap();
    let producer: FutureProducer<KafkaContext> =
        kafka.client_config().create_with_context(KafkaContext::default()).unwrap();
    for value in values {
        producer.send(FutureRecord::to(&topic).key("k").payload(*value), Duration::from_secs(10)).await.unwrap();
    }
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let dead_letters = DeadLetters::new(&aws, String::new());
    let queue = format!("bridge-test-dlq-{suffix}");
    let queue_url = dead_letters.sqs.create_queue().queue_name(&queue).send().await.unwrap().queue_url.unwrap();
    let mapping = Mapping {
        function: "scripted".into(),
        topic,
        batch_size: 4,
        maximum_batching_window_seconds: 1,
        starting_position: "TRIM_HORIZON".into(),
        maximum_retry_attempts: 3,
        bisect_batch_on_function_error: true,
        function_timeout_seconds: 1,
        on_failure: queue,
        on_failure_kind: OnFailureKind::Sqs,
        group_suffix: String::new(),
        poller_group: "records".into(),
        on_demand: false,
    };
    Setup { kafka, mapping, dead_letters, queue_url }
}

/// [`setup`] with the mapping's failed batches going to a fresh S3 bucket instead; its name.
async fn setup_with_bucket(values: &[&str]) -> (Setup, String) {
    let mut setup = setup(values).await;
    let bucket = format!("bridge-test-failures-{}", uuid_suffix());
    let region = std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".into());
    crate::provision::bucket(&setup.dead_letters.s3, &bucket, &region).await.unwrap();
    setup.mapping.on_failure = bucket.clone();
    setup.mapping.on_failure_kind = OnFailureKind::S3;
    (setup, bucket)
}

/// Every object of `bucket`: (key, body as JSON).
async fn objects(s3: &aws_sdk_s3::Client, bucket: &str) -> Vec<(String, serde_json::Value)> {
    let listed = s3.list_objects_v2().bucket(bucket).send().await.unwrap();
    let mut found = Vec::new();
    for key in listed.contents().iter().filter_map(|o| o.key()) {
        let body = s3.get_object().bucket(bucket).key(key).send().await.unwrap().body.collect().await.unwrap();
        found.push((key.to_owned(), serde_json::from_slice(&body.into_bytes()).unwrap()));
    }
    found
}

fn uuid_suffix() -> String {
    weelo_core::model::ids::EventId::generate().to_string().replace('-', "")
}

/// Runs the mapping until `done` holds and the group has committed `commit` (or 60 s pass),
/// then stops it.
async fn run_until(setup: &Setup, function: &ScriptedFunction, commit: i64, done: impl Fn() -> bool) {
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let consumer = connect(&setup.kafka, &setup.mapping, Start::AsMapped).await.unwrap();
    let run = run_mapping(consumer, &setup.mapping, function, &setup.dead_letters, async {
        let _ = stop_rx.await;
    });
    let watch = async {
        for _ in 0..600 {
            if done() && committed(setup).await == commit {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let _ = stop_tx.send(());
    };
    let (result, ()) = tokio::join!(run, watch);
    result.unwrap();
}

async fn dead_lettered(setup: &Setup) -> Vec<serde_json::Value> {
    let output = setup
        .dead_letters
        .sqs
        .receive_message()
        .queue_url(&setup.queue_url)
        .max_number_of_messages(10)
        .send()
        .await
        .unwrap();
    output.messages.unwrap_or_default().iter().map(|m| serde_json::from_str(m.body().unwrap()).unwrap()).collect()
}

/// The offset the mapping's group has committed on the topic's one partition (-1: none).
async fn committed(setup: &Setup) -> i64 {
    let consumer: rdkafka::consumer::BaseConsumer<KafkaContext> = setup
        .kafka
        .client_config()
        .set("group.id", setup.mapping.consumer_group())
        .create_with_context(KafkaContext::default())
        .unwrap();
    let mut wanted = TopicPartitionList::new();
    wanted.add_partition(&setup.mapping.topic, 0);
    // The offset fetch waits for the broker: keep it off the runtime the bridge runs on.
    let offsets =
        tokio::task::spawn_blocking(move || consumer.committed_offsets(wanted, Duration::from_secs(10)).unwrap())
            .await
            .unwrap();
    match offsets.elements()[0].offset() {
        Offset::Offset(o) => o,
        _ => -1,
    }
}

fn values(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("record-{i}")).collect()
}

#[tokio::test]
async fn a_function_that_crashes_hangs_and_answers_garbage_before_recovering_loses_nothing() {
    // GIVEN 10 records and a function whose first three invocations crash, hang, and return garbage
    let records = values(10);
    let setup = setup(&records.iter().map(String::as_str).collect::<Vec<_>>()).await;
    let function = ScriptedFunction {
        calls: AtomicUsize::new(0),
        script: Box::new(|call, _| match call {
            0 => Behaviour::Crash,
            1 => Behaviour::Hang,
            2 => Behaviour::Garbage,
            _ => Behaviour::Succeed,
        }),
        processed: Mutex::new(Vec::new()),
    };

    // WHEN the bridge runs the mapping
    run_until(&setup, &function, 10, || function.processed.lock().unwrap().len() >= 10).await;

    // THEN every record was processed exactly once, nothing was dead-lettered, and all is committed
    let processed = function.processed.lock().unwrap().clone();
    let seen: Vec<String> = processed.iter().map(|p| p.1.clone()).collect();
    assert_eq!(seen, records);
    assert!(dead_lettered(&setup).await.is_empty());
    assert_eq!(committed(&setup).await, 10);
}

#[tokio::test]
async fn a_poison_record_is_dead_lettered_after_its_retries_and_the_rest_is_processed() {
    // GIVEN a record the function always reports as failed, between good ones
    let setup = setup(&["a", "b", "poison", "c", "d", "e"]).await;
    let function = ScriptedFunction {
        calls: AtomicUsize::new(0),
        script: Box::new(|_, values| match values.iter().position(|v| v == "poison") {
            Some(_) => Behaviour::FailAt(2),
            None => Behaviour::Succeed,
        }),
        processed: Mutex::new(Vec::new()),
    };

    // WHEN the bridge runs
    run_until(&setup, &function, 6, || function.processed.lock().unwrap().iter().any(|p| p.1 == "e")).await;

    // THEN the poison record is in the DLQ with the reason; every other record was processed
    let letters = dead_lettered(&setup).await;
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0]["offset"], 2);
    assert_eq!(letters[0]["error"], "reported as failed by the function");
    let value = base64::engine::general_purpose::STANDARD.decode(letters[0]["value"].as_str().unwrap()).unwrap();
    assert_eq!(value, b"poison");
    let processed: BTreeSet<String> = function.processed.lock().unwrap().iter().map(|p| p.1.clone()).collect();
    assert_eq!(processed, ["a", "b", "c", "d", "e"].iter().map(|s| s.to_string()).collect());
    // 1 first try + 3 retries of the batch holding the poison record, then the rest
    assert_eq!(committed(&setup).await, 6);
}

#[tokio::test]
async fn a_record_that_always_crashes_the_function_is_isolated_by_bisection() {
    // GIVEN a function that crashes on any batch holding "bad"
    let setup = setup(&["a", "b", "bad", "c"]).await;
    let function = ScriptedFunction {
        calls: AtomicUsize::new(0),
        script: Box::new(
            |_, values| if values.iter().any(|v| v == "bad") { Behaviour::Crash } else { Behaviour::Succeed },
        ),
        processed: Mutex::new(Vec::new()),
    };

    run_until(&setup, &function, 4, || function.processed.lock().unwrap().len() >= 3).await;

    // THEN only "bad" is dead-lettered, with the function's error, and the others were processed
    let letters = dead_lettered(&setup).await;
    assert_eq!(letters.len(), 1, "{letters:?}");
    assert_eq!(letters[0]["offset"], 2);
    assert!(letters[0]["error"].as_str().unwrap().contains("process exited"));
    let processed: BTreeSet<String> = function.processed.lock().unwrap().iter().map(|p| p.1.clone()).collect();
    assert_eq!(processed, ["a", "b", "c"].iter().map(|s| s.to_string()).collect());
    assert_eq!(committed(&setup).await, 4);
}

#[tokio::test]
async fn a_batch_that_keeps_failing_is_written_to_an_s3_destination_whole_in_aws_s_format() {
    // GIVEN a mapping with an S3 on-failure destination and a function that crashes on "bad"
    let (setup, bucket) = setup_with_bucket(&["a", "bad", "c"]).await;
    let function = ScriptedFunction {
        calls: AtomicUsize::new(0),
        script: Box::new(
            |_, values| if values.iter().any(|v| v == "bad") { Behaviour::Crash } else { Behaviour::Succeed },
        ),
        processed: Mutex::new(Vec::new()),
    };

    // WHEN the bridge runs
    run_until(&setup, &function, 3, || function.processed.lock().unwrap().len() >= 2).await;

    // THEN nothing went to a queue, and one object, under AWS's key layout, holds the failed
    // record's metadata and the whole event it was delivered in
    assert!(dead_lettered(&setup).await.is_empty());
    let written = objects(&setup.dead_letters.s3, &bucket).await;
    assert_eq!(written.len(), 1, "{written:?}");
    let (key, record) = &written[0];
    let partition = format!("{}-0", setup.mapping.topic);
    assert!(
        key.starts_with(&format!("aws/lambda/{}/{partition}/", destination::mapping_uuid(&setup.mapping))),
        "{key}"
    );
    assert_eq!(record["requestContext"]["condition"], "RetryAttemptsExhausted");
    assert_eq!(record["KafkaBatchInfo"]["recordsInfo"][&partition]["firstRecordOffset"], "1");
    let event: KafkaEvent = serde_json::from_str(record["payload"].as_str().unwrap()).unwrap();
    let carried = weelo_msk::decode(&event).remove(&partition).unwrap();
    assert_eq!(carried.iter().map(|r| (r.offset, r.value_text())).collect::<Vec<_>>(), [(1, "bad".to_owned())]);
    assert_eq!(committed(&setup).await, 3);
}

#[tokio::test]
async fn an_on_demand_mapping_redelivers_a_failing_batch_past_any_limit_and_never_reads_the_answer() {
    // GIVEN a mapping in on-demand mode, and a function that crashes more often than the
    // provisioned retry limit (3) allows, then answers a partial batch response failing "b"
    let mut setup = setup(&["a", "b", "c"]).await;
    setup.mapping.on_demand = true;
    let function = ScriptedFunction {
        calls: AtomicUsize::new(0),
        script: Box::new(|call, _| if call < 5 { Behaviour::Crash } else { Behaviour::FailAt(1) }),
        processed: Mutex::new(Vec::new()),
    };

    // WHEN the bridge runs
    run_until(&setup, &function, 3, || function.calls.load(Ordering::SeqCst) >= 6).await;

    // THEN the crashes were delivered again, whole, and nothing was dead-lettered
    assert_eq!(function.calls.load(Ordering::SeqCst), 6);
    assert!(dead_lettered(&setup).await.is_empty());
    // AND the partial batch response counted as success: "b" and "c" were committed unprocessed,
    // which is why a consumer behind an on-demand mapping answers a failure with an error
    // (KAFKA_FAILURE_REPORTING=function-error)
    let processed: Vec<String> = function.processed.lock().unwrap().iter().map(|p| p.1.clone()).collect();
    assert_eq!(processed, ["a"]);
    assert_eq!(committed(&setup).await, 3);
}
