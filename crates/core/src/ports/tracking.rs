//! Where transporters are: their profiles and latest positions, the geo index matching reads,
//! and the GPS history.

use super::*;
use crate::model::location::LocationPoint;

#[async_trait]
pub trait TransporterStore: Send + Sync {
    /// Writes the profile's own fields, keeps its active trip, and returns the stored profile.
    async fn put_profile(&self, profile: &TransporterProfile) -> Result<TransporterProfile, StoreError>;
    async fn get_profile(&self, transporter: &UserId) -> Result<Option<TransporterProfile>, StoreError>;
    /// Profiles of the given transporters that exist (in any order).
    async fn get_profiles(&self, transporters: &[UserId]) -> Result<Vec<TransporterProfile>, StoreError>;
    /// Where the transporter was last seen: the newest point of their GPS history (which holds
    /// every point, so this is never older than the position item); `None` when it holds none.
    async fn latest_position(&self, transporter: &UserId) -> Result<Option<Position>, StoreError>;
    /// What is stored of each of `transporters`' positions (one read per 100; those with no
    /// position are absent).
    async fn stored_positions(&self, transporters: &[UserId]) -> Result<Vec<StoredPosition>, StoreError>;
    /// Writes the position item: `position` with the index note `filed` (where the geo index files
    /// the transporter, as of which point), unless a point as new or newer is stored; whether it
    /// was written. Location processing writes it only with an index write.
    async fn write_position(&self, position: &Position, filed: Option<&IndexNote>) -> Result<bool, StoreError>;
}

/// Where the geo index files a transporter, and the time of the point it was filed with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexNote {
    pub cell: String,
    pub at: DateTime<Utc>,
}

/// What [`TransporterStore::stored_positions`] reads of a stored position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPosition {
    pub transporter_id: UserId,
    pub recorded_at: DateTime<Utc>,
    /// None before the first index write. Written with the position, after the index write it
    /// notes: a position whose index write failed is not written either, and is redone whole.
    pub filed: Option<IndexNote>,
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
    /// Files each move's entry in its cell `to` and takes it out of `from` when that is another
    /// cell (batched: 25 puts and deletes a request). Idempotent.
    async fn file_in_index(&self, moves: &[IndexMove]) -> Result<(), StoreError>;
}

/// One transporter's geo-index write: their entry into cell `to`, out of `from`.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexMove {
    pub entry: CellEntry,
    pub from: Option<String>,
    pub to: String,
}

/// Every GPS point, kept for 7 days, in segments (`model::history`).
#[async_trait]
pub trait LocationHistoryStore: Send + Sync {
    /// One item per segment of `points` (`model::history::segments`). Idempotent: the same points
    /// appended again are read once.
    async fn append_points(
        &self, points: &[(EventId, crate::contract::events::LocationUpdated)],
    ) -> Result<(), StoreError>;
    /// The points of `transporter`'s that `range` asks for, oldest first, one a millisecond:
    /// queries on the history's key (`model::history::TrackPage`), never a scan.
    async fn track(&self, transporter: &UserId, range: TrackRange<'_>) -> Result<Page<LocationPoint>, StoreError>;
}

/// Which points of a track to read: up to `limit` recorded from `from` to `until` (both
/// inclusive), starting after `after`.
#[derive(Debug, Clone, Copy)]
pub struct TrackRange<'a> {
    pub from: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub limit: usize,
    pub after: Option<&'a PagePosition>,
}
