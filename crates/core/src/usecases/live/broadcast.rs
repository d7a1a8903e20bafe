//! [`LiveBroadcast`]: what the live-tracking consumer does with a batch. Points are coalesced per
//! truck (only the newest of the batch is posted, and only to a watch that was not sent a newer
//! one); each status change goes to the trip's watchers and moves their watches to the trip's
//! truck. A gone connection (410) is forgotten; a throttled post is retried a few times and then
//! given up for this point (the next one supersedes it) without failing the batch for the others.
//! Only a store failure fails the batch: a retry posts again only what was not marked sent.

use super::active_truck;
use crate::contract::events::LocationUpdated;
use crate::model::ids::UserId;
use crate::model::live::{ConnectionId, LiveMessage, Watch};
use crate::model::location::LocationPoint;
use crate::model::trip::{Trip, TripRef, TripStep};
use crate::ports::{ConnectionPoster, LiveStore, PostError, StoreError};
use futures::{StreamExt, TryStreamExt, stream};
use std::collections::HashMap;
use std::time::Duration;

/// Posts in flight at once per invocation.
pub const POST_CONCURRENCY: usize = 64;
/// Tries of a throttled post, with a doubling pause from [`THROTTLE_PAUSE`].
const THROTTLED_TRIES: u32 = 4;
const THROTTLE_PAUSE: Duration = Duration::from_millis(50);

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, derive_more::AddAssign)]
#[serde(rename_all = "camelCase")]
pub struct BroadcastReport {
    pub points: usize,
    /// Trucks whose newest point had at least one watcher.
    pub watched_trucks: usize,
    pub status_changes: usize,
    pub posts: usize,
    /// Watches skipped because they were sent a newer (or the same) point already.
    pub skipped_older: usize,
    /// Connections forgotten after a 410.
    pub gone: usize,
    pub throttled_retries: usize,
    /// Posts given up (throttled every time, or refused).
    pub dropped: usize,
}

pub struct LiveBroadcast<S, P> {
    store: S,
    poster: P,
}

impl<S: LiveStore, P: ConnectionPoster> LiveBroadcast<S, P> {
    pub fn new(store: S, poster: P) -> Self {
        Self { store, poster }
    }

    /// The newest point of each truck in `updates` to the connections watching it.
    pub async fn on_points(&self, updates: &[LocationUpdated]) -> Result<BroadcastReport, StoreError> {
        let mut newest: HashMap<&UserId, &LocationPoint> = HashMap::new();
        for update in updates {
            let slot = newest.entry(&update.transporter_id).or_insert(&update.point);
            if update.point.recorded_at > slot.recorded_at {
                *slot = &update.point;
            }
        }
        let reports: Vec<BroadcastReport> = stream::iter(newest)
            .map(|(truck, point)| self.point_to_watchers(truck, point))
            .buffer_unordered(POST_CONCURRENCY)
            .try_collect()
            .await?;
        let mut total = BroadcastReport { points: updates.len(), ..BroadcastReport::default() };
        reports.into_iter().for_each(|report| total += report);
        Ok(total)
    }

    async fn point_to_watchers(&self, truck: &UserId, point: &LocationPoint) -> Result<BroadcastReport, StoreError> {
        let watches = self.store.watchers_of_transporter(truck).await?;
        let ms = point.recorded_at.timestamp_millis();
        let (fresh, older): (Vec<Watch>, Vec<Watch>) =
            watches.into_iter().partition(|w| w.last_sent_ms.is_none_or(|sent| sent < ms));
        let mut report = BroadcastReport {
            watched_trucks: usize::from(!fresh.is_empty() || !older.is_empty()),
            skipped_older: older.len(),
            ..BroadcastReport::default()
        };
        let outcomes: Vec<BroadcastReport> = stream::iter(fresh)
            .map(|watch| async move {
                let message = LiveMessage::Position { trip: watch.trip, point: point.clone() }.to_json();
                let mut sent = self.post(&watch.connection, &message).await?;
                if sent.posts == 1 {
                    self.store.mark_sent(&watch.connection, &watch.trip, ms).await?;
                }
                sent.posts = usize::from(sent.posts == 1);
                Ok::<_, StoreError>(sent)
            })
            .buffer_unordered(POST_CONCURRENCY)
            .try_collect()
            .await?;
        outcomes.into_iter().for_each(|outcome| report += outcome);
        Ok(report)
    }

    /// A trip took `step` and is now `trip`: its watchers hear the status, and their watches follow
    /// the trip's truck (a new one on acceptance, none once released or over).
    pub async fn on_trip_step(
        &self, trip_ref: TripRef, step: TripStep, trip: &Trip,
    ) -> Result<BroadcastReport, StoreError> {
        let watchers = self.store.watchers_of_trip(&trip_ref).await?;
        let reassign = matches!(
            step,
            TripStep::Accept | TripStep::Release | TripStep::Deliver | TripStep::Cancel | TripStep::Expire
        );
        let truck = active_truck(trip);
        let message = LiveMessage::Status { trip: trip_ref, status: trip.status }.to_json();
        let outcomes: Vec<BroadcastReport> = stream::iter(watchers)
            .map(|connection| {
                let message = &message;
                async move {
                    if reassign {
                        self.store.assign_watch(&connection, &trip_ref, truck).await?;
                    }
                    self.post(&connection, message).await
                }
            })
            .buffer_unordered(POST_CONCURRENCY)
            .try_collect()
            .await?;
        let mut report = BroadcastReport { status_changes: 1, ..BroadcastReport::default() };
        outcomes.into_iter().for_each(|outcome| report += outcome);
        Ok(report)
    }

    /// One post, retried while throttled; a gone connection is forgotten.
    async fn post(&self, connection: &ConnectionId, message: &str) -> Result<BroadcastReport, StoreError> {
        let mut report = BroadcastReport::default();
        let mut pause = THROTTLE_PAUSE;
        for attempt in 1..=THROTTLED_TRIES {
            match self.poster.post(connection, message).await {
                Ok(()) => {
                    report.posts = 1;
                    return Ok(report);
                }
                Err(PostError::Gone) => {
                    self.store.forget_connection(connection).await?;
                    report.gone = 1;
                    return Ok(report);
                }
                Err(PostError::Throttled) if attempt < THROTTLED_TRIES => {
                    report.throttled_retries += 1;
                    tokio::time::sleep(pause).await;
                    pause *= 2;
                }
                Err(error) => {
                    tracing::warn!(%connection, %error, "post to a connection given up");
                    break;
                }
            }
        }
        report.dropped = 1;
        Ok(report)
    }
}
