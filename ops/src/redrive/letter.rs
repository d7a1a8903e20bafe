//! Reading a dead letter of any kind into the records it names or carries (see the parent module).

use crate::replay::PartitionRange;
use base64::Engine;
use serde::Deserialize;
use std::collections::BTreeMap;
use weelo_msk::{ConsumedRecord, DeadLetter, RecordId};

/// What AWS Lambda sends to an MSK event-source mapping's on-failure destination: to an SQS queue or
/// an SNS topic the metadata only, to an S3 bucket the metadata and the whole event (`payload`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AwsDestinationRecord {
    request_context: AwsRequestContext,
    #[serde(rename = "KafkaBatchInfo")]
    kafka_batch_info: AwsKafkaBatchInfo,
    /// The whole invocation event as a JSON string: only in an S3 destination's record.
    #[serde(default)]
    payload: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AwsRequestContext {
    function_arn: String,
    condition: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AwsKafkaBatchInfo {
    records_info: BTreeMap<String, AwsRecordsInfo>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AwsRecordsInfo {
    first_record_offset: String,
    last_record_offset: String,
}

/// The records one message names, and which function they go back to.
#[derive(Debug, PartialEq, Eq)]
pub struct Letter {
    pub function: String,
    /// Why it was dead-lettered.
    pub error: String,
    /// (topic, offsets) to read back from Kafka.
    pub ranges: Vec<(String, PartitionRange)>,
    /// The records the message itself carries (a bridge dead letter's, an S3 record's payload).
    pub carried: Vec<ConsumedRecord>,
}

impl Letter {
    /// Reads a queue message of either kind.
    pub fn parse(body: &str) -> Result<Self, String> {
        if let Ok(letter) = serde_json::from_str::<DeadLetter>(body) {
            return Ok(letter.into());
        }
        match serde_json::from_str::<AwsDestinationRecord>(body) {
            Ok(record) => record.try_into(),
            Err(error) => Err(format!("neither a bridge dead letter nor an AWS destination record: {error}")),
        }
    }

    /// The first topic and offset it names, for the report.
    pub fn first(&self) -> (String, i64) {
        self.carried
            .first()
            .map(|c| (c.topic.clone(), c.offset))
            .or_else(|| self.ranges.first().map(|(topic, range)| (topic.clone(), range.start)))
            .unwrap_or_default()
    }

    /// Its records: carried ones as they are, the others read back from Kafka.
    pub(super) async fn records(&self) -> anyhow::Result<Vec<ConsumedRecord>> {
        let mut records = self.carried.clone();
        for (topic, range) in &self.ranges {
            let config = weelo_kafka::KafkaConfig::from_env()?;
            let (topic, range) = (topic.clone(), *range);
            let found = tokio::task::spawn_blocking(move || {
                let mut found = Vec::new();
                crate::replay::read_range(&config, &topic, range, 500, |chunk| {
                    found.extend(chunk);
                    Ok(())
                })?;
                if (found.len() as u64) < range.len() {
                    anyhow::bail!(
                        "{topic}-{}@{}..{} is no longer (entirely) in Kafka: {} of {} records found",
                        range.partition,
                        range.start,
                        range.end,
                        found.len(),
                        range.len()
                    );
                }
                Ok(found)
            })
            .await??;
            records.extend(found.iter().map(weelo_kafka::consumed));
        }
        Ok(records)
    }
}

impl From<DeadLetter> for Letter {
    fn from(letter: DeadLetter) -> Self {
        let b64 = base64::engine::general_purpose::STANDARD;
        let decode = |text: &Option<String>| text.as_deref().and_then(|t| b64.decode(t).ok());
        let (ranges, carried) = if letter.value.is_none() {
            let RecordId { topic, partition, offset } = letter.record;
            (vec![(topic, PartitionRange { partition, start: offset, end: offset + 1 })], vec![])
        } else {
            let RecordId { topic, partition, offset } = letter.record;
            let record = ConsumedRecord {
                topic,
                partition,
                offset,
                timestamp_ms: 0,
                key: decode(&letter.key),
                value: decode(&letter.value),
                headers: vec![],
            };
            (vec![], vec![record])
        };
        Letter { function: letter.function, error: letter.error, ranges, carried }
    }
}

impl TryFrom<AwsDestinationRecord> for Letter {
    type Error = String;

    fn try_from(record: AwsDestinationRecord) -> Result<Self, String> {
        // arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]
        let function = record
            .request_context
            .function_arn
            .split(':')
            .nth(6)
            .filter(|name| !name.is_empty())
            .ok_or_else(|| format!("no function name in {:?}", record.request_context.function_arn))?
            .to_owned();
        let error = record.request_context.condition;
        if let Some(payload) = record.payload {
            let event: aws_lambda_events::kafka::KafkaEvent =
                serde_json::from_str(&payload).map_err(|e| format!("the payload is not an aws:kafka event: {e}"))?;
            let carried: Vec<ConsumedRecord> = weelo_msk::decode(&event).into_values().flatten().collect();
            if carried.is_empty() {
                return Err("the payload holds no records".into());
            }
            return Ok(Letter { function, error, ranges: vec![], carried });
        }
        let mut ranges = Vec::new();
        for (topic_partition, info) in record.kafka_batch_info.records_info {
            let (topic, partition) = topic_partition
                .rsplit_once('-')
                .and_then(|(topic, partition)| Some((topic.to_owned(), partition.parse::<i32>().ok()?)))
                .ok_or_else(|| format!("{topic_partition:?} is not TOPIC-PARTITION"))?;
            let offset = |text: &str| text.parse::<i64>().map_err(|_| format!("offset {text:?} is not a number"));
            let (first, last) = (offset(&info.first_record_offset)?, offset(&info.last_record_offset)?);
            if last < first {
                return Err(format!("{topic_partition}: last offset {last} before first {first}"));
            }
            ranges.push((topic, PartitionRange { partition, start: first, end: last + 1 }));
        }
        if ranges.is_empty() {
            return Err("the destination record names no records".into());
        }
        Ok(Letter { function, error, ranges, carried: vec![] })
    }
}

#[cfg(test)]
#[path = "letter_tests.rs"]
mod tests;
