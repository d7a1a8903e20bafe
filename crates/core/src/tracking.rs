//! The location-consumer's use case: a batch of GPS points becomes one latest-position write per
//! transporter (only if newer than what is stored), a geo-index move when the cell changed, and
//! every point in the 7-day history.

use crate::events::LocationUpdated;
use crate::geo::{GeoGrid, GeoPoint};
use crate::ids::{EventId, UserId};
use crate::location::Position;
use crate::ports::{CellEntry, GeoIndexStore, LocationHistoryStore, PositionWrite, StoreError, TransporterStore};
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
}

pub async fn process_locations<S>(
    store: &S,
    grid: &GeoGrid,
    updates: &[(EventId, LocationUpdated)],
) -> Result<LocationBatchReport, StoreError>
where
    S: TransporterStore + GeoIndexStore + LocationHistoryStore,
{
    let mut newest: HashMap<&UserId, &LocationUpdated> = HashMap::new();
    for (_, update) in updates {
        let slot = newest.entry(&update.transporter_id).or_insert(update);
        if update.point.recorded_at > slot.point.recorded_at {
            *slot = update;
        }
    }
    store.append_points(updates).await?;
    let outcomes: Vec<(bool, bool)> = stream::iter(newest.values().copied())
        .map(|update| async move {
            let position = Position { transporter_id: update.transporter_id.clone(), point: update.point.clone() };
            let cell = grid.cell(GeoPoint { lat: update.point.lat, lng: update.point.lng });
            match store.record_position(&position, &cell).await? {
                PositionWrite::Stale => Ok::<_, StoreError>((false, false)),
                PositionWrite::Written { previous_cell } => {
                    let entry = CellEntry {
                        transporter_id: update.transporter_id.clone(),
                        lat: update.point.lat,
                        lng: update.point.lng,
                        recorded_at: update.point.recorded_at,
                    };
                    let moved = previous_cell.as_deref() != Some(cell.as_str());
                    store.move_in_index(&entry, previous_cell.as_deref(), &cell).await?;
                    Ok((true, moved))
                }
            }
        })
        .buffer_unordered(POSITION_CONCURRENCY)
        .try_collect()
        .await?;
    Ok(LocationBatchReport {
        points: updates.len(),
        transporters: newest.len(),
        positions_written: outcomes.iter().filter(|(written, _)| *written).count(),
        cell_moves: outcomes.iter().filter(|(_, moved)| *moved).count(),
    })
}
