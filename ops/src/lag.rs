//! `weelo-ops lag`: how far each event-source mapping's consumer group is behind its topic, per
//! partition: the number the `OffsetLag` alarm watches in AWS (Terraform names the groups as the
//! local bridge does, so the same command works against both).

use weelo_definitions::Mapping;
use weelo_kafka::KafkaConfig;
use weelo_kafka::lag::{PartitionLag, group_lag};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingLag {
    pub function: String,
    pub topic: String,
    pub group: String,
    pub partitions: Vec<PartitionLag>,
}

impl MappingLag {
    /// Records not yet processed, over every partition.
    pub fn total(&self) -> i64 {
        self.partitions.iter().map(PartitionLag::lag).sum()
    }
}

/// The lag of every mapping (`group_suffix` as given to the local bridge; empty in AWS).
/// Blocking: call it from `spawn_blocking`.
pub fn lag(config: &KafkaConfig, mappings: &[Mapping]) -> anyhow::Result<Vec<MappingLag>> {
    mappings
        .iter()
        .map(|mapping| {
            let group = mapping.consumer_group();
            let partitions = group_lag(config, &group, &mapping.topic)?;
            Ok(MappingLag { function: mapping.function.clone(), topic: mapping.topic.clone(), group, partitions })
        })
        .collect()
}
