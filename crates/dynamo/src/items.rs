//! Item shapes: how each domain value is laid out in its table. Domain structs are stored as they
//! serialise (camelCase attributes), plus the sort keys, numeric copies and TTL attributes that
//! DynamoDB conditions and indexes need.

use serde::{Deserialize, Serialize};
use weelo_core::contract::events::EventRecord;
use weelo_core::model::booking::Booking;
use weelo_core::model::ids::{EventId, OrderId, TruckRequestId};
use weelo_core::model::location::{LocationPoint, Position};
use weelo_core::model::order::{Order, TruckRequest};
use weelo_core::model::trip::Trip;
use weelo_core::ports::{IdempotencyRecord, OfferSubject};

pub const ORDER_ITEM_ID: &str = "order";
pub const TRUCK_REQUEST_PREFIX: &str = "tr#";

pub fn truck_request_item_id(id: TruckRequestId) -> String {
    format!("{TRUCK_REQUEST_PREFIX}{id}")
}

/// A booking, with its [`TripIndexes`].
#[derive(Serialize, Deserialize)]
pub struct BookingItem {
    #[serde(flatten)]
    pub booking: Booking,
    #[serde(flatten)]
    pub indexes: TripIndexes,
}

impl BookingItem {
    pub fn new(booking: &Booking) -> Self {
        Self { booking: booking.clone(), indexes: TripIndexes::of(booking.booking_id.as_uuid(), &booking.trip) }
    }
}

/// The index attributes of a trip's item (a booking, or a truck request of an order): while it
/// has a deadline, its place in its table's sparse `deadlines` index; while someone holds it (or
/// held it to the end), its place in their `by-transporter` index.
#[serde_with::skip_serializing_none]
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TripIndexes {
    pub due_shard: Option<String>,
    pub due_at_ms: Option<i64>,
    /// The `by-transporter` indexes' sort key: when the holder accepted (a number: RFC 3339
    /// strings with varying fractional digits do not sort as text). None while nobody holds the
    /// trip, so a released trip leaves its releaser's list.
    pub accepted_at_ms: Option<i64>,
}

