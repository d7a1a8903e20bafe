//! The local MSK event-source-mapping bridge: what AWS Lambda's MSK event-source mappings do, for
//! functions run by the local Lambda service (`weelo-local functions`). For each mapping of
//! `infra/definitions/event-source-mappings.json` it consumes the topic with the mapping's own
//! consumer group, batches by size and window, invokes the function with the event exactly as
//! Lambda delivers it, honours partial batch responses, retries with backoff, bisects batches that
//! make the function fail, dead-letters what still fails to the mapping's SQS queue, and commits
//! offsets only after success or dead-lettering.

use aws_lambda_events::kafka::KafkaEvent;
use base64::Engine;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::{Message, OwnedMessage};
use rdkafka::{Offset, TopicPartitionList};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use weelo_consumer::BatchResponse;
use weelo_kafka::{KafkaConfig, KafkaContext};

pub use weelo_consumer::mappings::{Mapping, load_mappings};

/// Why an invocation did not produce a usable answer.
#[derive(Debug, thiserror::Error)]
pub enum InvokeError {
    #[error("function error: {0}")]
    Function(String),
    #[error("function timed out after {0:?}")]
    Timeout(Duration),
    #[error("invalid response: {0}")]
    InvalidResponse(String),
}

/// Calls a function with a payload; the HTTP implementation talks to the local Lambda service.
pub trait Invoke: Send + Sync {
    fn invoke(
        &self,
        function: &str,
        payload: Vec<u8>,
    ) -> impl std::future::Future<Output = Result<Vec<u8>, InvokeError>> + Send;
}

/// Lambda's Invoke API (`POST /2015-03-31/functions/{name}/invocations`), as the local Lambda
/// service (`weelo-local functions`) serves it.
pub struct HttpInvoker {
    pub client: reqwest::Client,
    pub base_url: String,
}

impl Invoke for HttpInvoker {
    async fn invoke(&self, function: &str, payload: Vec<u8>) -> Result<Vec<u8>, InvokeError> {
        let url = format!("{}/2015-03-31/functions/{function}/invocations", self.base_url);
        let response =
            self.client.post(url).body(payload).send().await.map_err(|e| InvokeError::Function(e.to_string()))?;
        let failed = !response.status().is_success() || response.headers().contains_key("x-amz-function-error");
        let body = response.bytes().await.map_err(|e| InvokeError::Function(e.to_string()))?.to_vec();
        if failed { Err(InvokeError::Function(String::from_utf8_lossy(&body).into_owned())) } else { Ok(body) }
    }
}

const SQS_MAX_MESSAGE_BYTES: usize = 256 * 1024;

/// Where records that keep failing go: the mapping's SQS queue.
pub struct DeadLetters {
    pub sqs: aws_sdk_sqs::Client,
    pub queue_prefix: String,
}

impl DeadLetters {
    async fn send(&self, mapping: &Mapping, records: &[OwnedMessage], error: &str) -> anyhow::Result<()> {
        let queue = format!("{}{}", self.queue_prefix, mapping.on_failure);
        let url = self.sqs.get_queue_url().queue_name(&queue).send().await?.queue_url.unwrap_or_default();
        for record in records {
            let b64 = base64::engine::general_purpose::STANDARD;
            let mut body = serde_json::json!({
                "function": mapping.function,
                "topic": record.topic(),
                "partition": record.partition(),
                "offset": record.offset(),
                "key": record.key().map(|k| b64.encode(k)),
                "value": record.payload().map(|v| b64.encode(v)),
                "error": error,
                "failedAt": chrono::Utc::now().to_rfc3339(),
            });
            // An SQS message holds at most 256 KiB: a bigger record is named by its offsets only
            // (as AWS's own destination records always are) and stays readable in Kafka.
            if body.to_string().len() > SQS_MAX_MESSAGE_BYTES {
                body["value"] = serde_json::Value::Null;
                body["valueBytes"] = record.payload().map_or(0, <[u8]>::len).into();
            }
            self.sqs.send_message().queue_url(&url).message_body(body.to_string()).send().await?;
        }
        tracing::warn!(function = %mapping.function, topic = %mapping.topic, count = records.len(), %error, "dead-lettered");
        Ok(())
    }
}

