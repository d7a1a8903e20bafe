//! `weelo-ops lag`: how far each event-source mapping's consumer group is behind its topic, per
//! partition: the number the `OffsetLag` alarm watches in AWS (Terraform names the groups as the
//! local bridge does, so the same command works against both).

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Offset, TopicPartitionList};
use std::time::Duration;
use weelo_consumer::mappings::Mapping;
use weelo_kafka::{KafkaConfig, KafkaContext};

const TIMEOUT: Duration = Duration::from_secs(15);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingLag {
    pub function: String,
    pub topic: String,
    pub group: String,
    /// `(partition, committed offset or None, first offset still retained, end offset)`.
    pub partitions: Vec<(i32, Option<i64>, i64, i64)>,
}

impl MappingLag {
    /// Records not yet processed; a partition with no commit counts from its oldest retained
    /// record (where a TRIM_HORIZON mapping starts).
    pub fn total(&self) -> i64 {
        self.partitions.iter().map(|(_, committed, start, end)| end - committed.unwrap_or(*start)).sum()
    }
}

/// The lag of every mapping (`group_suffix` as given to the local bridge; empty in AWS).
pub fn lag(config: &KafkaConfig, mappings: &[Mapping]) -> anyhow::Result<Vec<MappingLag>> {
    let mut lags = Vec::new();
    for mapping in mappings {
        let group = mapping.consumer_group();
        let consumer: BaseConsumer<KafkaContext> = config
            .client_config()
            .set("group.id", &group)
            .set("enable.auto.commit", "false")
            .create_with_context(KafkaContext::default())?;
        let metadata = consumer.fetch_metadata(Some(&mapping.topic), TIMEOUT)?;
        let mut wanted = TopicPartitionList::new();
        for partition in metadata.topics().iter().flat_map(|t| t.partitions()) {
            wanted.add_partition(&mapping.topic, partition.id());
        }
        let committed = consumer.committed_offsets(wanted, TIMEOUT)?;
        let mut partitions = Vec::new();
        for element in committed.elements() {
            let (low, high) = consumer.fetch_watermarks(&mapping.topic, element.partition(), TIMEOUT)?;
            let offset = match element.offset() {
                Offset::Offset(o) => Some(o),
                _ => None,
            };
            partitions.push((element.partition(), offset, low, high));
        }
        partitions.sort();
        lags.push(MappingLag { function: mapping.function.clone(), topic: mapping.topic.clone(), group, partitions });
    }
    Ok(lags)
}