impl TripIndexes {
    /// The attributes of the trip `trip` of the item whose id is `id` (the id picks the shard).
    fn of(id: &uuid::Uuid, trip: &Trip) -> Self {
        Self {
            due_shard: trip.due_at.map(|_| (id.as_u128() % crate::DUE_SHARDS).to_string()),
            due_at_ms: trip.due_at.map(|at| at.timestamp_millis()),
            accepted_at_ms: trip.accepted_by.as_ref().and(trip.accepted_at).map(|at| at.timestamp_millis()),
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderItem {
    pub item_id: String,
    #[serde(flatten)]
    pub order: Order,
}

/// A truck request of an order, with its [`TripIndexes`].
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TruckRequestItem {
    pub item_id: String,
    #[serde(flatten)]
    pub request: TruckRequest,
    #[serde(flatten)]
    pub indexes: TripIndexes,
}

impl TruckRequestItem {
    pub fn new(request: &TruckRequest) -> Self {
        Self {
            item_id: truck_request_item_id(request.truck_request_id),
            request: request.clone(),
            indexes: TripIndexes::of(request.truck_request_id.as_uuid(), &request.trip),
        }
    }
}

/// A position, plus `recordedAtMs` so "only newer points overwrite" is a numeric condition
/// (RFC 3339 strings with varying fractional digits do not compare correctly as strings).
#[serde_with::skip_serializing_none]
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PositionItem {
    #[serde(flatten)]
    pub position: Position,
    pub recorded_at_ms: i64,
    /// The geo-index cell the transporter is filed under, so a move can remove the old entry.
    /// Written with the position, once the index write it notes is done.
    pub cell: Option<String>,
    /// The time of the point the index entry was written with.
    pub indexed_at_ms: Option<i64>,
}

/// A transporter in an H3 cell. Expires a day after its point: a transporter silent that long
/// is not matched anyway, and the index stays small.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CellItem {
    pub cell: String,
    pub transporter_id: String,
    pub lat: f64,
    pub lng: f64,
    pub recorded_at_ms: i64,
    pub expires_at: i64,
}

/// One segment of the GPS history (`weelo_core::model::history`): a transporter's points of one
/// consumer batch. `pointKey` is the segment's key (its first point's time and id).
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryItem {
    pub transporter_id: String,
    pub point_key: String,
    pub points: Vec<SegmentPoint>,
    /// The TTL: the segment's last point's time plus the retention.
    pub expires_at: i64,
}

/// A point of a segment, with one-letter attribute names: DynamoDB bills an item's size, names
/// included (time in ms, latitude, longitude, speed, heading, accuracy).
#[serde_with::skip_serializing_none]
#[derive(Serialize, Deserialize)]
pub struct SegmentPoint {
    t: i64,
    a: f64,
    o: f64,
    s: Option<f64>,
    h: Option<f64>,
    c: Option<f64>,
}

impl From<&LocationPoint> for SegmentPoint {
    fn from(p: &LocationPoint) -> Self {
        Self {
            t: p.recorded_at.timestamp_millis(),
            a: p.lat,
            o: p.lng,
            s: p.speed_kmh,
            h: p.heading_deg,
            c: p.accuracy_m,
        }
    }
}

impl SegmentPoint {
    /// The point, or `None` for a time out of range (never written by this adapter).
    pub fn point(&self) -> Option<LocationPoint> {
        Some(LocationPoint {
            lat: self.a,
            lng: self.o,
            recorded_at: chrono::DateTime::from_timestamp_millis(self.t)?,
            speed_kmh: self.s,
            heading_deg: self.h,
            accuracy_m: self.c,
        })
    }
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PushLogItem {
    pub push_key: String,
    /// Who holds the claim: a fresh id per claim, so that a retry of the same write is recognised.
    pub claim_id: String,
    /// [`PUSH_PENDING`] from the claim until the push is confirmed sent, then [`PUSH_SENT`].
    pub state: String,
    /// When the claim was made (a pending claim older than the lease may be taken over).
    pub claimed_at_ms: i64,
    pub expires_at: i64,
}

pub const PUSH_PENDING: &str = "pending";
pub const PUSH_SENT: &str = "sent";

#[serde_with::skip_serializing_none]
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OfferItem {
    pub subject: String,
    pub transporter_id: String,
    /// When it was made, or when it was withdrawn (a withdrawal rewrites the item).
    pub at: String,
    /// Present once withdrawn.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub withdrawn: bool,
    pub expires_at: i64,
    /// While the offer is live: its transporter and when it was made, so that it is in the sparse
    /// `live-by-transporter` index (the inbox), and leaves it when withdrawn.
    pub open_for: Option<String>,
    pub offered_at_ms: Option<i64>,
}

/// An [`OfferItem`]'s `subject`.
pub fn offer_subject_key(subject: OfferSubject) -> String {
    match subject {
        OfferSubject::Booking(id) => format!("booking#{id}"),
        OfferSubject::OrderLine(order, line) => format!("order-line#{order}#{line}"),
    }
}

/// The subject an [`offer_subject_key`] was made from.
pub fn parse_offer_subject_key(key: &str) -> Option<OfferSubject> {
    match key.split('#').collect::<Vec<_>>().as_slice() {
        ["booking", id] => weelo_core::model::ids::BookingId::parse(id).ok().map(OfferSubject::Booking),
        ["order-line", order, line] => Some(OfferSubject::OrderLine(OrderId::parse(order).ok()?, line.parse().ok()?)),
        _ => None,
    }
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdempotencyItem {
    pub scoped_key: String,
    pub request_hash: String,
    pub receipt: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub expires_at: i64,
}

impl From<IdempotencyItem> for IdempotencyRecord {
    fn from(item: IdempotencyItem) -> Self {
        IdempotencyRecord {
            scoped_key: item.scoped_key,
            request_hash: item.request_hash,
            receipt: item.receipt,
            created_at: item.created_at,
        }
    }
}

/// An outbox entry. `pendingShard` exists only until the event is published, which makes the
/// `pending` index sparse: the relay reads unsent events only.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutboxItem {
    pub event_id: EventId,
    pub topic: String,
    pub record_key: String,
    pub payload: String,
    pub created_at_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_shard: Option<String>,
    pub expires_at: i64,
}

impl OutboxItem {
    pub fn pending(record: &EventRecord, created_at_ms: i64) -> Self {
        let shard = record.event_id.as_uuid().as_u128() % crate::OUTBOX_PENDING_SHARDS;
        Self {
            event_id: record.event_id,
            topic: record.topic.clone(),
            record_key: record.key.clone(),
            payload: record.payload.clone(),
            created_at_ms,
            pending_shard: Some(shard.to_string()),
            expires_at: created_at_ms / 1000 + crate::OUTBOX_TTL_SECS,
        }
    }

    pub fn into_record(self) -> EventRecord {
        EventRecord { event_id: self.event_id, topic: self.topic, key: self.record_key, payload: self.payload }
    }
}

pub fn order_key(order: OrderId) -> String {
    order.to_string()
}
