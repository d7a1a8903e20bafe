//! The in-memory transporter store, geo index and GPS history.

use super::store::MemoryStore;
use crate::contract::events::LocationUpdated;
use crate::model::history;
use crate::model::ids::{EventId, UserId};
use crate::model::location::{LocationPoint, Position};
use crate::model::transporter::TransporterProfile;
use crate::ports::*;
use async_trait::async_trait;

#[async_trait]
impl TransporterStore for MemoryStore {
    async fn put_profile(&self, profile: &TransporterProfile) -> Result<TransporterProfile, StoreError> {
        let mut tables = self.lock();
        let active_trip = tables.profiles.get(&profile.transporter_id).and_then(|p| p.active_trip);
        let stored = TransporterProfile { active_trip, ..profile.clone() };
        tables.profiles.insert(profile.transporter_id.clone(), stored.clone());
        Ok(stored)
    }

    async fn get_profile(&self, transporter: &UserId) -> Result<Option<TransporterProfile>, StoreError> {
        Ok(self.lock().profiles.get(transporter).cloned())
    }

    async fn get_profiles(&self, transporters: &[UserId]) -> Result<Vec<TransporterProfile>, StoreError> {
        let tables = self.lock();
        Ok(transporters.iter().filter_map(|t| tables.profiles.get(t).cloned()).collect())
    }

    async fn latest_position(&self, transporter: &UserId) -> Result<Option<Position>, StoreError> {
        let tables = self.lock();
        let points = tables.history.get(transporter).into_iter().flat_map(|segments| segments.values().flatten());
        let newest = points.max_by_key(|p| p.recorded_at).cloned();
        Ok(newest.map(|point| Position { transporter_id: transporter.clone(), point }))
    }

    async fn stored_positions(&self, transporters: &[UserId]) -> Result<Vec<StoredPosition>, StoreError> {
        let tables = self.lock();
        Ok(transporters
            .iter()
            .filter_map(|t| tables.positions.get(t))
            .map(|(position, filed)| StoredPosition {
                transporter_id: position.transporter_id.clone(),
                recorded_at: position.point.recorded_at,
                filed: filed.clone(),
            })
            .collect())
    }

    async fn write_position(&self, position: &Position, filed: Option<&IndexNote>) -> Result<bool, StoreError> {
        let mut tables = self.lock();
        let stored = tables.positions.get(&position.transporter_id);
        if stored.is_some_and(|(p, _)| p.point.recorded_at >= position.point.recorded_at) {
            return Ok(false);
        }
        tables.positions.insert(position.transporter_id.clone(), (position.clone(), filed.cloned()));
        Ok(true)
    }
}

#[async_trait]
impl GeoIndexStore for MemoryStore {
    async fn transporters_in_cells(&self, cells: &[String]) -> Result<Vec<CellEntry>, StoreError> {
        let tables = self.lock();
        Ok(cells.iter().flat_map(|c| tables.cells.get(c).into_iter().flat_map(|m| m.values().cloned())).collect())
    }

    async fn file_in_index(&self, moves: &[IndexMove]) -> Result<(), StoreError> {
        let mut tables = self.lock();
        if tables.index_down {
            return Err(StoreError::new(true, anyhow::anyhow!("the geo index is throttled")));
        }
        for IndexMove { entry, from, to } in moves {
            tables.cells.entry(to.clone()).or_default().insert(entry.transporter_id.clone(), entry.clone());
            if let Some(old) = from.as_ref().filter(|old| *old != to)
                && let Some(cell) = tables.cells.get_mut(old)
            {
                cell.remove(&entry.transporter_id);
            }
        }
        Ok(())
    }
}

#[async_trait]
impl LocationHistoryStore for MemoryStore {
    async fn append_points(&self, points: &[(EventId, LocationUpdated)]) -> Result<(), StoreError> {
        let mut tables = self.lock();
        for segment in history::segments(points) {
            let key = segment.key();
            tables.history.entry(segment.transporter_id).or_default().insert(key, segment.points);
        }
        Ok(())
    }

    async fn track(&self, transporter: &UserId, range: TrackRange<'_>) -> Result<Page<LocationPoint>, StoreError> {
        let TrackRange { from, until, limit, after } = range;
        let tables = self.lock();
        let mut page = history::TrackPage::new(from, until, limit, after);
        if let Some(segments) = tables.history.get(transporter) {
            for points in segments.range(history::first_key(from, after)..=history::last_key(until)).map(|(_, p)| p) {
                page.add(points.iter().cloned());
            }
        }
        Ok(page.page(None).unwrap_or(Page { items: Vec::new(), next: None }))
    }
}
