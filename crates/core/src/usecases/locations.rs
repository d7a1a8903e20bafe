//! [`LocationProcessing`] (the location-consumer function): every point of a batch goes into the
//! 7-day history, which is also where a transporter's latest position is read from; and each
//! transporter's newest point goes into the geo index when the cell changed or the entry's refresh
//! window passed. Only then is their position item written, as the index's note of where it files
//! them and as of which point: a request whose point needs no index write writes nothing else. The
//! batch's notes are read together (one read per 100 transporters), its index writes go out
//! together (25 a request), and each note is written last: a failure before it leaves the note as
//! it was, so the retry redoes the whole move.

use crate::contract::events::LocationUpdated;
use crate::model::geo::{GeoGrid, GeoPoint};
use crate::model::ids::{EventId, UserId};
use crate::model::location::Position;
use crate::ports::{
    CellEntry, GeoIndexStore, IndexMove, IndexNote, LocationHistoryStore, StoreError, StoredPosition, TransporterStore,
};
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
    /// Position items written: one with each index write, as its note (a transporter whose newest
    /// point needs no index write, or is older than the stored one, gets none).
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
    indexed_cell: Option<&str>, indexed_at: Option<DateTime<Utc>>, cell: &str, recorded_at: DateTime<Utc>,
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

    /// Processes a batch of points: every point into the history, and the newest of each
    /// transporter into the geo index when needed, with their position item as its note.
    pub async fn on_batch(&self, updates: &[(EventId, LocationUpdated)]) -> Result<LocationBatchReport, StoreError> {
        let mut newest: HashMap<&UserId, &LocationUpdated> = HashMap::new();
        for (_, update) in updates {
            let slot = newest.entry(&update.transporter_id).or_insert(update);
            if update.point.recorded_at > slot.point.recorded_at {
                *slot = update;
            }
        }
        self.store.append_points(updates).await?;
        let transporters: Vec<UserId> = newest.keys().map(|t| (*t).clone()).collect();
        let stored: HashMap<UserId, StoredPosition> = self
            .store
            .stored_positions(&transporters)
            .await?
            .into_iter()
            .map(|s| (s.transporter_id.clone(), s))
            .collect();
        let plans: Vec<Plan> =
            newest.values().filter_map(|update| self.plan(update, stored.get(&update.transporter_id))).collect();
        let moves: Vec<IndexMove> = plans.iter().map(|plan| plan.index.clone()).collect();
        self.store.file_in_index(&moves).await?;
        let written: Vec<bool> = stream::iter(&plans)
            .map(|plan| self.store.write_position(&plan.position, Some(&plan.note)))
            .buffer_unordered(POSITION_CONCURRENCY)
            .try_collect()
            .await?;
        Ok(LocationBatchReport {
            points: updates.len(),
            transporters: newest.len(),
            positions_written: written.iter().filter(|w| **w).count(),
            cell_moves: moves.iter().filter(|m| m.from.as_deref() != Some(m.to.as_str())).count(),
            index_writes: moves.len(),
        })
    }

    /// What to write for one transporter's newest point, given what is stored: nothing when a point
    /// as new is stored or the index needs no write; else the index write and the position item
    /// that notes it.
    fn plan(&self, update: &LocationUpdated, stored: Option<&StoredPosition>) -> Option<Plan> {
        let at = update.point.recorded_at;
        if stored.is_some_and(|s| s.recorded_at >= at) {
            return None;
        }
        let cell = self.grid.cell(GeoPoint { lat: update.point.lat, lng: update.point.lng });
        let filed = stored.and_then(|s| s.filed.clone());
        let (indexed_cell, indexed_at) = (filed.as_ref().map(|f| f.cell.as_str()), filed.as_ref().map(|f| f.at));
        if !index_needs_write(indexed_cell, indexed_at, &cell, at, self.index_refresh) {
            return None;
        }
        let position = Position { transporter_id: update.transporter_id.clone(), point: update.point.clone() };
        let entry = CellEntry {
            transporter_id: update.transporter_id.clone(),
            lat: update.point.lat,
            lng: update.point.lng,
            recorded_at: at,
        };
        let index = IndexMove { entry, from: filed.map(|f| f.cell), to: cell.clone() };
        Some(Plan { position, note: IndexNote { cell, at }, index })
    }
}

/// What [`LocationProcessing::plan`] decided for one transporter: an index write, and the position
/// item written after it with its note.
struct Plan {
    position: Position,
    note: IndexNote,
    index: IndexMove,
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
