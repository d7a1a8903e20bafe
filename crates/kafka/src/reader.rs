//! Reads what is on a topic from a point in time: for tools (`weelo-local tail`) and for tests that
//! check what was published; and [`consumed`], a broker message as the consumers' contract names a
//! record. Not a consumer group: it assigns partitions and commits nothing.

use crate::{KafkaConfig, KafkaContext};
use chrono::{DateTime, Utc};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
use rdkafka::{Offset, TopicPartitionList};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use weelo_msk::ConsumedRecord;

/// Every record on `topic` with a timestamp at or after `since`, read until `stop` says it has
/// enough or `max_wait` passes. `stop` is also told whether everything the topic held when the
/// read began has been read (so "nothing matched" can mean it). Blocking: call it from
/// `spawn_blocking` in async code.
pub fn read_records(
    config: &KafkaConfig, topic: &str, since: DateTime<Utc>, max_wait: Duration,
    mut stop: impl FnMut(&[ConsumedRecord], bool) -> bool,
) -> anyhow::Result<Vec<ConsumedRecord>> {
    let consumer: BaseConsumer<KafkaContext> = config
        .client_config()
        .set("group.id", format!("weelo-reader-{}", uuid_like()))
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "false")
        .create_with_context(KafkaContext::default())?;
    let metadata = consumer.fetch_metadata(Some(topic), Duration::from_secs(10))?;
    let partitions: Vec<i32> = metadata.topics().iter().flat_map(|t| t.partitions().iter().map(|p| p.id())).collect();
    // Each partition's end before anything else: a record written from now on is at or after it.
    let mut ends = HashMap::new();
    for partition in &partitions {
        ends.insert(*partition, consumer.fetch_watermarks(topic, *partition, Duration::from_secs(10))?.1);
    }
    let mut wanted = TopicPartitionList::new();
    for partition in &partitions {
        wanted.add_partition_offset(topic, *partition, Offset::Offset(since.timestamp_millis()))?;
    }
    let positions = consumer.offsets_for_times(wanted, Duration::from_secs(10))?;
    let mut assignment = TopicPartitionList::new();
    // Per partition: the next offset to read, and the end when the read began. A partition with no
    // record at or after `since` then (or only records written since its end was read) starts at
    // that end: `Offset::End` would be resolved at the first fetch and skip what came in between.
    let mut unread: HashMap<i32, (i64, i64)> = HashMap::new();
    for element in positions.elements() {
        element.error().map_err(|e| anyhow::anyhow!("{topic}/{}: no offset for {since}: {e}", element.partition()))?;
        let end = ends.get(&element.partition()).copied().unwrap_or_default();
        let offset = match element.offset() {
            Offset::Offset(o) if o < end => {
                unread.insert(element.partition(), (o, end));
                o
            }
            _ => end,
        };
        assignment.add_partition_offset(topic, element.partition(), Offset::Offset(offset))?;
    }
    consumer.assign(&assignment)?;
    let deadline = Instant::now() + max_wait;
    let mut records = Vec::new();
    while Instant::now() < deadline && !stop(&records, unread.is_empty()) {
        match consumer.poll(Duration::from_millis(200)) {
            Some(Ok(message)) => {
                let partition = message.partition();
                if unread.get(&partition).is_some_and(|(_, end)| message.offset() + 1 >= *end) {
                    unread.remove(&partition);
                }
                records.push(consumed(&message));
            }
            Some(Err(error)) => tracing::debug!(%error, "reader poll error"),
            None => {}
        }
    }
    Ok(records)
}

/// A message read from the broker, as the consumers' contract names a record.
pub fn consumed(message: &impl Message) -> ConsumedRecord {
    ConsumedRecord {
        topic: message.topic().to_owned(),
        partition: message.partition(),
        offset: message.offset(),
        timestamp_ms: message.timestamp().to_millis().unwrap_or_default(),
        key: message.key().map(<[u8]>::to_vec),
        value: message.payload().map(<[u8]>::to_vec),
        headers: message
            .headers()
            .map(|h| h.iter().map(|h| (h.key.to_owned(), h.value.unwrap_or_default().to_vec())).collect())
            .unwrap_or_default(),
    }
}

fn uuid_like() -> String {
    format!("{}-{}", std::process::id(), Utc::now().timestamp_nanos_opt().unwrap_or_default())
}
