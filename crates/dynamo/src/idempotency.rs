//! [`IdempotencyStore`]: the remembered `Idempotency-Key`s (written by the create transactions).

use crate::DynamoStore;
use crate::items::*;
use crate::requests::*;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use weelo_core::ports::{IdempotencyRecord, IdempotencyStore, StoreError};

#[async_trait]
impl IdempotencyStore for DynamoStore {
    async fn get_idempotency(
        &self, scoped_key: &str, valid_at: DateTime<Utc>,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        let item: Option<IdempotencyItem> =
            self.get(&self.tables.idempotency, key("scopedKey", scoped_key.to_owned())).await?;
        // TTL deletion lags by up to days; an expired key is forgotten here already.
        Ok(item.filter(|i| i.expires_at > valid_at.timestamp()).map(Into::into))
    }
}
