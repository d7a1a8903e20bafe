//! [`LocationHistoryStore`]: the GPS points of 7 days, one item per segment (a transporter's
//! points of one batch, `weelo_core::model::history`), keyed by the segment's first point's time
//! and id; a trip's track is read from a range of those keys, oldest first, and a transporter's
//! latest position from the newest few.

use crate::DynamoStore;
use crate::HISTORY_TTL_SECS;
use crate::items::*;
use crate::pages::KeyPage;
use crate::requests::*;
use async_trait::async_trait;
use weelo_core::contract::events::LocationUpdated;
use weelo_core::model::history::{self, TrackPage};
use weelo_core::model::ids::{EventId, UserId};
use weelo_core::model::location::LocationPoint;
use weelo_core::ports::{LocationHistoryStore, Page, PagePosition, StoreError, TrackRange};

/// Segments read per query while a track's page is gathered.
const SEGMENTS_PER_READ: usize = 50;

/// Segments read per query while a latest position is looked for.
const LATEST_SEGMENTS_PER_READ: i32 = 25;

#[async_trait]
impl LocationHistoryStore for DynamoStore {
    async fn append_points(&self, points: &[(EventId, LocationUpdated)]) -> Result<(), StoreError> {
        let items = history::segments(points)
            .iter()
            .map(|segment| {
                to_item(&HistoryItem {
                    transporter_id: segment.transporter_id.to_string(),
                    point_key: segment.key(),
                    points: segment.points.iter().map(SegmentPoint::from).collect(),
                    expires_at: segment.last_at().timestamp() + HISTORY_TTL_SECS,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.batch_put(&self.tables.location_history, items).await
    }

    async fn track(&self, transporter: &UserId, range: TrackRange<'_>) -> Result<Page<LocationPoint>, StoreError> {
        let TrackRange { from, until, limit, after } = range;
        let mut page = TrackPage::new(from, until, limit, after);
        let range = ("pointKey", history::first_key(from, after), history::last_key(until));
        let mut position: Option<PagePosition> = None;
        loop {
            let (items, next) = self
                .page(KeyPage {
                    table: &self.tables.location_history,
                    index: None,
                    hash: ("transporterId", transporter.to_string()),
                    range: Some(range.clone()),
                    newest_first: false,
                    key_attributes: &["transporterId", "pointKey"],
                    statuses: Vec::new(),
                    limit: SEGMENTS_PER_READ,
                    after: position.as_ref(),
                })
                .await?;
            let mut read_up_to = None;
            for item in items {
                let segment = from_item::<HistoryItem>(item)?;
                read_up_to = history::key_time(&segment.point_key);
                page.add(segment.points.iter().filter_map(SegmentPoint::point));
            }
            // Segments not read yet start at or after the last one read: earlier points are known.
            let unread = match (&next, read_up_to) {
                (None, _) => None,
                (Some(_), Some(at)) => Some(at),
                (Some(_), None) => {
                    position = next;
                    continue;
                }
            };
            if let Some(done) = page.page(unread) {
                return Ok(done);
            }
            position = next;
        }
    }
}

impl DynamoStore {
    /// The newest point of `transporter`'s history (`TransporterStore::latest_position`). Segments
    /// are read newest key first; a segment's points are recorded within a span of its key
    /// (`history::segment_span`), so once a segment read starts a span or more before the newest
    /// point found, no segment left can hold a newer one, however out of order the batches came.
    pub(crate) async fn newest_point(&self, transporter: &UserId) -> Result<Option<LocationPoint>, StoreError> {
        let mut newest: Option<LocationPoint> = None;
        let mut start = None;
        loop {
            let output = self
                .query_on(&self.tables.location_history, None, "transporterId", transporter.to_string())
                .scan_index_forward(false)
                .limit(LATEST_SEGMENTS_PER_READ)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(classify)?;
            let mut oldest_read = None;
            for item in output.items.unwrap_or_default() {
                let segment = from_item::<HistoryItem>(item)?;
                oldest_read = history::key_time(&segment.point_key);
                for point in segment.points.iter().filter_map(SegmentPoint::point) {
                    if newest.as_ref().is_none_or(|n| point.recorded_at > n.recorded_at) {
                        newest = Some(point);
                    }
                }
            }
            let done = match (&newest, oldest_read) {
                (Some(newest), Some(key)) => key <= newest.recorded_at - history::segment_span(),
                _ => false,
            };
            match output.last_evaluated_key {
                Some(key) if !done => start = Some(key),
                _ => return Ok(newest),
            }
        }
    }
}
