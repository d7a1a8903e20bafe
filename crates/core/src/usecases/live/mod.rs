//! Live tracking (docs/live-tracking.md): [`LiveSocket`] behind the WebSocket API (who may
//! connect, what they may watch) and [`LiveBroadcast`] on the live-tracking consumer (each truck's
//! newest point and each status change, posted to whoever watches).
//!
//! A watch records the truck of its trip (`transporterId`) so a point finds its watchers with one
//! query by truck. It is kept current from both sides: a subscribe writes the watch, then reads the
//! trip again and fixes the truck; the consumer, on a trip's acceptance, release or end, moves the
//! trip's watches. Whichever runs second sees the other's write, so no acceptance is missed.

mod broadcast;
mod socket;

pub use broadcast::{BroadcastReport, LiveBroadcast, POST_CONCURRENCY};
pub use socket::{LiveSocket, ShareRefusal};

use crate::model::ids::UserId;
use crate::model::trip::{Trip, TripStatus};

/// The truck whose points a trip's watchers get: its holder while it drives the trip.
pub fn active_truck(trip: &Trip) -> Option<&UserId> {
    match trip.status {
        TripStatus::Accepted | TripStatus::Arrived | TripStatus::PickedUp => trip.accepted_by.as_ref(),
        _ => None,
    }
}

/// Whether the trip is over: a shared link stops working, and the page says so.
pub fn has_ended(status: TripStatus) -> bool {
    matches!(status, TripStatus::Delivered | TripStatus::Cancelled | TripStatus::Expired)
}
