//! `weelo-ops redrive`: sends dead-lettered records back to their function, one message at a
//! time, and says what happened to each. A message whose records the function now processes is
//! deleted from the queue; one that fails again stays there (visible again at once) with the new
//! reason reported.
//!
//! Two kinds of message are understood:
//! - the local bridge's: the record itself plus `function` and `error`; a record too big for an SQS
//!   message comes without its value and is read back from Kafka at its offset;
//! - AWS's own on-failure destination record of an MSK mapping: metadata only (`requestContext.functionArn`
//!   and `KafkaBatchInfo.recordsInfo`, first and last offset per topic-partition), so every record
//!   of the batch is read back from Kafka.
//!
//! Either way the records must still be in Kafka (retention: 7 days) when they are read back.

use crate::invoke::{Invoker, Outcome};
use crate::replay::PartitionRange;
use base64::Engine;
use serde::Deserialize;
use std::collections::BTreeMap;
use weelo_msk::ConsumedRecord;

/// A dead letter as the local bridge writes it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeadLetter {
    pub function: String,
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub key: Option<String>,
    pub value: Option<String>,
    pub error: String,
}

/// What AWS Lambda sends to an MSK event-source mapping's SQS or SNS on-failure destination.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AwsDestinationRecord {
    request_context: AwsRequestContext,
    #[serde(rename = "KafkaBatchInfo")]
    kafka_batch_info: AwsKafkaBatchInfo,
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
    /// Records carried in the message itself.
    /// The records a bridge dead letter carries.
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
    async fn records(&self) -> anyhow::Result<Vec<ConsumedRecord>> {
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
            let range = PartitionRange { partition: letter.partition, start: letter.offset, end: letter.offset + 1 };
            (vec![(letter.topic, range)], vec![])
        } else {
            let record = ConsumedRecord {
                topic: letter.topic,
                partition: letter.partition,
                offset: letter.offset,
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
        Ok(Letter { function, error: record.request_context.condition, ranges, carried: vec![] })
    }
}

/// What became of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redriven {
    /// Processed by the function and deleted from the queue.
    Processed { function: String, topic: String, offset: i64 },
    /// Failed again; left in the queue.
    FailedAgain { function: String, topic: String, offset: i64, reason: String },
    /// Not a message the tool understands, or its records are gone from Kafka; left in the queue.
    NotRedrivable { reason: String },
}

/// Redrives every message of the queue named `queue` (at most `max`). `function` overrides the
/// function named in each message (in AWS names carry the stack's prefix).
pub async fn redrive(queue: &str, function: Option<&str>, max: usize) -> anyhow::Result<Vec<Redriven>> {
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let sqs = aws_sdk_sqs::Client::new(&aws);
    let url = sqs.get_queue_url().queue_name(queue).send().await?.queue_url.unwrap_or_default();
    let invoker = Invoker::from_env().await;
    let bar = crate::progress(max as u64, &format!("redriving {queue}"));
    let mut outcomes = Vec::new();
    // A message left in the queue is not received twice in one run: it stays invisible until
    // the run ends, then its visibility is reset so the next run (or a person) sees it at once.
    let mut kept = Vec::new();
    while outcomes.len() < max {
        let received = sqs
            .receive_message()
            .queue_url(&url)
            .max_number_of_messages(10.min((max - outcomes.len()) as i32))
            .visibility_timeout(300)
            .wait_time_seconds(1)
            .send()
            .await?;
        if received.messages().is_empty() {
            break;
        }
        for message in received.messages() {
            let handle = message.receipt_handle().unwrap_or_default().to_owned();
            let outcome = redrive_one(&invoker, queue, function, message.body().unwrap_or_default()).await;
            if matches!(outcome, Redriven::Processed { .. }) {
                sqs.delete_message().queue_url(&url).receipt_handle(&handle).send().await?;
            } else {
                kept.push(handle);
            }
            outcomes.push(outcome);
            bar.inc(1);
        }
    }
    for handle in kept {
        sqs.change_message_visibility().queue_url(&url).receipt_handle(handle).visibility_timeout(0).send().await?;
    }
    bar.finish_and_clear();
    Ok(outcomes)
}

