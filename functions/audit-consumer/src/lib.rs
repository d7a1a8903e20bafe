//! The `audit-consumer` function: subscribed to every topic, it archives each batch to S3 (see
//! `weelo_audit`) so every event stays available for compliance after Kafka's 7-day retention.
//! Records are archived undecoded, poison included: the archive is the record of what was sent.
//! A failed write reports that partition's first record as failed, so the mapping redelivers the
//! partition's records and the rewrite lands on the same key.

use aws_lambda_events::kafka::KafkaEvent;
use lambda_runtime::{Error, LambdaEvent};
use weelo_audit::{ArchiveSettings, ArchivedRecord, AuditArchive};
use weelo_msk::{BatchResponse, Consumer, PartitionFailure, for_each_partition};

/// The function's settings, read once from the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `SDK_*_TIMEOUT_MS`, `AUDIT_BUCKET`.
    pub archive: ArchiveSettings,
    /// `KAFKA_FAILURE_REPORTING` (`partial-batch`, or `function-error` behind an on-demand mapping):
    /// how failed records are answered to the event-source mapping.
    pub reporting: weelo_msk::FailureReporting,
}

impl Settings {
    pub fn from_env() -> anyhow::Result<Self> {
        Ok(Self { archive: ArchiveSettings::from_env()?, reporting: weelo_msk::FailureReporting::from_env()? })
    }
}

pub type AuditConsumer = Consumer<AuditArchive>;

/// The archive with a client built from `settings`.
pub async fn connect(settings: &Settings) -> anyhow::Result<AuditConsumer> {
    Ok(Consumer::new(settings.archive.connect().await, settings.reporting))
}

/// [`connect`] with the settings of the environment.
pub async fn from_env() -> anyhow::Result<AuditConsumer> {
    connect(&Settings::from_env()?).await
}

pub async fn handle(archive: &AuditConsumer, event: LambdaEvent<KafkaEvent>) -> Result<BatchResponse, Error> {
    let handled = for_each_partition(&event.payload, |records| async move {
        let archived: Vec<ArchivedRecord> = records.iter().map(ArchivedRecord::from_consumed).collect();
        let first = records.first().map_or(0, |r| r.offset);
        let key = archive.write(&archived).await.map_err(|error| PartitionFailure {
            offset: first,
            reason: format!("{error}; the partition's records will be redelivered"),
        })?;
        tracing::debug!(%key, count = archived.len(), "archived");
        Ok(())
    });
    Ok(archive.answer(handled).await?)
}
