//! [`LocationProcessing`] (the location-consumer function): a batch of GPS points becomes one latest-position write per
//! transporter (only if newer than what is stored), a geo-index write when the cell changed or the
//! entry's refresh window passed, and every point in the 7-day history.

use crate::contract::events::LocationUpdated;
use crate::model::geo::{GeoGrid, GeoPoint};
use crate::model::ids::{EventId, UserId};
use crate::model::location::Position;
use crate::ports::{CellEntry, GeoIndexStore, LocationHistoryStore, PositionWrite, StoreError, TransporterStore};
use chrono::{DateTime, Duration, Utc};
use futures::{StreamExt, TryStreamExt, stream};
use std::collections::HashMap;

/// Concurrent position writes per batch.
const POSITION_CONCURRENCY: usize = 16;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LocationBatchReport {
    pub points: usize,
    pub transporters: usize,
    /// Latest positions written (the rest were older than what was stored).
    pub positions_written: usize,
    pub cell_moves: usize,
    /// Transporters whose geo-index entry was written: each a put, a delete of the old cell's entry
    /// on a move, and a note of the indexed cell on their position.
    pub index_writes: usize,
}

/// Whether a written position must be written to the geo index too, given where and as of when the
/// index last filed the transporter. Matching needs the right cell and an entry newer than its
/// cut-off (15 min), not every point: within one cell the entry is rewritten once per `refresh` window (a truck sending a point every 5 s costs one index write a
/// minute instead of twelve). A move to another cell is always written; a zero `refresh` writes
/// every point.
pub fn index_needs_write(
    indexed_cell: Option<&str>,
    indexed_at: Option<DateTime<Utc>>,
    cell: &str,
    recorded_at: DateTime<Utc>,
    refresh: Duration,
) -> bool {
    let window = refresh.num_milliseconds();
    match (indexed_cell, indexed_at) {
        (Some(indexed), Some(indexed_at)) if indexed == cell && window > 0 => {
            recorded_at.timestamp_millis().div_euclid(window) != indexed_at.timestamp_millis().div_euclid(window)
        }
        _ => true,
    }
}

/// Location processing over the store, the geo grid and the index's refresh window.
pub struct LocationProcessing<S> {
    store: S,
    grid: GeoGrid,
    /// See [`index_needs_write`].
    index_refresh: Duration,
}

impl<S: TransporterStore + GeoIndexStore + LocationHistoryStore> LocationProcessing<S> {
    pub fn new(store: S, grid: GeoGrid, index_refresh: Duration) -> Self {
        Self { store, grid, index_refresh }
    }

    /// The store it writes to (for tests that seed or inspect it).
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Processes a batch of points: every point into the history, the newest of each transporter
    /// as their position (if newer than the stored one), and into the geo index when needed.
    pub async fn on_batch(&self, updates: &[(EventId, LocationUpdated)]) -> Result<LocationBatchReport, StoreError> {
        let mut newest: HashMap<&UserId, &LocationUpdated> = HashMap::new();
        for (_, update) in updates {
            let slot = newest.entry(&update.transporter_id).or_insert(update);
            if update.point.recorded_at > slot.point.recorded_at {
                *slot = update;
            }
        }
        self.store.append_points(updates).await?;
        let outcomes: Vec<Written> = stream::iter(newest.values().copied())
            .map(|update| self.record(update))
            .buffer_unordered(POSITION_CONCURRENCY)
            .try_collect()
            .await?;
        Ok(LocationBatchReport {
            points: updates.len(),
            transporters: newest.len(),
            positions_written: outcomes.iter().filter(|w| w.position).count(),
            cell_moves: outcomes.iter().filter(|w| w.moved).count(),
            index_writes: outcomes.iter().filter(|w| w.indexed).count(),
        })
    }

    /// One transporter's newest point: their position, then their geo-index entry if it needs it.
    async fn record(&self, update: &LocationUpdated) -> Result<Written, StoreError> {
        let position = Position { transporter_id: update.transporter_id.clone(), point: update.point.clone() };
        let cell = self.grid.cell(GeoPoint { lat: update.point.lat, lng: update.point.lng });
        let PositionWrite::Written { indexed_cell, indexed_at } = self.store.record_position(&position, &cell).await?
        else {
            return Ok(Written::default());
        };
        let at = update.point.recorded_at;
        if !index_needs_write(indexed_cell.as_deref(), indexed_at, &cell, at, self.index_refresh) {
            return Ok(Written { position: true, ..Written::default() });
        }
        let entry = CellEntry {
            transporter_id: update.transporter_id.clone(),
            lat: update.point.lat,
            lng: update.point.lng,
            recorded_at: at,
        };
        self.store.move_in_index(&entry, indexed_cell.as_deref(), &cell).await?;
        Ok(Written { position: true, moved: indexed_cell.as_deref() != Some(cell.as_str()), indexed: true })
    }
}

/// What [`LocationProcessing::record`] wrote for one transporter.
#[derive(Debug, Default, Clone, Copy)]
struct Written {
    position: bool,
    moved: bool,
    indexed: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap()
    }

    #[test]
    fn the_index_is_written_on_a_move_or_once_per_refresh_window() {
        let minute = Duration::seconds(60);
        // GIVEN a transporter last indexed in cell "a" at second 0 of a minute
        // THEN another point in the same cell and minute needs no index write
        assert!(!index_needs_write(Some("a"), Some(at(0)), "a", at(55), minute));
        // AND the first point of the next minute, a move, or a first point do
        assert!(index_needs_write(Some("a"), Some(at(55)), "a", at(60), minute));
        assert!(index_needs_write(Some("a"), Some(at(0)), "b", at(5), minute));
        assert!(index_needs_write(None, None, "a", at(5), minute));
        // AND a zero window writes every point
        assert!(index_needs_write(Some("a"), Some(at(0)), "a", at(5), Duration::zero()));
    }
}