/// What the bridge did for one partition batch, for logs and tests.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct BatchOutcome {
    pub invocations: usize,
    pub dead_lettered: usize,
}

/// Where a mapping's consumer group starts reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// As the mapping says, for a group that has committed nothing yet (`TRIM_HORIZON`: the oldest
    /// retained record; `LATEST`: the end), and where it left off otherwise: Lambda fixes a
    /// mapping's start once, when the mapping is created.
    AsMapped,
    /// At the end of the topic on every start, whatever the group committed before: what was
    /// published while the bridge was away is skipped. `make run` is a demo of now; this keeps the
    /// backlog that tests and benchmarks leave on the broker out of it.
    Now,
}

/// A mapping's consumer, in the mapping's consumer group, subscribed to its topic, with its start
/// pinned where it must not move: every record published after [`connect`] returns is delivered.
pub struct MappingConsumer(Arc<StreamConsumer<KafkaContext>>);

/// Makes the consumer of one mapping (see [`MappingConsumer`]).
pub async fn connect(kafka: &KafkaConfig, mapping: &Mapping, start: Start) -> anyhow::Result<MappingConsumer> {
    let consumer: Arc<StreamConsumer<KafkaContext>> = Arc::new(
        kafka
            .client_config()
            .set("group.id", mapping.consumer_group())
            .set("enable.auto.commit", "false")
            .set("auto.offset.reset", "earliest")
            .set("session.timeout.ms", "10000")
            .create_with_context(KafkaContext::default())?,
    );
    let pin = match start {
        Start::Now => Some(Pin::EveryPartition),
        Start::AsMapped if mapping.starting_position == "LATEST" => Some(Pin::Uncommitted),
        Start::AsMapped => None,
    };
    if let Some(pin) = pin {
        let (consumer, topic) = (consumer.clone(), mapping.topic.clone());
        tokio::task::spawn_blocking(move || pin_at_end(&consumer, &topic, pin)).await??;
    }
    consumer.subscribe(&[&mapping.topic])?;
    Ok(MappingConsumer(consumer))
}

/// Runs one mapping on its consumer until `stop` resolves.
pub async fn run_mapping<I: Invoke>(
    MappingConsumer(consumer): MappingConsumer,
    mapping: &Mapping,
    invoker: &I,
    dead_letters: &DeadLetters,
    stop: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    let window = Duration::from_secs(mapping.maximum_batching_window_seconds.max(1));
    tokio::pin!(stop);
    loop {
        // Collect a batch: up to batchSize records per partition, for at most the batching window.
        let mut partitions: BTreeMap<i32, Vec<OwnedMessage>> = BTreeMap::new();
        let deadline = tokio::time::Instant::now() + window;
        loop {
            tokio::select! {
                _ = &mut stop => return Ok(()),
                _ = tokio::time::sleep_until(deadline) => break,
                message = consumer.recv() => match message {
                    Ok(message) => {
                        let batch = partitions.entry(message.partition()).or_default();
                        batch.push(message.detach());
                        if batch.len() >= mapping.batch_size { break; }
                    }
                    Err(error) => tracing::debug!(%error, "bridge poll error"),
                },
            }
        }
        if partitions.is_empty() {
            continue;
        }
        // One batch in flight per partition; partitions in parallel; commit each when it is done.
        let results = futures::future::join_all(partitions.into_values().map(|records| async move {
            let last = records.last().map(|r| (r.partition(), r.offset()));
            let outcome = deliver(mapping, invoker, dead_letters, records).await;
            (last, outcome)
        }))
        .await;
        let mut commit = TopicPartitionList::new();
        for (last, outcome) in results {
            let (Some((partition, offset)), Ok(outcome)) = (last, outcome) else {
                // Dead-lettering itself failed: do not commit, the records come again.
                anyhow::bail!("could not dead-letter records of {}; stopping without committing", mapping.topic);
            };
            tracing::debug!(function = %mapping.function, partition, ?outcome, "batch done");
            commit.add_partition_offset(&mapping.topic, partition, Offset::Offset(offset + 1))?;
        }
        // A failed commit loses nothing: those records are delivered again (and the functions are
        // idempotent). A broker restart makes the group rejoin, which happens while polling, so
        // retry briefly and then go back to polling rather than wait here for the broker.
        for attempt in 1..=5 {
            match commit_offsets(&consumer, &commit).await {
                Ok(_) => break,
                Err(error) => {
                    tracing::warn!(function = %mapping.function, topic = %mapping.topic, attempt, %error, "commit failed");
                    tokio::select! {
                        _ = &mut stop => return Ok(()),
                        _ = tokio::time::sleep(backoff(attempt)) => {}
                    }
                }
            }
        }
    }
}

