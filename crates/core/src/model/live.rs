//! Live tracking (docs/live-tracking.md): WebSocket connections, who is behind each, the trips
//! they watch, what they are sent, and the links a customer shares.

use crate::model::caller::Caller;
use crate::model::geo::Place;
use crate::model::ids::{BookingId, ShareId, UserId, text_id};
use crate::model::location::LocationPoint;
use crate::model::trip::{TripRef, TripStatus};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// How long a connection's records are kept at most: API Gateway closes a WebSocket after two
/// hours, and a lost `$disconnect` leaves records the table's TTL then removes.
pub const CONNECTION_LIFETIME_SECS: i64 = 2 * 60 * 60;

text_id! {
    /// An API Gateway connection id (`requestContext.connectionId`), as it came: an opaque
    /// printable string (API Gateway's are base64, e.g. `L0SM9cOFvHcCIhw=`).
    ConnectionId, punctuation: b"+/=_-."
}

/// Who is behind a connection, as the authorizer established it at `$connect`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Watcher {
    /// A signed-in customer or transporter (the HTTP API's JWT).
    User(Caller),
    /// Whoever holds a shared link: that booking only, read-only.
    Viewer { share: ShareId, booking: BookingId },
}

/// A connection as stored at `$connect`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveConnection {
    pub id: ConnectionId,
    pub watcher: Watcher,
    /// When its records may be forgotten (the table's TTL).
    pub expires_at: DateTime<Utc>,
}

/// One connection watching one trip: what the consumer reads to post a point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watch {
    pub connection: ConnectionId,
    pub trip: TripRef,
    /// `recordedAt` (ms) of the newest point this connection was sent for the trip.
    pub last_sent_ms: Option<i64>,
}

/// What a client asks to watch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    Booking(BookingId),
    /// Every truck of an order.
    Order(crate::model::ids::OrderId),
    /// The booking of the shared link the connection was opened with.
    Shared,
}

/// A trip as a subscriber first sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TripSnapshot {
    pub trip: TripRef,
    pub status: TripStatus,
    pub pickup: Place,
    pub drop: Place,
    /// The truck's newest point, while a truck drives the trip.
    pub position: Option<LocationPoint>,
}

/// Everything the server sends over a live-tracking WebSocket.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum LiveMessage {
    Subscribed {
        trips: Vec<TripSnapshot>,
    },
    Unsubscribed {
        trips: Vec<TripRef>,
    },
    Position {
        trip: TripRef,
        #[serde(flatten)]
        point: LocationPoint,
    },
    Status {
        trip: TripRef,
        status: TripStatus,
    },
    Error {
        message: String,
    },
}

impl LiveMessage {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("live messages serialise")
    }
}

/// A booking's shared tracking link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareLink {
    pub share_id: ShareId,
    pub booking_id: BookingId,
    pub customer_id: UserId,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

#[cfg(test)]
#[path = "live_tests.rs"]
mod tests;
