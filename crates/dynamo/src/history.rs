//! [`LocationHistoryStore`]: every GPS point for 7 days, one item each, keyed by time and event id.

use crate::DynamoStore;
use crate::HISTORY_TTL_SECS;
use crate::items::*;
use crate::requests::*;
use async_trait::async_trait;
use weelo_core::contract::events::LocationUpdated;
use weelo_core::model::ids::EventId;
use weelo_core::ports::{LocationHistoryStore, StoreError};

#[async_trait]
impl LocationHistoryStore for DynamoStore {
    async fn append_points(&self, points: &[(EventId, LocationUpdated)]) -> Result<(), StoreError> {
        let items = points
            .iter()
            .map(|(id, update)| {
                let at = update.point.recorded_at;
                to_item(&HistoryItem {
                    transporter_id: update.transporter_id.to_string(),
                    point_key: format!("{:013}#{id}", at.timestamp_millis()),
                    point: update.point.clone(),
                    expires_at: at.timestamp() + HISTORY_TTL_SECS,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.batch_put(&self.tables.location_history, items).await
    }
}
