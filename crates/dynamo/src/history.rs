//! [`LocationHistoryStore`]: every GPS point for 7 days, one item each, keyed by time and event id;
//! a trip's track is a range of those keys, read oldest first.

use crate::DynamoStore;
use crate::HISTORY_TTL_SECS;
use crate::items::*;
use crate::pages::KeyPage;
use crate::requests::*;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use weelo_core::contract::events::LocationUpdated;
use weelo_core::model::ids::{EventId, UserId};
use weelo_core::model::location::LocationPoint;
use weelo_core::ports::{LocationHistoryStore, Page, PagePosition, StoreError};

#[async_trait]
impl LocationHistoryStore for DynamoStore {
    async fn append_points(&self, points: &[(EventId, LocationUpdated)]) -> Result<(), StoreError> {
        let items = points
            .iter()
            .map(|(id, update)| {
                let at = update.point.recorded_at;
                to_item(&HistoryItem {
                    transporter_id: update.transporter_id.to_string(),
                    point_key: format!("{}#{id}", millis(at)),
                    point: update.point.clone(),
                    expires_at: at.timestamp() + HISTORY_TTL_SECS,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.batch_put(&self.tables.location_history, items).await
    }

    async fn track(
        &self,
        transporter: &UserId,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: usize,
        after: Option<&PagePosition>,
    ) -> Result<Page<LocationPoint>, StoreError> {
        // `$` sorts after `#`, and before any digit: the upper bound takes every point of the
        // last millisecond and none of the next.
        let range = ("pointKey", millis(from), format!("{}$", millis(until)));
        let (items, next) = self
            .page(KeyPage {
                table: &self.tables.location_history,
                index: None,
                hash: ("transporterId", transporter.to_string()),
                range: Some(range),
                newest_first: false,
                key_attributes: &["transporterId", "pointKey"],
                statuses: Vec::new(),
                limit,
                after,
            })
            .await?;
        let points = items.into_iter().map(|item| from_item::<HistoryItem>(item).map(|h| h.point));
        Ok(Page { items: points.collect::<Result<_, _>>()?, next })
    }
}

/// The start of a point's sort key, `<recorded at, in ms, 13 digits>#<event id>`: 13 digits, so
/// that text order is time order.
fn millis(at: DateTime<Utc>) -> String {
    format!("{:013}", at.timestamp_millis())
}
