//! [`Outbox`]: the events written by the transactions, in a sparse `pending` index until published.

use crate::DynamoStore;
use crate::OUTBOX_PENDING_SHARDS;
use crate::items::*;
use crate::requests::*;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use weelo_core::contract::events::EventRecord;
use weelo_core::model::ids::EventId;
use weelo_core::ports::{Outbox, StoreError};

#[async_trait]
impl Outbox for DynamoStore {
    async fn mark_sent(&self, ids: &[EventId]) -> Result<(), StoreError> {
        let now = Utc::now().to_rfc3339();
        concurrently(ids.iter().copied(), |id| {
            let now = now.clone();
            async move {
                let result = self
                    .update_at(&self.tables.outbox, key("eventId", id.to_string()))
                    .update_expression("REMOVE pendingShard SET sentAt = :now")
                    .condition_expression("attribute_exists(eventId)")
                    .expression_attribute_values(":now", AttributeValue::S(now))
                    .send()
                    .await;
                // Gone already (expired by TTL): nothing left to mark.
                conditional(result).map(|_| ())
            }
        })
        .await
        .map(|_: Vec<()>| ())
    }

    async fn pending(&self, created_before: DateTime<Utc>, limit: usize) -> Result<Vec<EventRecord>, StoreError> {
        let limit_i32 = i32::try_from(limit.max(1)).unwrap_or(i32::MAX);
        let shards = (0..OUTBOX_PENDING_SHARDS).map(|shard| async move {
            self.client
                .query()
                .table_name(&self.tables.outbox)
                .index_name("pending")
                .key_condition_expression("pendingShard = :shard AND createdAtMs < :cutoff")
                .expression_attribute_values(":shard", AttributeValue::S(shard.to_string()))
                .expression_attribute_values(
                    ":cutoff",
                    AttributeValue::N(created_before.timestamp_millis().to_string()),
                )
                .limit(limit_i32)
                .send()
                .await
                .map_err(classify)
        });
        let mut items: Vec<OutboxItem> = Vec::new();
        for output in futures::future::try_join_all(shards).await? {
            for item in output.items.unwrap_or_default() {
                items.push(from_item(item)?);
            }
        }
        items.sort_by_key(|i| i.created_at_ms);
        items.truncate(limit);
        Ok(items.into_iter().map(OutboxItem::into_record).collect())
    }
}
