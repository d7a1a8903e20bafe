//! Where records that keep failing go: the mapping's on-failure destination, `<prefix><onFailure>`,
//! of the kind its `onFailureKind` names.
//!
//! - An SQS queue gets one message per record: the record itself (base64 key and value), the
//!   function, the error. A record too big for a message is named by its offset only. (AWS sends a
//!   queue metadata only; the bridge's richer message is what `weelo-ops redrive` also reads.)
//! - An S3 bucket gets one object per failed batch, in the format and under the key layout AWS
//!   documents for an S3 on-failure destination (see [`invocation_record`], [`object_key`]): the
//!   batch's metadata and, in `payload`, the whole invocation event as a JSON string.

use super::{Mapping, msk_event};
use aws_lambda_events::kafka::KafkaEvent;
use aws_sdk_s3::primitives::ByteStream;
use chrono::{DateTime, SecondsFormat, Utc};
use rdkafka::message::{Message, OwnedMessage};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use weelo_definitions::OnFailureKind;
use weelo_msk::{ConsumedRecord, DeadLetter, RecordAt};

/// The mappings' on-failure destinations: SQS queues and S3 buckets named `<prefix><onFailure>`.
pub struct DeadLetters {
    pub sqs: aws_sdk_sqs::Client,
    pub s3: aws_sdk_s3::Client,
    pub prefix: String,
}

impl DeadLetters {
    /// Clients from `aws` (S3 with path-style addressing, as moto needs).
    pub fn new(aws: &aws_config::SdkConfig, prefix: String) -> Self {
        Self { sqs: aws_sdk_sqs::Client::new(aws), s3: weelo_audit::s3_client(aws), prefix }
    }

    /// Sends `records` (one partition's, in offset order), which failed with `error`, to the
    /// mapping's destination.
    pub(super) async fn send(&self, mapping: &Mapping, records: &[OwnedMessage], error: &str) -> anyhow::Result<()> {
        let destination = format!("{}{}", self.prefix, mapping.on_failure);
        match mapping.on_failure_kind {
            OnFailureKind::Sqs => self.to_queue(&destination, mapping, records, error).await?,
            OnFailureKind::S3 => self.to_bucket(&destination, mapping, records).await?,
        }
        tracing::warn!(function = %mapping.function, topic = %mapping.topic, count = records.len(), %destination, %error, "dead-lettered");
        Ok(())
    }

    async fn to_queue(
        &self, queue: &str, mapping: &Mapping, records: &[OwnedMessage], error: &str,
    ) -> anyhow::Result<()> {
        let url = self.sqs.get_queue_url().queue_name(queue).send().await?.queue_url.unwrap_or_default();
        for record in records {
            let at = RecordAt {
                topic: record.topic(),
                partition: record.partition(),
                offset: record.offset(),
                key: record.key(),
                value: record.payload(),
            };
            // A record too big for a message is named by its offset only (as AWS's own destination
            // records always are) and stays readable in Kafka.
            let body = DeadLetter::new(&mapping.function, at, error.to_owned()).to_message();
            self.sqs.send_message().queue_url(&url).message_body(body).send().await?;
        }
        Ok(())
    }

    async fn to_bucket(&self, bucket: &str, mapping: &Mapping, records: &[OwnedMessage]) -> anyhow::Result<()> {
        let Some(first) = records.first() else { return Ok(()) };
        let now = Utc::now();
        let consumed: Vec<ConsumedRecord> = records.iter().map(weelo_kafka::consumed).collect();
        let record = invocation_record(mapping, &msk_event(mapping, records), &consumed, now, uuid::Uuid::new_v4());
        let partition = format!("{}-{}", first.topic(), first.partition());
        let key = object_key(mapping, &partition, now, uuid::Uuid::new_v4());
        self.s3
            .put_object()
            .bucket(bucket)
            .key(&key)
            .content_type("application/json")
            .body(ByteStream::from(record.to_string().into_bytes()))
            .send()
            .await
            .map_err(|e| {
                anyhow::anyhow!("writing s3://{bucket}/{key}: {}", aws_sdk_s3::error::DisplayErrorContext(e))
            })?;
        Ok(())
    }
}

/// The local stand-in for the mapping's UUID in AWS: stable per mapping (its consumer group).
pub fn mapping_uuid(mapping: &Mapping) -> uuid::Uuid {
    uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, mapping.consumer_group().as_bytes())
}

/// The key of a failed batch's object: the layout AWS documents for S3 on-failure destinations,
/// `aws/lambda/<ESM-UUID>/<shardID>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<Random UUID>`, with the
/// batch's `<topic>-<partition>` as the shard (AWS's Kafka pages show no layout of their own).
pub fn object_key(mapping: &Mapping, partition: &str, at: DateTime<Utc>, random: uuid::Uuid) -> String {
    format!(
        "aws/lambda/{}/{partition}/{}/{}-{random}",
        mapping_uuid(mapping),
        at.format("%Y/%m/%d"),
        at.format("%Y-%m-%dT%H.%M.%S")
    )
}

