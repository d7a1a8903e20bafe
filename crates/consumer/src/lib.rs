//! What the consumer functions share: turning an MSK event (as Lambda delivers it from an
//! event-source mapping) into domain events in partition order, and answering with a partial batch
//! response, `{"batchItemFailures": [{"itemIdentifier": {"partition": "<topic>-<n>", "offset": N}}]}`,
//! so only a failed record and those after it in its partition are delivered again.

pub mod mappings;

use aws_lambda_events::kafka::KafkaEvent;
use base64::Engine;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::future::Future;
use weelo_core::events::DomainEvent;
use weelo_core::ids::EventId;

/// One record of a batch, decoded (or why it could not be).
#[derive(Debug, Clone)]
pub struct ConsumedRecord {
    /// `<topic>-<partition>`, as the batch keys it.
    pub partition: String,
    pub offset: i64,
    pub event: Result<(EventId, DomainEvent), String>,
}

/// The records of a batch grouped by partition, each partition in offset order.
pub fn partitions(batch: &KafkaEvent) -> BTreeMap<String, Vec<ConsumedRecord>> {
    let mut partitions: BTreeMap<String, Vec<ConsumedRecord>> = BTreeMap::new();
    for (key, records) in &batch.records {
        for record in records {
            let partition = match &record.topic {
                Some(topic) => format!("{topic}-{}", record.partition),
                None => key.clone(),
            };
            let event = record
                .value
                .as_deref()
                .ok_or_else(|| "record has no value".to_owned())
                .and_then(|value| {
                    base64::engine::general_purpose::STANDARD
                        .decode(value)
                        .map_err(|e| format!("value is not base64: {e}"))
                })
                .and_then(|bytes| DomainEvent::from_payload(&bytes).map_err(|e| e.to_string()));
            partitions.entry(partition.clone()).or_default().push(ConsumedRecord {
                partition,
                offset: record.offset,
                event,
            });
        }
    }
    for records in partitions.values_mut() {
        records.sort_by_key(|r| r.offset);
    }
    partitions
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchResponse {
    pub batch_item_failures: Vec<BatchItemFailure>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchItemFailure {
    pub item_identifier: ItemIdentifier,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemIdentifier {
    pub partition: String,
    pub offset: i64,
}

impl BatchResponse {
    /// Records `offset` of `partition` as failed (the earliest failure per partition counts).
    pub fn fail(&mut self, partition: &str, offset: i64) {
        match self.batch_item_failures.iter_mut().find(|f| f.item_identifier.partition == partition) {
            Some(existing) => existing.item_identifier.offset = existing.item_identifier.offset.min(offset),
            None => self
                .batch_item_failures
                .push(BatchItemFailure { item_identifier: ItemIdentifier { partition: partition.to_owned(), offset } }),
        }
    }

    pub fn is_success(&self) -> bool {
        self.batch_item_failures.is_empty()
    }
}

/// Handles each record in order, partitions in parallel. The first failure in a partition stops
/// that partition: the mapping redelivers from that record, which keeps per-key order.
pub async fn process_in_order<F, Fut, E>(batch: &KafkaEvent, handle: F) -> BatchResponse
where
    F: Fn(EventId, DomainEvent) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: std::fmt::Display,
{
    let partitions = partitions(batch);
    let handle = &handle;
    let failures = futures::future::join_all(partitions.into_values().map(|records| async move {
        let mut consumed = 0u64;
        for record in records {
            let failed = match record.event {
                Ok((id, event)) => match handle(id, event).await {
                    Ok(()) => false,
                    Err(error) => {
                        tracing::warn!(partition = %record.partition, offset = record.offset, %error, "record failed");
                        true
                    }
                },
                Err(reason) => {
                    tracing::warn!(partition = %record.partition, offset = record.offset, %reason, "undecodable record");
                    true
                }
            };
            if failed {
                metrics::counter!(weelo_telemetry::CONSUMED).increment(consumed);
                metrics::counter!(weelo_telemetry::FAILED).increment(1);
                return Some((record.partition, record.offset));
            }
            consumed += 1;
        }
        metrics::counter!(weelo_telemetry::CONSUMED).increment(consumed);
        None
    }))
    .await;
    let mut response = BatchResponse::default();
    for (partition, offset) in failures.into_iter().flatten() {
        response.fail(&partition, offset);
    }
    response
}

/// A numeric setting from the environment, or `default` when unset.
pub fn env_number<T: std::str::FromStr>(name: &str, default: T) -> Result<T, String> {
    match std::env::var(name) {
        Ok(text) => text.parse().map_err(|_| format!("environment variable {name} is not a valid number: {text:?}")),
        Err(_) => Ok(default),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lambda_events::kafka::KafkaRecord;
    use std::collections::HashMap;

    fn record(topic: &str, partition: i64, offset: i64, value: &[u8]) -> KafkaRecord {
        let mut record = KafkaRecord::default();
        record.topic = Some(topic.to_owned());
        record.partition = partition;
        record.offset = offset;
        record.value = Some(base64::engine::general_purpose::STANDARD.encode(value));
        record
    }

    #[test]
    fn a_batch_response_keeps_the_earliest_failure_per_partition() {
        let mut response = BatchResponse::default();
        response.fail("t-0", 7);
        response.fail("t-0", 5);
        response.fail("t-1", 9);
        let json = serde_json::to_value(&response).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"batchItemFailures": [
                {"itemIdentifier": {"partition": "t-0", "offset": 5}},
                {"itemIdentifier": {"partition": "t-1", "offset": 9}}
            ]})
        );
    }

    #[tokio::test]
    async fn processing_stops_a_partition_at_its_first_bad_record_only() {
        let good = weelo_core::events::DomainEvent::NotificationFcm(weelo_core::events::FcmNotification {
            recipient_id: weelo_core::ids::UserId::parse("u").unwrap(),
            kind: "k".into(),
            title: "t".into(),
            body: "b".into(),
            data: Default::default(),
        })
        .to_record(EventId::generate(), "/test", chrono::Utc::now());
        let mut event = KafkaEvent::default();
        event.records = HashMap::from([
            (
                "t-0".to_owned(),
                vec![
                    record("t", 0, 2, good.payload.as_bytes()),
                    record("t", 0, 1, good.payload.as_bytes()),
                    record("t", 0, 3, b"garbage"),
                    record("t", 0, 4, good.payload.as_bytes()),
                ],
            ),
            ("t-1".to_owned(), vec![record("t", 1, 10, good.payload.as_bytes())]),
        ]);
        let seen = std::sync::Mutex::new(Vec::new());
        let response = process_in_order(&event, |id, _| {
            seen.lock().unwrap().push(id);
            async { Ok::<(), String>(()) }
        })
        .await;
        assert_eq!(response.batch_item_failures.len(), 1);
        assert_eq!(
            response.batch_item_failures[0].item_identifier,
            ItemIdentifier { partition: "t-0".into(), offset: 3 }
        );
        // offsets 1 and 2 of t-0 and 10 of t-1 were handled; 4 waits for the redelivery
        assert_eq!(seen.lock().unwrap().len(), 3);
    }
}
