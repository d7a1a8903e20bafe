//! Ports: what the use cases need from the outside world. The DynamoDB, Kafka and SNS adapters
//! implement these; every state change is written together with the events it causes (the
//! transactional outbox), so the store and the stream can never disagree.

use crate::contract::events::EventRecord;
use crate::model::booking::{Booking, BookingStatus, BookingSummary};
use crate::model::device::{Device, Platform};
use crate::model::ids::{BookingId, DeviceId, EventId, OrderId, UserId};
use crate::model::location::Position;
use crate::model::order::{Order, OrderStatus, OrderSummary, OrderView, TruckRequest};
use crate::model::transporter::TransporterProfile;
use crate::model::trip::{TripRef, TripSummary};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// The store failed for a reason of its own (network, throttling, emulator down).
#[derive(Debug, thiserror::Error)]
#[error("store failure: {source:#}")]
pub struct StoreError {
    /// Throttling, timeouts and transport faults: the same call may succeed if repeated.
    pub retryable: bool,
    #[source]
    pub source: anyhow::Error,
}

impl StoreError {
    pub fn new(retryable: bool, source: impl Into<anyhow::Error>) -> Self {
        Self { retryable, source: source.into() }
    }
}

/// Creating an aggregate under an idempotency key.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    /// Another request holds this idempotency key (it may have committed a moment ago).
    #[error("idempotency key already used")]
    IdempotencyKeyTaken,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Moving an aggregate from one state to another under a condition.
#[derive(Debug, thiserror::Error)]
pub enum TransitionError {
    #[error("not found")]
    NotFound,
    /// The condition no longer held: someone else changed the state first.
    #[error("state changed concurrently")]
    Conflict,
    /// The transporter to be assigned holds another trip, or has no profile.
    #[error("transporter busy or without a profile")]
    TransporterUnavailable,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A remembered `Idempotency-Key`: which request body it was first used with and what it answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    /// `<user>#<operation>#<client key>`: keys are private to a user and an operation.
    pub scoped_key: String,
    /// SHA-256 of the validated request, hex.
    pub request_hash: String,
    /// The original answer (JSON), replayed verbatim.
    pub receipt: String,
    pub created_at: DateTime<Utc>,
}

/// Who may accept what: an offer exists per (booking or order line, transporter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OfferSubject {
    Booking(BookingId),
    /// A line of an order (its index in `trucks`): its transporters may accept any of the line's
    /// truck requests. An offer per truck request would grow with the square of the line's size
    /// (trucks × candidates per truck).
    OrderLine(OrderId, u32),
}

/// What a transition does to the transporter's profile, in the same transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Assignment {
    /// Nothing.
    Keep,
    /// They start `trip`: written only if they have a profile and hold no other trip (else
    /// [`TransitionError::TransporterUnavailable`]).
    Start { transporter: UserId, trip: TripRef },
    /// They are done with `trip` (delivered, released or cancelled): matchable again.
    End { transporter: UserId, trip: TripRef },
}

/// Where a page of a list ended, in the store's own terms (for DynamoDB, the index key of the
/// last item): opaque to everyone else, and handed to clients only sealed (`contract::cursor`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PagePosition(String);

