//! The `audit-consumer` function: subscribed to every topic, it archives each batch to S3 (see
//! `weelo_audit`) so every event stays available for compliance after Kafka's 7-day retention.
//! Records are archived undecoded, poison included: the archive is the record of what was sent.
//! A failed write reports that partition's first record as failed, so the mapping redelivers the
//! partition's records and the rewrite lands on the same key.

use anyhow::Context;
use aws_lambda_events::kafka::KafkaEvent;
use lambda_runtime::{Error, LambdaEvent};
use std::collections::BTreeMap;
use weelo_audit::{ArchivedRecord, AuditArchive};
use weelo_consumer::BatchResponse;

pub async fn from_env() -> anyhow::Result<AuditArchive> {
    let bucket = std::env::var("AUDIT_BUCKET").context("environment variable AUDIT_BUCKET is not set")?;
    let aws = weelo_aws::sdk_config().await?;
    Ok(AuditArchive::new(weelo_audit::s3_client(&aws), bucket))
}

pub async fn handle(archive: &AuditArchive, event: LambdaEvent<KafkaEvent>) -> Result<BatchResponse, Error> {
    let mut partitions: BTreeMap<(String, i64), Vec<ArchivedRecord>> = BTreeMap::new();
    for (batch_key, records) in &event.payload.records {
        for record in records {
            let archived = ArchivedRecord::from_msk(batch_key, record);
            partitions.entry((archived.topic.clone(), archived.partition)).or_default().push(archived);
        }
    }
    let writes = partitions.into_values().map(|mut records| async move {
        records.sort_by_key(|r| r.offset);
        let first = (format!("{}-{}", records[0].topic, records[0].partition), records[0].offset);
        match archive.write(&records).await {
            Ok(key) => {
                tracing::debug!(%key, count = records.len(), "archived");
                metrics::counter!(weelo_telemetry::CONSUMED).increment(records.len() as u64);
                None
            }
            Err(error) => {
                tracing::warn!(%error, "archive write failed; the partition's records will be redelivered");
                metrics::counter!(weelo_telemetry::FAILED).increment(records.len() as u64);
                Some(first)
            }
        }
    });
    let mut response = BatchResponse::default();
    for (partition, offset) in futures::future::join_all(writes).await.into_iter().flatten() {
        response.fail(&partition, offset);
    }
    Ok(response)
}
