//! Live tracking: the connections and what they watch, shared links, and posting to a connection.

use super::*;
use crate::model::ids::ShareId;
use crate::model::live::{ConnectionId, LiveConnection, ShareLink, Watch};
use crate::model::trip::TripRef;

/// Connections and their subscriptions (DynamoDB `live-connections`).
#[async_trait]
pub trait LiveStore: Send + Sync {
    async fn put_connection(&self, connection: &LiveConnection) -> Result<(), StoreError>;
    async fn get_connection(&self, id: &ConnectionId) -> Result<Option<LiveConnection>, StoreError>;
    /// `connection` watches `trip`, whose truck is `transporter` (none while nobody holds it).
    /// Written before the trip is read for the snapshot, so an acceptance in between is seen by
    /// one side or the other (see `usecases::live`).
    async fn watch(
        &self, connection: &LiveConnection, trip: &TripRef, transporter: Option<&UserId>,
    ) -> Result<(), StoreError>;
    async fn unwatch(&self, connection: &ConnectionId, trip: &TripRef) -> Result<(), StoreError>;
    /// Forgets the connection and everything it watches (`$disconnect`, or a post answered 410).
    async fn forget_connection(&self, connection: &ConnectionId) -> Result<(), StoreError>;
    /// The connections watching `trip`: one query.
    async fn watchers_of_trip(&self, trip: &TripRef) -> Result<Vec<ConnectionId>, StoreError>;
    /// What `transporter`'s points go to: the watches of the trips they hold. One query.
    async fn watchers_of_transporter(&self, transporter: &UserId) -> Result<Vec<Watch>, StoreError>;
    /// Moves `connection`'s watch of `trip` to `transporter`'s points (none: to nobody's). A
    /// watch that is gone meanwhile stays gone.
    async fn assign_watch(
        &self, connection: &ConnectionId, trip: &TripRef, transporter: Option<&UserId>,
    ) -> Result<(), StoreError>;
    /// Records that the watch was sent the point recorded at `recorded_ms`, unless it was sent a
    /// newer one; a watch that is gone meanwhile stays gone.
    async fn mark_sent(&self, connection: &ConnectionId, trip: &TripRef, recorded_ms: i64) -> Result<(), StoreError>;
}

/// Shared tracking links (DynamoDB `shares`).
#[async_trait]
pub trait ShareStore: Send + Sync {
    async fn put_share(&self, share: &ShareLink) -> Result<(), StoreError>;
    async fn get_share(&self, id: &ShareId) -> Result<Option<ShareLink>, StoreError>;
    /// Revokes it; a share already gone is no error.
    async fn delete_share(&self, id: &ShareId) -> Result<(), StoreError>;
}

/// Why a post to a connection failed.
#[derive(Debug, thiserror::Error)]
pub enum PostError {
    /// 410: the client is gone; its records can go.
    #[error("connection gone")]
    Gone,
    /// 429: too many posts; the same post may succeed a moment later.
    #[error("throttled")]
    Throttled,
    /// Anything else (network, 5xx, a refused payload).
    #[error("post failed: {0}")]
    Failed(String),
}

/// Sends one message to one WebSocket connection (API Gateway's `PostToConnection`).
#[async_trait]
pub trait ConnectionPoster: Send + Sync {
    async fn post(&self, connection: &ConnectionId, message: &str) -> Result<(), PostError>;
}