impl PagePosition {
    pub fn new(position: String) -> Self {
        Self(position)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One page of a list, and where the next one starts (`None`: this was the last).
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<PagePosition>,
}

#[async_trait]
pub trait BookingStore: Send + Sync {
    /// Writes a new booking, its events and (if given) the idempotency record in one transaction.
    async fn create_booking(
        &self,
        booking: &Booking,
        events: &[EventRecord],
        idempotency: Option<&IdempotencyRecord>,
    ) -> Result<(), CreateError>;
    async fn get_booking(&self, id: BookingId) -> Result<Option<Booking>, StoreError>;
    /// Stores `booking` (already moved to its new state) if the stored one is still at revision
    /// `expected`, together with `events` and `assignment`, in one transaction.
    async fn transition_booking(
        &self,
        booking: &Booking,
        expected: u32,
        events: &[EventRecord],
        assignment: &Assignment,
    ) -> Result<(), TransitionError>;
    /// Up to `limit` bookings whose `dueAt` is at or before `now`, most overdue first.
    async fn due_bookings(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Booking>, StoreError>;
    /// Up to `limit` of `customer`'s bookings in one of `statuses` (any when empty), newest
    /// first, starting after `after`: a query on an index, never a scan.
    async fn customer_bookings(
        &self,
        customer: &UserId,
        statuses: &[BookingStatus],
        limit: usize,
        after: Option<&PagePosition>,
    ) -> Result<Page<BookingSummary>, StoreError>;
}

#[async_trait]
pub trait OrderStore: Send + Sync {
    async fn create_order(
        &self,
        order: &Order,
        events: &[EventRecord],
        idempotency: Option<&IdempotencyRecord>,
    ) -> Result<(), CreateError>;
    async fn get_order(&self, id: OrderId) -> Result<Option<OrderView>, StoreError>;
    /// Writes truck requests that do not exist yet; existing ones are left as they are.
    async fn put_truck_requests(&self, requests: &[TruckRequest]) -> Result<(), StoreError>;
    /// Sets the order's status if it still is `expected`; `false` if it was not.
    async fn set_order_status(
        &self,
        id: OrderId,
        expected: OrderStatus,
        status: OrderStatus,
    ) -> Result<bool, StoreError>;
    /// Marks the order cancelled, with `events`, if it is still `processing` or `open` as stored
    /// ([`TransitionError::Conflict`] if not).
    async fn cancel_order(&self, id: OrderId, events: &[EventRecord]) -> Result<(), TransitionError>;
    /// Stores `request` (already moved to its new state) if the stored one is still at revision
    /// `expected`, together with `events` and `assignment`, in one transaction; with `order_open`,
    /// only while its order is not cancelled (else [`TransitionError::Conflict`]).
    async fn transition_truck_request(
        &self,
        request: &TruckRequest,
        expected: u32,
        events: &[EventRecord],
        assignment: &Assignment,
        order_open: bool,
    ) -> Result<(), TransitionError>;
    /// Up to `limit` truck requests whose `dueAt` is at or before `now`, most overdue first.
    async fn due_truck_requests(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<TruckRequest>, StoreError>;
    /// Up to `limit` of `customer`'s orders whose status (as derived from their trucks) is one of
    /// `statuses` (any when empty), newest first, starting after `after`: a query on an index,
    /// never a scan. A page may hold fewer than `limit` and still have a next one.
    async fn customer_orders(
        &self,
        customer: &UserId,
        statuses: &[OrderStatus],
        limit: usize,
        after: Option<&PagePosition>,
    ) -> Result<Page<OrderSummary>, StoreError>;
}

/// Where an offer stands. A withdrawn offer is kept: its transporter still sees the booking (as
/// taken, cancelled or expired) but can no longer accept it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfferState {
    Live,
    Withdrawn,
}

#[async_trait]
pub trait OfferStore: Send + Sync {
    /// Whether `subject` was offered to `transporter`, and whether the offer still stands.
    async fn offer_state(&self, subject: OfferSubject, transporter: &UserId) -> Result<Option<OfferState>, StoreError>;
    /// Records offers, live (idempotent; a withdrawn offer is live again).
    async fn put_offers(
        &self,
        subject: OfferSubject,
        transporters: &[UserId],
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Every transporter `subject` is offered to and whose offer still stands.
    async fn offered_to(&self, subject: OfferSubject) -> Result<Vec<UserId>, StoreError>;
    /// Takes the offers back: those transporters can no longer accept `subject` (idempotent).
    async fn withdraw_offers(&self, subject: OfferSubject, transporters: &[UserId]) -> Result<(), StoreError>;
    /// What is offered to `transporter` and not taken back, with when it was offered: at most
    /// `limit`, newest first. A query on an index, never a scan.
    async fn live_offers(
        &self,
        transporter: &UserId,
        limit: usize,
    ) -> Result<Vec<(OfferSubject, DateTime<Utc>)>, StoreError>;
}

#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// The record under `scoped_key` if it was still valid (not expired) at `valid_at`.
    async fn get_idempotency(
        &self,
        scoped_key: &str,
        valid_at: DateTime<Utc>,
    ) -> Result<Option<IdempotencyRecord>, StoreError>;
}

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

/// The trips transporters won, across bookings and orders.
#[async_trait]
pub trait TripStore: Send + Sync {
    /// Up to `limit` of the trips `transporter` holds or held to the end (bookings and truck
    /// requests; not those they released), the latest accepted first, starting after `after`:
    /// queries on indexes, never a scan. A transporter holds one trip at a time and accepts
    /// another only once it ended, so the trip they hold comes first.
    async fn transporter_trips(
        &self,
        transporter: &UserId,
        limit: usize,
        after: Option<&PagePosition>,
    ) -> Result<Page<TripSummary>, StoreError>;
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

/// The right to push one (notification, device) pair, held by one delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushClaim {
    pub key: String,
    /// Who holds it: a fresh id per claim.
    pub claim_id: String,
}

/// What [`PushLog::claim_push`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// This delivery holds the push now: send it, then confirm it.
    Claimed(PushClaim),
    /// It was pushed before (a duplicate delivery).
    Sent,
    /// Another delivery claimed it at `since` and has not confirmed it.
    Held { since: DateTime<Utc> },
}

/// Remembers which (notification, device) pairs were pushed.
#[async_trait]
pub trait PushLog: Send + Sync {
    /// Claims the right to push `key`. A claim never confirmed and made before `take_over_before`
    /// is taken over: its delivery ended (it crashed or timed out) between claiming and
    /// confirming, and may not have pushed at all.
    async fn claim_push(&self, key: &str, take_over_before: DateTime<Utc>) -> Result<ClaimOutcome, StoreError>;
    /// Records that the claim's push was sent: from now on a redelivery pushes nothing.
    async fn confirm_push(&self, claim: &PushClaim) -> Result<(), StoreError>;
    /// Gives a claim back after a push failed transiently, so a retry pushes.
    async fn release_push(&self, claim: &PushClaim) -> Result<(), StoreError>;
}

#[async_trait]
pub trait DeviceStore: Send + Sync {
    async fn get_device(&self, owner: &UserId, id: DeviceId) -> Result<Option<Device>, StoreError>;
    /// Returns `false` if the device was already registered.
    async fn put_device_if_absent(&self, device: &Device) -> Result<bool, StoreError>;
    async fn list_devices(&self, owner: &UserId) -> Result<Vec<Device>, StoreError>;
    async fn delete_device(&self, owner: &UserId, id: DeviceId) -> Result<(), StoreError>;
}

/// The outbox side of the store: events written by the transactions above, until published.
#[async_trait]
pub trait Outbox: Send + Sync {
    async fn mark_sent(&self, ids: &[EventId]) -> Result<(), StoreError>;
    /// Up to `limit` unsent events created before `created_before`, oldest first.
    async fn pending(&self, created_before: DateTime<Utc>, limit: usize) -> Result<Vec<EventRecord>, StoreError>;
}

/// All the storage the api needs.
pub trait Store:
    BookingStore
    + OrderStore
    + OfferStore
    + IdempotencyStore
    + TransporterStore
    + DeviceStore
    + LocationHistoryStore
    + TripStore
    + Outbox
{
}
impl<T> Store for T where
    T: BookingStore
        + OrderStore
        + OfferStore
        + IdempotencyStore
        + TransporterStore
        + DeviceStore
        + LocationHistoryStore
        + TripStore
        + Outbox
{
}

#[derive(Debug, thiserror::Error)]
#[error("event publish failed: {0}")]
pub struct PublishError(pub String);

/// The event stream (Kafka). `publish` returns once every record is acknowledged by the broker.
#[async_trait]
pub trait EventBus: Send + Sync {
    async fn publish(&self, records: &[EventRecord]) -> Result<(), PublishError>;
}

/// Why a push to one device failed.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    /// The endpoint is disabled or its token invalid: the device is gone for good.
    #[error("endpoint disabled or token invalid: {0}")]
    EndpointGone(String),
    /// Throttling, timeouts, server errors: the same push may succeed later.
    #[error("transient push failure: {0}")]
    Transient(String),
    /// Anything else the push service refused (a bug of ours, e.g. a malformed payload).
    #[error("push rejected: {0}")]
    Rejected(String),
}

/// Sends one notification to one device endpoint (SNS mobile push → FCM). `id` is the
/// notification's: a push sent again under the same id replaces the first on the phone.
#[async_trait]
pub trait PushSender: Send + Sync {
    async fn send(
        &self,
        endpoint: &str,
        id: EventId,
        notification: &crate::contract::events::FcmNotification,
    ) -> Result<(), PushError>;
}

#[derive(Debug, thiserror::Error)]
pub enum PushRegistrationError {
    /// The push service refused the token itself.
    #[error("push token rejected: {0}")]
    InvalidToken(String),
    #[error("push service unavailable: {0}")]
    Unavailable(String),
}

/// Push endpoints (SNS platform endpoints for FCM).
#[async_trait]
pub trait PushRegistry: Send + Sync {
    /// Creates (or finds, for a token already known) the endpoint for `token`; returns its address.
    async fn register_endpoint(
        &self,
        platform: Platform,
        token: &str,
        owner: &UserId,
    ) -> Result<String, PushRegistrationError>;
    /// Deletes the endpoint at `endpoint_arn` (a logout); an endpoint already gone is no error.
    async fn delete_endpoint(&self, endpoint_arn: &str) -> Result<(), PushRegistrationError>;
}
