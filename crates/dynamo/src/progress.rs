//! [`ProgressStore`]: analytics' counted-once mark, one item per stream
//! (`<scope>#<topic>#<partition>`) holding the highest offset counted.

use crate::DynamoStore;
use crate::requests::*;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use weelo_core::ports::{ProgressStore, StoreError};

#[async_trait]
impl ProgressStore for DynamoStore {
    async fn counted_up_to(&self, stream: &str) -> Result<Option<i64>, StoreError> {
        let read = self
            .client
            .get_item()
            .table_name(&self.tables.analytics_progress)
            .key("partitionKey", AttributeValue::S(stream.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        let offset = read.item.as_ref().and_then(|item| item.get("countedOffset")).and_then(|v| v.as_n().ok());
        offset.map(|n| n.parse::<i64>().map_err(|e| StoreError::new(false, e))).transpose()
    }

    async fn advance_count(&self, stream: &str, seen: Option<i64>, to: i64) -> Result<bool, StoreError> {
        let put = self
            .client
            .put_item()
            .table_name(&self.tables.analytics_progress)
            .item("partitionKey", AttributeValue::S(stream.to_owned()))
            .item("countedOffset", AttributeValue::N(to.to_string()))
            .item("countedAtMs", AttributeValue::N(chrono::Utc::now().timestamp_millis().to_string()));
        let put = match seen {
            None => put.condition_expression("attribute_not_exists(partitionKey)"),
            Some(seen) => put
                .condition_expression("countedOffset = :seen")
                .expression_attribute_values(":seen", AttributeValue::N(seen.to_string())),
        };
        conditional(put.send().await)
    }
}