/// Commits `offsets` on the blocking pool: rdkafka's synchronous commit waits for the broker (for
/// seconds while it restarts), which must not stall the runtime the functions and tests share.
async fn commit_offsets(
    consumer: &Arc<StreamConsumer<KafkaContext>>,
    offsets: &TopicPartitionList,
) -> anyhow::Result<()> {
    let (consumer, offsets) = (consumer.clone(), offsets.clone());
    tokio::task::spawn_blocking(move || consumer.commit(&offsets, CommitMode::Sync)).await??;
    Ok(())
}

/// Which partitions [`pin_at_end`] commits at their end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pin {
    /// Those the group has never committed (a `LATEST` mapping).
    Uncommitted,
    /// All ([`Start::Now`]).
    EveryPartition,
}

/// Commits the end of partitions of `topic` for the group, before the group starts. Lambda fixes a
/// LATEST mapping's starting point once, when the mapping is created; resolving "latest" through
/// `auto.offset.reset` instead would resolve it again whenever the group rejoins before its first
/// commit (a broker restart), skipping whatever was published in between.
/// Blocking (metadata, watermark and commit calls): run it on the blocking pool.
fn pin_at_end(consumer: &StreamConsumer<KafkaContext>, topic: &str, pin: Pin) -> anyhow::Result<()> {
    let timeout = Duration::from_secs(10);
    let metadata = consumer.fetch_metadata(Some(topic), timeout)?;
    let mut all = TopicPartitionList::new();
    for partition in metadata.topics().iter().flat_map(|t| t.partitions()) {
        all.add_partition(topic, partition.id());
    }
    let committed = consumer.committed_offsets(all, timeout)?;
    let mut start = TopicPartitionList::new();
    let elements = committed.elements();
    let unpinned = elements.iter().filter(|e| pin == Pin::EveryPartition || !matches!(e.offset(), Offset::Offset(_)));
    for element in unpinned {
        let (_, high) = consumer.fetch_watermarks(topic, element.partition(), timeout)?;
        start.add_partition_offset(topic, element.partition(), Offset::Offset(high))?;
    }
    if start.count() > 0 {
        consumer.commit(&start, CommitMode::Sync)?;
    }
    Ok(())
}

/// Delivers one partition's records until each is processed or dead-lettered.
pub async fn deliver<I: Invoke>(
    mapping: &Mapping,
    invoker: &I,
    dead_letters: &DeadLetters,
    records: Vec<OwnedMessage>,
) -> anyhow::Result<BatchOutcome> {
    let mut outcome = BatchOutcome::default();
    let mut queue: Vec<Vec<OwnedMessage>> = vec![records];
    while let Some(mut batch) = queue.pop() {
        let mut attempt = 0u32;
        while !batch.is_empty() {
            outcome.invocations += 1;
            let result = invoke_once(mapping, invoker, &batch).await;
            match result {
                Ok(None) => break,
                Ok(Some(failed_at)) => {
                    // Everything before the failed record is done; the rest is retried from there.
                    batch.retain(|r| r.offset() >= failed_at);
                    attempt += 1;
                    if attempt > mapping.maximum_retry_attempts {
                        let poison = batch.remove(0);
                        dead_letters
                            .send(mapping, std::slice::from_ref(&poison), "reported as failed by the function")
                            .await?;
                        outcome.dead_lettered += 1;
                        attempt = 0;
                    }
                }
                Err(error) => {
                    attempt += 1;
                    if attempt > mapping.maximum_retry_attempts {
                        if mapping.bisect_batch_on_function_error && batch.len() > 1 {
                            let second = batch.split_off(batch.len() / 2);
                            queue.push(second);
                            queue.push(std::mem::take(&mut batch));
                            break;
                        }
                        dead_letters.send(mapping, &batch, &error.to_string()).await?;
                        outcome.dead_lettered += batch.len();
                        break;
                    }
                    tracing::warn!(function = %mapping.function, attempt, %error, "invocation failed; retrying");
                }
            }
            tokio::time::sleep(backoff(attempt)).await;
        }
    }
    Ok(outcome)
}

