//! How far a consumer group is behind a topic, per partition: what `weelo-ops lag` prints, what
//! `weelo-local status` watches under `make run`, and the number the `OffsetLag` alarms watch in AWS.
//! Blocking (metadata, offset and watermark requests): call it from `spawn_blocking` in async code.

use crate::{KafkaConfig, KafkaContext};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Offset, TopicPartitionList};
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(15);

/// One partition of a group's lag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct PartitionLag {
    pub partition: i32,
    /// The group's committed offset (`None`: it has committed nothing on this partition).
    pub committed: Option<i64>,
    /// The oldest offset still retained.
    pub start: i64,
    /// The offset the next record will get.
    pub end: i64,
}

impl PartitionLag {
    /// Records not yet processed; with no commit, counted from the oldest retained record (where
    /// a TRIM_HORIZON mapping starts).
    pub fn lag(&self) -> i64 {
        self.end - self.committed.unwrap_or(self.start)
    }
}

/// The lag of `group` on every partition of `topic`, in partition order.
pub fn group_lag(config: &KafkaConfig, group: &str, topic: &str) -> anyhow::Result<Vec<PartitionLag>> {
    LagReader::new(config, group, topic)?.read()
}

/// Reads one group's lag on one topic, again and again, over one connection.
pub struct LagReader {
    consumer: BaseConsumer<KafkaContext>,
    topic: String,
}

impl LagReader {
    /// A reader as `group` (it never joins the group: it only reads its committed offsets).
    pub fn new(config: &KafkaConfig, group: &str, topic: &str) -> anyhow::Result<Self> {
        let consumer = config
            .client_config()
            .set("group.id", group)
            .set("enable.auto.commit", "false")
            .create_with_context(KafkaContext::default())?;
        Ok(Self { consumer, topic: topic.to_owned() })
    }

    pub fn read(&self) -> anyhow::Result<Vec<PartitionLag>> {
        let metadata = self.consumer.fetch_metadata(Some(&self.topic), TIMEOUT)?;
        let mut wanted = TopicPartitionList::new();
        for partition in metadata.topics().iter().flat_map(|t| t.partitions()) {
            wanted.add_partition(&self.topic, partition.id());
        }
        let committed = self.consumer.committed_offsets(wanted, TIMEOUT)?;
        let mut partitions = Vec::new();
        for element in committed.elements() {
            let (start, end) = self.consumer.fetch_watermarks(&self.topic, element.partition(), TIMEOUT)?;
            let committed = match element.offset() {
                Offset::Offset(o) => Some(o),
                _ => None,
            };
            partitions.push(PartitionLag { partition: element.partition(), committed, start, end });
        }
        partitions.sort();
        Ok(partitions)
    }
}
