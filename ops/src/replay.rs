//! `weelo-ops replay`: re-drives the records a topic received in a time range, either through a
//! consumer function (as its mapping would deliver them) or onto another topic. Safe to run on
//! live data because every consumer is idempotent by event id: a replayed booking offers no truck
//! twice and a replayed notification pushes no phone twice.
//!
//! The range is found by timestamp (`offsets_for_times`) per partition: from the first record at
//! or after `from` up to, not including, the first record at or after `to` (or the end now).

use crate::invoke::{Invoker, Outcome};
use anyhow::Context;
use chrono::{DateTime, Utc};
use rdkafka::Message;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::OwnedMessage;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Offset, TopicPartitionList};
use std::time::{Duration, Instant};
use weelo_kafka::{KafkaConfig, KafkaContext};

const TIMEOUT: Duration = Duration::from_secs(15);

/// One partition's share of a range: offsets `start..end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartitionRange {
    pub partition: i32,
    pub start: i64,
    pub end: i64,
}

impl PartitionRange {
    pub fn len(&self) -> u64 {
        (self.end - self.start).max(0) as u64
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn consumer(config: &KafkaConfig) -> anyhow::Result<BaseConsumer<KafkaContext>> {
    Ok(config
        .client_config()
        .set("group.id", format!("weelo-ops-{}", uuid::Uuid::now_v7()))
        .set("enable.auto.commit", "false")
        .create_with_context(KafkaContext::default())?)
}

/// The offsets of `topic` whose records were written in `from..to`.
pub fn find_range(
    config: &KafkaConfig, topic: &str, from: DateTime<Utc>, to: Option<DateTime<Utc>>,
) -> anyhow::Result<Vec<PartitionRange>> {
    let consumer = consumer(config)?;
    let metadata = consumer.fetch_metadata(Some(topic), TIMEOUT)?;
    let partitions: Vec<i32> = metadata.topics().iter().flat_map(|t| t.partitions().iter().map(|p| p.id())).collect();
    anyhow::ensure!(!partitions.is_empty(), "topic {topic} does not exist");
    let offsets_at = |time: DateTime<Utc>| -> anyhow::Result<Vec<Offset>> {
        let mut wanted = TopicPartitionList::new();
        for partition in &partitions {
            wanted.add_partition_offset(topic, *partition, Offset::Offset(time.timestamp_millis()))?;
        }
        let found = consumer.offsets_for_times(wanted, TIMEOUT)?;
        Ok(partitions.iter().map(|p| found.find_partition(topic, *p).map_or(Offset::End, |e| e.offset())).collect())
    };
    let starts = offsets_at(from)?;
    let ends = match to {
        Some(to) => offsets_at(to)?,
        None => vec![Offset::End; partitions.len()],
    };
    let mut ranges = Vec::new();
    for ((partition, start), end) in partitions.iter().zip(starts).zip(ends) {
        let (_, high) = consumer.fetch_watermarks(topic, *partition, TIMEOUT)?;
        // `End` means no record at or after that time: the range stops at the current end.
        let resolve = |offset: Offset| if let Offset::Offset(o) = offset { o } else { high };
        ranges.push(PartitionRange { partition: *partition, start: resolve(start), end: resolve(end) });
    }
    Ok(ranges)
}

/// Reads one partition's range, calling `on_chunk` with up to `chunk` records at a time.
pub fn read_range(
    config: &KafkaConfig, topic: &str, range: PartitionRange, chunk: usize,
    mut on_chunk: impl FnMut(Vec<OwnedMessage>) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    if range.is_empty() {
        return Ok(());
    }
    let consumer = consumer(config)?;
    let mut assignment = TopicPartitionList::new();
    assignment.add_partition_offset(topic, range.partition, Offset::Offset(range.start))?;
    consumer.assign(&assignment)?;
    let mut batch = Vec::with_capacity(chunk);
    let mut next = range.start;
    let mut last_progress = Instant::now();
    while next < range.end {
        match consumer.poll(Duration::from_millis(200)) {
            Some(Ok(message)) => {
                last_progress = Instant::now();
                next = message.offset() + 1;
                if message.offset() >= range.end {
                    break;
                }
                batch.push(message.detach());
                if batch.len() == chunk {
                    on_chunk(std::mem::take(&mut batch))?;
                }
            }
            Some(Err(error)) => tracing::debug!(%error, "poll error"),
            None => anyhow::ensure!(
                last_progress.elapsed() < TIMEOUT,
                "{topic}-{}: no record after offset {next} for {TIMEOUT:?} (range ends at {})",
                range.partition,
                range.end
            ),
        }
    }
    if !batch.is_empty() {
        on_chunk(batch)?;
    }
    Ok(())
}

/// Where replayed records go.
pub enum Target {
    Function { name: String, batch_size: usize },
    Topic(String),
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ReplayReport {
    pub records: u64,
    pub invocations: u64,
    /// Records the function still failed after the retries, with the reason: `(partition, offset, reason)`.
    pub failed: Vec<(String, i64, String)>,
}

/// Replays `topic`'s records of `from..to` to `target`.
pub async fn replay(
    config: &KafkaConfig, topic: &str, from: DateTime<Utc>, to: Option<DateTime<Utc>>, target: Target,
) -> anyhow::Result<ReplayReport> {
    let ranges = {
        let (config, topic) = (config.clone(), topic.to_owned());
        tokio::task::spawn_blocking(move || find_range(&config, &topic, from, to)).await??
    };
    let total: u64 = ranges.iter().map(PartitionRange::len).sum();
    let bar = crate::progress(total, &format!("replaying {topic}"));
    let chunk_size = match &target {
        Target::Function { batch_size, .. } => *batch_size,
        Target::Topic(_) => 1000,
    };
    // Kafka is read on a blocking thread and handed over chunk by chunk, so reading and delivering overlap.
    let (sender, mut chunks) = tokio::sync::mpsc::channel::<Vec<OwnedMessage>>(2);
    let reader = {
        let (config, topic) = (config.clone(), topic.to_owned());
        tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
            for range in ranges {
                read_range(&config, &topic, range, chunk_size, |chunk| {
                    sender.blocking_send(chunk).map_err(|_| anyhow::anyhow!("the delivery side stopped"))
                })?;
            }
            Ok(())
        })
    };
    let mut report = ReplayReport::default();
    match target {
        Target::Function { name, .. } => {
            let invoker = Invoker::from_env().await;
            let arn = format!("weelo-ops:replay:{topic}");
            while let Some(chunk) = chunks.recv().await {
                let count = chunk.len() as u64;
                deliver(&invoker, &name, &arn, chunk, &mut report).await;
                report.records += count;
                bar.inc(count);
            }
        }
        Target::Topic(destination) => {
            let producer: FutureProducer<KafkaContext> =
                config.client_config().create_with_context(KafkaContext::default())?;
            while let Some(chunk) = chunks.recv().await {
                republish(&producer, &destination, &chunk).await?;
                report.records += chunk.len() as u64;
                bar.inc(chunk.len() as u64);
            }
        }
    }
    reader.await??;
    bar.finish_and_clear();
    Ok(report)
}

/// Publishes `chunk` to `destination` as it was: same key, value and headers.
async fn republish(
    producer: &FutureProducer<KafkaContext>, destination: &str, chunk: &[OwnedMessage],
) -> anyhow::Result<()> {
    let sends = chunk.iter().map(|message| {
        let mut record = FutureRecord::<[u8], [u8]>::to(destination);
        if let Some(key) = message.key() {
            record = record.key(key);
        }
        if let Some(payload) = message.payload() {
            record = record.payload(payload);
        }
        if let Some(headers) = message.headers() {
            record = record.headers(headers.clone());
        }
        producer.send(record, TIMEOUT)
    });
    for result in futures::future::join_all(sends).await {
        result.map_err(|(error, _)| error).with_context(|| format!("publishing to {destination}"))?;
    }
    Ok(())
}

/// Delivers one chunk of one partition like a mapping would: a reported failure is retried from
/// that record (three attempts in all); what still fails is reported, never skipped silently.
async fn deliver(
    invoker: &Invoker, function: &str, arn: &str, mut records: Vec<OwnedMessage>, report: &mut ReplayReport,
) {
    const ATTEMPTS: usize = 3;
    for attempt in 1..=ATTEMPTS {
        report.invocations += 1;
        let consumed: Vec<_> = records.iter().map(weelo_kafka::consumed).collect();
        let reason = match invoker.invoke(function, &weelo_msk::encode(arn, None, &consumed)).await {
            Outcome::Processed => return,
            Outcome::PartlyFailed(failures) => {
                let from = failures.iter().map(|(_, offset)| *offset).min().unwrap_or_default();
                records.retain(|m| m.offset() >= from);
                "the function reported the record as failed".to_owned()
            }
            Outcome::Failed(reason) => reason,
        };
        if attempt == ATTEMPTS {
            if let Some(first) = records.first() {
                let partition = format!("{}-{}", first.topic(), first.partition());
                let reason = format!("{reason} ({} records from this offset not delivered)", records.len());
                report.failed.push((partition, first.offset(), reason));
            }
            return;
        }
        tokio::time::sleep(Duration::from_millis(200 * attempt as u64)).await;
    }
}