fn backoff(attempt: u32) -> Duration {
    if attempt == 0 { Duration::ZERO } else { Duration::from_millis((100u64 << attempt.min(5)).min(3000)) }
}

/// One invocation: `Ok(None)` all done, `Ok(Some(offset))` failed from that offset on.
async fn invoke_once<I: Invoke>(
    mapping: &Mapping,
    invoker: &I,
    batch: &[OwnedMessage],
) -> Result<Option<i64>, InvokeError> {
    let payload = serde_json::to_vec(&msk_event(mapping, batch)).expect("an MSK event serialises");
    let timeout = Duration::from_secs(mapping.function_timeout_seconds);
    let body = tokio::time::timeout(timeout, invoker.invoke(&mapping.function, payload))
        .await
        .map_err(|_| InvokeError::Timeout(timeout))??;
    let trimmed = String::from_utf8_lossy(&body);
    if trimmed.trim().is_empty() || trimmed.trim() == "null" {
        return Ok(None);
    }
    let response: BatchResponse =
        serde_json::from_slice(&body).map_err(|e| InvokeError::InvalidResponse(e.to_string()))?;
    let partition = batch.first().map(|r| format!("{}-{}", r.topic(), r.partition())).unwrap_or_default();
    let mut failed_at = None;
    for failure in response.batch_item_failures {
        let id = failure.item_identifier;
        // Lambda treats a failure naming a record that was not in the batch as a failed batch.
        if id.partition != partition || !batch.iter().any(|r| r.offset() == id.offset) {
            return Err(InvokeError::InvalidResponse(format!("unknown record {}@{}", id.partition, id.offset)));
        }
        failed_at = Some(failed_at.map_or(id.offset, |o: i64| o.min(id.offset)));
    }
    Ok(failed_at)
}

/// The event as Lambda's MSK event source delivers it to the mapping's function.
pub fn msk_event(mapping: &Mapping, batch: &[OwnedMessage]) -> KafkaEvent {
    weelo_kafka::msk_event(&format!("arn:aws:kafka:local:000000000000:cluster/weelo-local/{}", mapping.function), batch)
}

#[cfg(test)]
mod tests {
    //! The bridge against the real local broker and moto's SQS, with scripted functions that
    //! crash, time out, return garbage, or report a poison record.
    use super::*;
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
            &[weelo_kafka::TopicSpec { name: topic.clone(), partitions: 1, retention_ms: 3_600_000 }],
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
        let sqs = aws_sdk_sqs::Client::new(&aws);
        let queue = format!("bridge-test-dlq-{suffix}");
        let queue_url = sqs.create_queue().queue_name(&queue).send().await.unwrap().queue_url.unwrap();
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
            group_suffix: String::new(),
        };
        Setup { kafka, mapping, dead_letters: DeadLetters { sqs, queue_prefix: String::new() }, queue_url }
    }

    fn uuid_suffix() -> String {
        weelo_core::ids::EventId::generate().to_string().replace('-', "")
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

    #[test]
    fn every_mapping_names_a_known_topic_and_a_consumer_function() {
        let mappings =
            load_mappings(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../infra/definitions")))
                .unwrap();
        let functions = ["order-fanout", "fcm-consumer", "location-consumer", "audit-consumer"];
        for mapping in &mappings {
            assert!(weelo_core::events::Topic::from_name(&mapping.topic).is_some(), "{}", mapping.topic);
            assert!(functions.contains(&mapping.function.as_str()), "{}", mapping.function);
            assert!(mapping.batch_size >= 1 && mapping.maximum_retry_attempts >= 1);
        }
        for function in functions {
            assert!(mappings.iter().any(|m| m.function == function), "{function} has no mapping");
        }
    }
}
