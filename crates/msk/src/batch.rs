//! Partial batch responses, `{"batchItemFailures": [{"itemIdentifier": {"partition": "<topic>-<n>",
//! "offset": N}}]}`, so only a failed record and those after it in its partition are delivered
//! again; and the processor that runs a consumer's function over a batch, per record or per
//! partition, partitions in parallel, and collects the failures into that response.

use crate::event::decode;
use crate::record::ConsumedRecord;
use aws_lambda_events::kafka::KafkaEvent;
use serde::{Deserialize, Serialize};
use std::future::Future;
use weelo_core::contract::events::DomainEvent;
use weelo_core::model::ids::EventId;

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

/// Why a partition's records stopped being processed, and from which one they must come again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionFailure {
    pub offset: i64,
    pub reason: String,
}

/// Runs `handle` on each partition's records (in offset order), partitions in parallel. A failure
/// names the record from which the partition is delivered again; the records before it count as
/// consumed.
pub async fn for_each_partition<F, Fut>(batch: &KafkaEvent, handle: F) -> BatchResponse
where
    F: Fn(Vec<ConsumedRecord>) -> Fut,
    Fut: Future<Output = Result<(), PartitionFailure>>,
{
    let handle = &handle;
    let outcomes = futures::future::join_all(decode(batch).into_iter().map(|(partition, records)| async move {
        let offsets: Vec<i64> = records.iter().map(|r| r.offset).collect();
        match handle(records).await {
            Ok(()) => {
                metrics::counter!(weelo_telemetry::CONSUMED).increment(offsets.len() as u64);
                None
            }
            Err(failure) => {
                tracing::warn!(%partition, offset = failure.offset, reason = %failure.reason, "record failed");
                let consumed = offsets.iter().filter(|o| **o < failure.offset).count();
                metrics::counter!(weelo_telemetry::CONSUMED).increment(consumed as u64);
                metrics::counter!(weelo_telemetry::FAILED).increment(1);
                Some((partition, failure.offset))
            }
        }
    }))
    .await;
    let mut response = BatchResponse::default();
    for (partition, offset) in outcomes.into_iter().flatten() {
        response.fail(&partition, offset);
    }
    response
}

/// Runs `handle` on each record's event, in order within its partition. The first failure in a
/// partition (the handler's, or a record that holds no event) stops that partition: the mapping
/// redelivers from that record, which keeps per-key order.
pub async fn for_each_record<F, Fut, E>(batch: &KafkaEvent, handle: F) -> BatchResponse
where
    F: Fn(EventId, DomainEvent) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: std::fmt::Display,
{
    let handle = &handle;
    for_each_partition(batch, |records| async move {
        for record in records {
            let (id, event) = record.event().map_err(|reason| PartitionFailure { offset: record.offset, reason })?;
            handle(id, event)
                .await
                .map_err(|error| PartitionFailure { offset: record.offset, reason: error.to_string() })?;
        }
        Ok(())
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lambda_events::kafka::KafkaRecord;
    use base64::Engine;
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
        let good =
            weelo_core::contract::events::DomainEvent::NotificationFcm(weelo_core::contract::events::FcmNotification {
                recipient_id: weelo_core::model::ids::UserId::parse("u").unwrap(),
                kind: "k".into(),
                title: "t".into(),
                body: "b".into(),
                data: Default::default(),
                data_only: false,
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
        let response = for_each_record(&event, |id, _| {
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