/// The invocation record AWS writes to an S3 on-failure destination for a failed Kafka batch (AWS
/// Lambda guide, "Capturing discarded batches for Amazon MSK and self-managed Apache Kafka event
/// sources"): the metadata of the SQS/SNS record (`requestContext`, `responseContext` with the
/// guide's example values, `KafkaBatchInfo` with first and last offset and timestamp per
/// `<topic>-<partition>`) and `payload`, the whole invocation event as an escaped JSON string.
pub fn invocation_record(
    mapping: &Mapping, event: &KafkaEvent, records: &[ConsumedRecord], failed_at: DateTime<Utc>, request_id: uuid::Uuid,
) -> Value {
    let payload = serde_json::to_string(event).expect("an MSK event serialises");
    let time =
        |ms: i64| DateTime::from_timestamp_millis(ms).unwrap_or_default().to_rfc3339_opts(SecondsFormat::Millis, true);
    let mut partitions: BTreeMap<String, Vec<&ConsumedRecord>> = BTreeMap::new();
    for record in records {
        partitions.entry(record.partition_id()).or_default().push(record);
    }
    let records_info: serde_json::Map<String, Value> = partitions
        .into_iter()
        .filter_map(|(partition, mut records)| {
            records.sort_by_key(|r| r.offset);
            let (first, last) = (records.first()?, records.last()?);
            let info = json!({
                "firstRecordOffset": first.offset.to_string(),
                "lastRecordOffset": last.offset.to_string(),
                "firstRecordTimestamp": time(first.timestamp_ms),
                "lastRecordTimestamp": time(last.timestamp_ms),
            });
            Some((partition, info))
        })
        .collect();
    json!({
        "requestContext": {
            "requestId": request_id.to_string(),
            "functionArn": format!("arn:aws:lambda:local:000000000000:function:{}", mapping.function),
            "condition": "RetryAttemptsExhausted",
            "approximateInvokeCount": mapping.maximum_retry_attempts + 1,
        },
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "version": "1.0",
        "timestamp": failed_at.to_rfc3339_opts(SecondsFormat::Millis, true),
        "KafkaBatchInfo": {
            "batchSize": records.len(),
            "eventSourceArn": event.event_source_arn,
            "bootstrapServers": event.bootstrap_servers,
            "payloadSize": payload.len(),
            "recordsInfo": records_info,
        },
        "payload": payload,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping() -> Mapping {
        serde_json::from_value(json!({
            "function": "audit-consumer", "topic": "order.events", "batchSize": 10, "maximumBatchingWindowSeconds": 1,
            "startingPosition": "LATEST", "maximumRetryAttempts": 10, "bisectBatchOnFunctionError": true,
            "onFailure": "audit-consumer-failures", "onFailureKind": "s3", "pollerGroup": "records"
        }))
        .unwrap()
    }

    fn record(offset: i64, timestamp_ms: i64) -> ConsumedRecord {
        ConsumedRecord {
            topic: "order.events".into(),
            partition: 3,
            offset,
            timestamp_ms,
            key: Some(b"k".to_vec()),
            value: Some(format!("value {offset}").into_bytes()),
            headers: vec![],
        }
    }

    #[test]
    fn a_failed_batch_is_recorded_as_aws_writes_it_to_s3_with_the_whole_event() {
        // GIVEN a failed batch of two records of one partition
        let records = [record(41, 1_800_000_000_000), record(42, 1_800_000_000_500)];
        let event = weelo_msk::encode("arn:aws:kafka:local:000000000000:cluster/weelo-local/x", None, &records);
        let at = DateTime::parse_from_rfc3339("2027-01-15T06:07:08.009Z").unwrap().to_utc();
        // WHEN its invocation record is made
        let written = invocation_record(&mapping(), &event, &records, at, uuid::Uuid::nil());
        // THEN it has the metadata AWS documents, offsets as text, and the event itself as a string
        assert_eq!(
            written["requestContext"]["functionArn"],
            "arn:aws:lambda:local:000000000000:function:audit-consumer"
        );
        assert_eq!(written["requestContext"]["condition"], "RetryAttemptsExhausted");
        assert_eq!(written["requestContext"]["approximateInvokeCount"], 11);
        assert_eq!(written["timestamp"], "2027-01-15T06:07:08.009Z");
        let info = &written["KafkaBatchInfo"];
        assert_eq!(info["batchSize"], 2);
        assert_eq!(
            info["recordsInfo"]["order.events-3"],
            json!({"firstRecordOffset": "41", "lastRecordOffset": "42",
                   "firstRecordTimestamp": "2027-01-15T08:00:00.000Z", "lastRecordTimestamp": "2027-01-15T08:00:00.500Z"})
        );
        let payload = written["payload"].as_str().expect("the payload is a JSON string");
        assert_eq!(info["payloadSize"], payload.len());
        let stored: KafkaEvent = serde_json::from_str(payload).unwrap();
        assert_eq!(weelo_msk::decode(&stored)["order.events-3"], records);
    }

    #[test]
    fn the_object_key_follows_aws_s_layout_with_the_partition_as_the_shard() {
        // GIVEN a mapping and the time its batch failed
        let at = DateTime::parse_from_rfc3339("2027-01-15T06:07:08Z").unwrap().to_utc();
        // WHEN the key is made
        let key = object_key(&mapping(), "order.events-3", at, uuid::Uuid::nil());
        // THEN it is aws/lambda/<mapping>/<partition>/<day>/<time>-<uuid>, the mapping's part stable
        let expected = format!(
            "aws/lambda/{}/order.events-3/2027/01/15/2027-01-15T06.07.08-00000000-0000-0000-0000-000000000000",
            mapping_uuid(&mapping())
        );
        assert_eq!(key, expected);
        assert_eq!(mapping_uuid(&mapping()), mapping_uuid(&mapping()));
        let mut other = mapping();
        other.topic = "booking.events".into();
        assert_ne!(mapping_uuid(&other), mapping_uuid(&mapping()));
    }
}
