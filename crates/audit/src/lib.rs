//! The audit archive: every record of every topic, kept in S3 for compliance and investigations.
//!
//! `audit-consumer` writes one JSON Lines object per partition of each batch it receives, under
//! `events/<topic>/<yyyy>/<mm>/<dd>/<topic>-<partition>-<first offset, 20 digits>.jsonl` (the
//! date of the first record). Writing is idempotent: a redelivered batch rewrites the same key. A
//! batch cut differently on redelivery can repeat records in two objects, so readers deduplicate
//! by `(topic, partition, offset)`, the identity of a Kafka record.
//!
//! Records are archived as they were on the topic, poison included: the value is kept as JSON when
//! it parses (every CloudEvent does) and as base64 otherwise.

use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;
use base64::Engine;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use weelo_msk::{ConsumedRecord, RecordId};

/// One archived record: one line of an archive object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArchivedRecord {
    /// As `topic`, `partition` and `offset`.
    #[serde(flatten)]
    pub id: RecordId,
    pub timestamp: DateTime<Utc>,
    pub key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<serde_json::Value>,
    /// The value as base64 when it is not JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_base64: Option<String>,
}

impl ArchivedRecord {
    /// A consumed record, as it was on the topic.
    pub fn from_consumed(record: &ConsumedRecord) -> Self {
        let b64 = base64::engine::general_purpose::STANDARD;
        let json = record.value.as_deref().and_then(|bytes| serde_json::from_slice::<serde_json::Value>(bytes).ok());
        Self {
            id: record.id(),
            timestamp: DateTime::from_timestamp_millis(record.timestamp_ms).unwrap_or_default(),
            key: record.key_text(),
            value_base64: match (&json, &record.value) {
                (None, Some(bytes)) => Some(b64.encode(bytes)),
                _ => None,
            },
            value: json,
        }
    }

    /// The CloudEvents `type`, when the value is a CloudEvent.
    pub fn event_type(&self) -> Option<&str> {
        self.value.as_ref()?.get("type")?.as_str()
    }
}

/// Where the records of one partition batch are archived.
pub fn object_key(first: &ArchivedRecord) -> String {
    format!(
        "{}{}/{}/{}-{}-{:020}.jsonl",
        PREFIX,
        first.id.topic,
        first.timestamp.format("%Y/%m/%d"),
        first.id.topic,
        first.id.partition,
        first.id.offset
    )
}

const PREFIX: &str = "events/";

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("writing {key} to the audit bucket failed: {reason}")]
    Write { key: String, reason: String },
    #[error("reading the audit bucket failed: {0}")]
    Read(String),
}

/// An S3 client with path-style addressing: the S3 emulator serves buckets under its own host
/// name, and AWS accepts both styles.
pub fn s3_client(aws: &aws_types::SdkConfig) -> Client {
    Client::from_conf(aws_sdk_s3::config::Builder::from(aws).force_path_style(true).build())
}

/// Where the archive is: what its writer (audit-consumer) and its readers (`weelo-ops audit`,
/// `weelo-ops funnel`) read first, once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveSettings {
    /// `SDK_ATTEMPT_TIMEOUT_MS`, `SDK_OPERATION_TIMEOUT_MS`.
    pub sdk: weelo_aws::Timeouts,
    /// `AUDIT_BUCKET`.
    pub bucket: String,
}

impl ArchiveSettings {
    pub fn from_env() -> anyhow::Result<Self> {
        Ok(Self { sdk: weelo_aws::Timeouts::from_env()?, bucket: weelo_aws::required("AUDIT_BUCKET")? })
    }

    /// The archive, with a client built once.
    pub async fn connect(&self) -> AuditArchive {
        let aws = weelo_aws::sdk_config(self.sdk).await;
        AuditArchive::new(s3_client(&aws), self.bucket.clone())
    }
}

/// The archive in one S3 bucket.
#[derive(Clone, Debug)]
pub struct AuditArchive {
    s3: Client,
    bucket: String,
}

impl AuditArchive {
    pub fn new(s3: Client, bucket: impl Into<String>) -> Self {
        Self { s3, bucket: bucket.into() }
    }

    /// Writes one partition's records (offset order) as one object; returns its key.
    pub async fn write(&self, records: &[ArchivedRecord]) -> Result<String, ArchiveError> {
        let Some(first) = records.first() else { return Ok(String::new()) };
        let key = object_key(first);
        let mut body = Vec::with_capacity(records.len() * 512);
        for record in records {
            serde_json::to_writer(&mut body, record).expect("an archived record serialises");
            body.push(b'\n');
        }
        self.s3
            .put_object()
            .bucket(&self.bucket)
            .key(&key)
            .content_type("application/x-ndjson")
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(|e| ArchiveError::Write {
                key: key.clone(),
                reason: aws_sdk_s3::error::DisplayErrorContext(e).to_string(),
            })?;
        Ok(key)
    }

