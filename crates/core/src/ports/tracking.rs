//! Where transporters are: their profiles and latest positions, the geo index matching reads,
//! and the GPS history.

use super::*;

#[async_trait]
pub trait TransporterStore: Send + Sync {
    /// Writes the profile's own fields, keeps its active trip, and returns the stored profile.
    async fn put_profile(&self, profile: &TransporterProfile) -> Result<TransporterProfile, StoreError>;
    async fn get_profile(&self, transporter: &UserId) -> Result<Option<TransporterProfile>, StoreError>;
    /// Profiles of the given transporters that exist (in any order).
    async fn get_profiles(&self, transporters: &[UserId]) -> Result<Vec<TransporterProfile>, StoreError>;
    async fn latest_position(&self, transporter: &UserId) -> Result<Option<Position>, StoreError>;
    /// Writes `position` (in geo cell `cell`) unless a newer one (by `recordedAt`) is stored.
    async fn record_position(&self, position: &Position, cell: &str) -> Result<PositionWrite, StoreError>;
}

/// The outcome of [`TransporterStore::record_position`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PositionWrite {
    /// A newer point was already stored; nothing changed.
    Stale,
    /// Written. `indexed_cell` and `indexed_at`: where the geo index files the transporter and the
    /// time of the point it was filed with, as [`GeoIndexStore::move_in_index`] last recorded them
    /// (none before the first index write). Kept apart from the position itself, so a position
    /// written while its index write failed is noticed and repaired with the next point.
    Written { indexed_cell: Option<String>, indexed_at: Option<chrono::DateTime<chrono::Utc>> },
}

/// A transporter's entry in the geo index.
#[derive(Debug, Clone, PartialEq)]
pub struct CellEntry {
    pub transporter_id: UserId,
    pub lat: f64,
    pub lng: f64,
    pub recorded_at: DateTime<Utc>,
}

/// Who is in which H3 cell, for matching.
#[async_trait]
pub trait GeoIndexStore: Send + Sync {
    async fn transporters_in_cells(&self, cells: &[String]) -> Result<Vec<CellEntry>, StoreError>;
    /// Puts `entry` in cell `to`, removes it from `from` if that is another cell, and then records
    /// on the transporter's position that the index files them in `to` as of `entry.recorded_at`.
    async fn move_in_index(&self, entry: &CellEntry, from: Option<&str>, to: &str) -> Result<(), StoreError>;
}

/// Every GPS point, kept for 7 days.
#[async_trait]
pub trait LocationHistoryStore: Send + Sync {
    /// Idempotent: a point appended twice (same event id) is stored once.
    async fn append_points(
        &self,
        points: &[(EventId, crate::contract::events::LocationUpdated)],
    ) -> Result<(), StoreError>;
    /// Up to `limit` of `transporter`'s points recorded from `from` to `until` (both inclusive),
    /// oldest first, starting after `after`: a query on the history's key, never a scan.
    async fn track(
        &self,
        transporter: &UserId,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: usize,
        after: Option<&PagePosition>,
    ) -> Result<Page<crate::model::location::LocationPoint>, StoreError>;
}
