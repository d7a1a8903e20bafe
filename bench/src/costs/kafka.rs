//! The Kafka rows of a month's bill: MSK provisioned brokers (both profiles' default,
//! `msk_cluster_type` in `infra/terraform`) or MSK Serverless.

use super::model::{Inputs, Load, Profile, Row};
use super::rows::row;

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// What the topics carry in a month and keep at any moment, in bytes.
struct Traffic {
    /// Into the topics (records as stored), and out to every mapping's consumer group.
    bytes_in: f64,
    bytes_out: f64,
    /// Held by the topics' retention: one copy, before replication.
    retained: f64,
}

impl Inputs<'_> {
    pub(super) fn kafka(&self, profile: &Profile, load: &Load) -> anyhow::Result<Vec<Row>> {
        let traffic = self.traffic(load);
        match profile.kafka.as_str() {
            "provisioned" => self.brokers(profile, &traffic),
            "serverless" => self.serverless(load, &traffic),
            other => {
                anyhow::bail!("cost-model.json: a profile's kafka is \"provisioned\" or \"serverless\", not {other:?}")
            }
        }
    }

    fn traffic(&self, load: &Load) -> Traffic {
        let retained = load
            .kafka_bytes
            .iter()
            .map(|(topic, bytes)| {
                let days =
                    self.topics.iter().find(|t| &t.name == topic).map_or(0.0, |t| t.retention_ms as f64 / 86_400_000.0);
                bytes * days / self.model.days_per_month
            })
            .sum();
        Traffic {
            bytes_in: load.kafka_bytes.values().sum(),
            bytes_out: load.kafka_bytes.iter().map(|(topic, bytes)| bytes * self.readers(topic)).sum(),
            retained,
        }
    }

    /// One broker a zone (the profile's zones; an `az_count` override is not priced). Each holds
    /// its share of every partition's replicas (replication 3, or 2 on two brokers), and storage
    /// auto-scaling keeps its volume at most `broker_storage_utilization` full, never below the
    /// volume it starts with, never above its ceiling: a scale that needs more is refused. What
    /// crosses a zone is billed on both sides: a client reaches a partition's leader in another
    /// zone for (zones − 1) / zones of what it writes and reads (replication between brokers is
    /// free).
    fn brokers(&self, profile: &Profile, traffic: &Traffic) -> anyhow::Result<Vec<Row>> {
        let hours = self.model.hours_per_month;
        let broker_hour = match profile.broker_type.as_str() {
            "kafka.t3.small" => "mskProvisionedKafkaT3SmallBrokerHour",
            "kafka.m7g.large" => "mskProvisionedKafkaM7gLargeBrokerHour",
            other => anyhow::bail!("infra/prices.json has no broker-hour for MSK broker type {other:?}"),
        };
        let brokers = profile.brokers.max(1.0);
        let replicas = brokers.min(3.0);
        // Volumes are sized and billed in GiB.
        let needed_gb = traffic.retained * replicas / brokers / GIB / self.model.broker_storage_utilization;
        anyhow::ensure!(
            needed_gb <= profile.broker_volume_max_gb,
            "the brokers would need {needed_gb:.0} GiB each, above their ceiling of {} GiB \
             (msk_broker_volume_max_gb, brokerVolumeMaxGb in cost-model.json)",
            profile.broker_volume_max_gb
        );
        let volume_gb = profile.broker_volume_gb.max(needed_gb.ceil());
        let across_gb = (traffic.bytes_in + traffic.bytes_out) / 1e9 * (brokers - 1.0) / brokers;
        Ok(vec![
            row(
                "Kafka",
                &format!("MSK provisioned brokers ({}), one a zone", profile.broker_type),
                format!("{brokers} × {hours} h"),
                brokers * hours * self.usd(broker_hour)?,
            ),
            row(
                "Kafka",
                "broker storage (the topics' retention × replicas, grown to stay under the auto-scaling target)",
                format!("{brokers} × {volume_gb:.0} GiB"),
                brokers * volume_gb * self.usd("mskProvisionedStorageGbMonth")?,
            ),
            row(
                "Kafka",
                "data between zones (clients to partition leaders in other zones, both sides billed)",
                format!("{across_gb:.0} GB"),
                across_gb * 2.0 * self.usd("dataTransferInterZoneGb")?,
            ),
        ])
    }

    fn serverless(&self, load: &Load, traffic: &Traffic) -> anyhow::Result<Vec<Row>> {
        let hours = self.model.hours_per_month;
        let partitions: f64 = self.topics.iter().map(|t| f64::from(t.partitions)).sum();
        let per_topic: Vec<String> =
            load.kafka_bytes.iter().map(|(topic, bytes)| format!("{topic} {:.0} GB", bytes / 1e9)).collect();
        Ok(vec![
            row("Kafka", "MSK Serverless cluster", format!("{hours} h"), hours * self.usd("mskServerlessClusterHour")?),
            row(
                "Kafka",
                "partitions (topics.json)",
                format!("{partitions} × {hours} h"),
                partitions * hours * self.usd("mskServerlessPartitionHour")?,
            ),
            row(
                "Kafka",
                "data in (counted bytes)",
                per_topic.join(", "),
                traffic.bytes_in / 1e9 * self.usd("mskServerlessDataInGb")?,
            ),
            row(
                "Kafka",
                "data out (each mapping's consumer group reads its topic)",
                format!("{:.0} GB", traffic.bytes_out / 1e9),
                traffic.bytes_out / 1e9 * self.usd("mskServerlessDataOutGb")?,
            ),
            row(
                "Kafka",
                "storage (topics' retention)",
                format!("{:.0} GB-months", traffic.retained / 1e9),
                traffic.retained / 1e9 * self.usd("mskServerlessStorageGbMonth")?,
            ),
        ])
    }
}