    /// Every archived record of the days `from..=to` whose key, subject or data mentions `needle`
    /// (a booking, order or user id), once each, oldest first, leaving out the topics in `skip`.
    /// Reads every object of those days, 16 at a time: fine for an investigation; Athena over the
    /// same JSON Lines is the tool for bulk questions.
    pub async fn search(
        &self, needle: &str, from: NaiveDate, to: NaiveDate, skip: &[&str],
    ) -> Result<Vec<ArchivedRecord>, ArchiveError> {
        use futures::{StreamExt, TryStreamExt};
        let keys = self.keys_between(from, to, skip).await?;
        let objects: Vec<(String, Vec<u8>)> = futures::stream::iter(keys)
            .map(|key| async move {
                let object = self.s3.get_object().bucket(&self.bucket).key(&key).send().await.map_err(read_error)?;
                let bytes = object.body.collect().await.map_err(|e| ArchiveError::Read(e.to_string()))?;
                Ok::<_, ArchiveError>((key, bytes.into_bytes().to_vec()))
            })
            .buffer_unordered(16)
            .try_collect()
            .await?;
        let mut found: BTreeMap<RecordId, ArchivedRecord> = BTreeMap::new();
        for (key, bytes) in objects {
            for line in bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
                // A cheap substring test first: most lines of a day are about something else.
                if !contains(line, needle.as_bytes()) {
                    continue;
                }
                let record: ArchivedRecord =
                    serde_json::from_slice(line).map_err(|e| ArchiveError::Read(format!("{key}: {e}")))?;
                found.insert(record.id.clone(), record);
            }
        }
        let mut records: Vec<ArchivedRecord> = found.into_values().collect();
        records.sort_by(|a, b| (a.timestamp, &a.id).cmp(&(b.timestamp, &b.id)));
        Ok(records)
    }

    /// Every record archived on the days `from..=to` on `topic`, once each (by topic, partition
    /// and offset), in no particular order; `on_object` is called with the number of objects
    /// first and then once per object read (for a progress bar).
    pub async fn records_of(
        &self, topic: &str, from: NaiveDate, to: NaiveDate, on_object: impl Fn(Option<u64>),
    ) -> Result<Vec<ArchivedRecord>, ArchiveError> {
        use futures::StreamExt;
        let others = self.topics().await?;
        let skip: Vec<&str> = others.iter().map(String::as_str).filter(|t| *t != topic).collect();
        let keys = self.keys_between(from, to, &skip).await?;
        on_object(Some(keys.len() as u64));
        let mut objects = futures::stream::iter(keys)
            .map(|key| async move {
                let object = self.s3.get_object().bucket(&self.bucket).key(&key).send().await.map_err(read_error)?;
                let bytes = object.body.collect().await.map_err(|e| ArchiveError::Read(e.to_string()))?;
                Ok::<_, ArchiveError>((key, bytes.into_bytes()))
            })
            .buffer_unordered(16);
        let mut found: BTreeMap<RecordId, ArchivedRecord> = BTreeMap::new();
        while let Some(object) = objects.next().await {
            let (key, bytes) = object?;
            for line in bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
                let record: ArchivedRecord =
                    serde_json::from_slice(line).map_err(|e| ArchiveError::Read(format!("{key}: {e}")))?;
                found.insert(record.id.clone(), record);
            }
            on_object(None);
        }
        Ok(found.into_values().collect())
    }

    /// The topics the archive holds.
    async fn topics(&self) -> Result<Vec<String>, ArchiveError> {
        let mut topics = Vec::new();
        let mut pages =
            self.s3.list_objects_v2().bucket(&self.bucket).prefix(PREFIX).delimiter("/").into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(read_error)?;
            let prefixes = page.common_prefixes().iter().filter_map(|p| p.prefix());
            topics.extend(prefixes.map(|p| p.trim_start_matches(PREFIX).trim_end_matches('/').to_owned()));
        }
        Ok(topics)
    }

    /// The keys of every object archived on the days `from..=to`, all topics but those in `skip`.
    pub async fn keys_between(
        &self, from: NaiveDate, to: NaiveDate, skip: &[&str],
    ) -> Result<Vec<String>, ArchiveError> {
        let mut topics = self.topics().await?;
        topics.retain(|topic| !skip.contains(&topic.as_str()));
        let mut keys = Vec::new();
        for topic in topics {
            for day in from.iter_days().take_while(|d| *d <= to) {
                let prefix = format!("{PREFIX}{topic}/{}/", day.format("%Y/%m/%d"));
                let mut pages = self.s3.list_objects_v2().bucket(&self.bucket).prefix(prefix).into_paginator().send();
                while let Some(page) = pages.next().await {
                    keys.extend(page.map_err(read_error)?.contents().iter().filter_map(|o| o.key().map(str::to_owned)));
                }
            }
        }
        Ok(keys)
    }
}

fn read_error<E: std::error::Error + 'static>(error: E) -> ArchiveError {
    ArchiveError::Read(aws_sdk_s3::error::DisplayErrorContext(error).to_string())
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn consumed(value: &[u8]) -> ConsumedRecord {
        ConsumedRecord {
            topic: "booking.events".into(),
            partition: 7,
            offset: 42,
            timestamp_ms: DateTime::parse_from_rfc3339("2026-11-26T10:00:00Z").unwrap().timestamp_millis(),
            key: Some(b"booking-1".to_vec()),
            value: Some(value.to_vec()),
            headers: vec![],
        }
    }

    #[test]
    fn a_json_value_is_kept_as_json_and_anything_else_as_base64() {
        let cloud_event = ArchivedRecord::from_consumed(&consumed(br#"{"type":"com.weelo.booking.created.v1"}"#));
        assert_eq!(cloud_event.event_type(), Some("com.weelo.booking.created.v1"));
        assert_eq!(cloud_event.value_base64, None);
        assert_eq!(cloud_event.key.as_deref(), Some("booking-1"));

        let poison = ArchivedRecord::from_consumed(&consumed(b"\xff not json"));
        assert_eq!(poison.value, None);
        assert_eq!(
            poison.value_base64.as_deref(),
            Some(base64::engine::general_purpose::STANDARD.encode(b"\xff not json").as_str())
        );
    }

    #[test]
    fn the_object_key_names_topic_day_partition_and_first_offset() {
        let record = ArchivedRecord::from_consumed(&consumed(b"{}"));
        assert_eq!(object_key(&record), "events/booking.events/2026/11/26/booking.events-7-00000000000000000042.jsonl");
    }
}
