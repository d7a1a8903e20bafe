//! The local MSK event-source-mapping bridge: what AWS Lambda's MSK event-source mappings do, for
//! functions run by the local Lambda service (`weelo-local functions`). For each mapping of
//! `infra/definitions/event-source-mappings.json` it consumes the topic with the mapping's own
//! consumer group, batches by size and window, invokes the function with the event exactly as
//! Lambda delivers it, honours partial batch responses, retries with backoff, bisects batches that
//! make the function fail, sends what still fails to the mapping's on-failure destination (an SQS
//! queue, or an S3 bucket in AWS's own format: see [`destination`]), and commits offsets only after
//! success or dead-lettering.

use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::{Message, OwnedMessage};
use rdkafka::{Offset, TopicPartitionList};
use std::collections::BTreeMap;

use std::sync::Arc;
use std::time::Duration;
use weelo_kafka::{KafkaConfig, KafkaContext};

mod deliver;
pub mod destination;

use deliver::backoff;
pub use deliver::{BatchOutcome, deliver, msk_event};
pub use destination::DeadLetters;
pub use weelo_definitions::{Mapping, OnFailureKind, load_mappings};

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
        &self, function: &str, payload: Vec<u8>,
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
    MappingConsumer(consumer): MappingConsumer, mapping: &Mapping, invoker: &I, dead_letters: &DeadLetters,
    stop: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    tokio::pin!(stop);
    loop {
        let Some(partitions) = collect_batch(&consumer, mapping, &mut stop).await else { return Ok(()) };
        if partitions.is_empty() {
            continue;
        }
        // One batch in flight per partition; partitions in parallel; commit each when it is done.
        // On demand, a stop while batches are in flight abandons them uncommitted, as a crash
        // would (they come again), since a failing batch would otherwise be delivered for ever; in
        // provisioned mode the batches end first (retries and dead letters have a limit), so no
        // dead letter is written twice.
        let deliveries = futures::future::join_all(partitions.into_values().map(|records| async move {
            let last = records.last().map(|r| (r.partition(), r.offset()));
            let outcome = deliver(mapping, invoker, dead_letters, records).await;
            (last, outcome)
        }));
        let results = if mapping.on_demand {
            tokio::select! {
                _ = stop.as_mut() => return Ok(()),
                results = deliveries => results,
            }
        } else {
            deliveries.await
        };
        let mut commit = TopicPartitionList::new();
        for (last, outcome) in results {
            let (Some((partition, offset)), Ok(outcome)) = (last, outcome) else {
                // Dead-lettering itself failed: do not commit, the records come again.
                anyhow::bail!("could not dead-letter records of {}; stopping without committing", mapping.topic);
            };
            tracing::debug!(function = %mapping.function, partition, ?outcome, "batch done");
            commit.add_partition_offset(&mapping.topic, partition, Offset::Offset(offset + 1))?;
        }
        if !commit_with_retries(&consumer, mapping, &commit, &mut stop).await {
            return Ok(());
        }
    }
}

/// A batch: up to `batchSize` records per partition, gathered for at most the batching window;
/// `None` once `stop` resolved.
async fn collect_batch(
    consumer: &StreamConsumer<KafkaContext>, mapping: &Mapping,
    stop: &mut std::pin::Pin<&mut impl std::future::Future<Output = ()>>,
) -> Option<BTreeMap<i32, Vec<OwnedMessage>>> {
    let window = Duration::from_secs(mapping.maximum_batching_window_seconds.max(1));
    let mut partitions: BTreeMap<i32, Vec<OwnedMessage>> = BTreeMap::new();
    let deadline = tokio::time::Instant::now() + window;
    loop {
        tokio::select! {
            _ = stop.as_mut() => return None,
            _ = tokio::time::sleep_until(deadline) => return Some(partitions),
            message = consumer.recv() => match message {
                Ok(message) => {
                    let batch = partitions.entry(message.partition()).or_default();
                    batch.push(message.detach());
                    if batch.len() >= mapping.batch_size { return Some(partitions); }
                }
                Err(error) => tracing::debug!(%error, "bridge poll error"),
            },
        }
    }
}

/// Commits, retrying briefly; `false` once `stop` resolved. A failed commit loses nothing: those
/// records are delivered again (and the functions are idempotent). A broker restart makes the
/// group rejoin, which happens while polling, so after a few tries it goes back to polling rather
/// than wait here for the broker.
async fn commit_with_retries(
    consumer: &Arc<StreamConsumer<KafkaContext>>, mapping: &Mapping, commit: &TopicPartitionList,
    stop: &mut std::pin::Pin<&mut impl std::future::Future<Output = ()>>,
) -> bool {
    for attempt in 1..=5 {
        match commit_offsets(consumer, commit).await {
            Ok(_) => return true,
            Err(error) => {
                tracing::warn!(function = %mapping.function, topic = %mapping.topic, attempt, %error, "commit failed");
                tokio::select! {
                    _ = stop.as_mut() => return false,
                    _ = tokio::time::sleep(backoff(attempt)) => {}
                }
            }
        }
    }
    true
}

/// Commits `offsets` on the blocking pool: rdkafka's synchronous commit waits for the broker (for
/// seconds while it restarts), which must not stall the runtime the functions and tests share.
async fn commit_offsets(
    consumer: &Arc<StreamConsumer<KafkaContext>>, offsets: &TopicPartitionList,
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

#[cfg(test)]
mod tests;