/// Sends the records of one dead letter (`body`) back to its function (or `function`).
async fn redrive_one(invoker: &Invoker, queue: &str, function: Option<&str>, body: &str) -> Redriven {
    let letter = match Letter::parse(body) {
        Ok(letter) => letter,
        Err(reason) => return Redriven::NotRedrivable { reason },
    };
    let target = function.unwrap_or(&letter.function).to_owned();
    let (topic, offset) = letter.first();
    let records = match letter.records().await {
        Ok(records) => records,
        Err(error) => return Redriven::NotRedrivable { reason: format!("{error:#}") },
    };
    let event = weelo_msk::encode(&format!("weelo-ops:redrive:{queue}"), None, &records);
    match invoker.invoke(&target, &event).await {
        Outcome::Processed => Redriven::Processed { function: target, topic, offset },
        Outcome::PartlyFailed(_) => {
            let reason = format!("the function failed the record again (dead-lettered for: {})", letter.error);
            Redriven::FailedAgain { function: target, topic, offset, reason }
        }
        Outcome::Failed(reason) => Redriven::FailedAgain { function: target, topic, offset, reason },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_aws_destination_record_names_every_offset_of_the_failed_batch_for_its_function() {
        // GIVEN what Lambda sends to an MSK mapping's SQS destination (shape from the Lambda guide)
        let body = r#"{
            "requestContext": {"requestId": "316aa6d0", "functionArn": "arn:aws:lambda:ap-south-1:123456789012:function:weelo-prod-fcm-consumer:$LATEST",
                               "condition": "RetryAttemptsExhausted", "approximateInvokeCount": 4},
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "version": "1.0", "timestamp": "2026-11-14T00:38:06.021Z",
            "KafkaBatchInfo": {"batchSize": 5, "eventSourceArn": "arn:aws:kafka:ap-south-1:123456789012:cluster/weelo/x",
                               "bootstrapServers": "b-1:9098", "payloadSize": 2039,
                               "recordsInfo": {"notification.fcm-0": {"firstRecordOffset": "40", "lastRecordOffset": "42",
                                                                     "firstRecordTimestamp": "2026-11-14T00:38:04.835Z", "lastRecordTimestamp": "2026-11-14T00:38:05.580Z"},
                                               "notification.fcm-11": {"firstRecordOffset": "7", "lastRecordOffset": "8",
                                                                      "firstRecordTimestamp": "2026-11-14T00:38:04.835Z", "lastRecordTimestamp": "2026-11-14T00:38:05.580Z"}}}
        }"#;

        // WHEN it is read
        let letter = Letter::parse(body).unwrap();

        // THEN it goes back to the function the ARN names, for offsets 40..=42 and 7..=8
        assert_eq!(letter.function, "weelo-prod-fcm-consumer");
        assert_eq!(letter.error, "RetryAttemptsExhausted");
        assert!(letter.carried.is_empty());
        assert_eq!(
            letter.ranges,
            vec![
                ("notification.fcm".to_owned(), PartitionRange { partition: 0, start: 40, end: 43 }),
                ("notification.fcm".to_owned(), PartitionRange { partition: 11, start: 7, end: 9 }),
            ]
        );
    }

    #[test]
    fn a_bridge_letter_carries_its_record_unless_it_was_too_big() {
        let carried = r#"{"function":"fcm-consumer","topic":"notification.fcm","partition":3,"offset":9,
                          "key":"aw==","value":"dg==","error":"boom","failedAt":"2026-11-26T00:00:00Z"}"#;
        let letter = Letter::parse(carried).unwrap();
        let record = ConsumedRecord {
            topic: "notification.fcm".into(),
            partition: 3,
            offset: 9,
            timestamp_ms: 0,
            key: Some(b"k".to_vec()),
            value: Some(b"v".to_vec()),
            headers: vec![],
        };
        assert_eq!(letter.carried, vec![record]);
        assert!(letter.ranges.is_empty());

        let named = r#"{"function":"fcm-consumer","topic":"notification.fcm","partition":3,"offset":9,
                        "key":null,"value":null,"valueBytes":300000,"error":"boom","failedAt":"2026-11-26T00:00:00Z"}"#;
        let letter = Letter::parse(named).unwrap();
        assert_eq!(
            letter.ranges,
            vec![("notification.fcm".into(), PartitionRange { partition: 3, start: 9, end: 10 })]
        );
    }

    #[test]
    fn anything_else_is_refused_with_a_reason() {
        for body in [
            "not json",
            "{}",
            r#"{"requestContext":{"functionArn":"arn:aws:lambda:r:1:function:f","condition":"x"},"KafkaBatchInfo":{"recordsInfo":{}}}"#,
            r#"{"requestContext":{"functionArn":"arn:aws:lambda:r:1:function:f","condition":"x"},"KafkaBatchInfo":{"recordsInfo":{"t-0":{"firstRecordOffset":"9","lastRecordOffset":"3"}}}}"#,
        ] {
            assert!(Letter::parse(body).is_err(), "{body}");
        }
    }
}
