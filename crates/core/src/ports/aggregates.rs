//! The stores of the aggregates: bookings, orders and their offers, a transporter's trips,
//! idempotency records, devices, and the outbox their transactions write.

use super::*;

#[async_trait]
pub trait BookingStore: Send + Sync {
    /// Writes a new booking, its events and (if given) the idempotency record (see [`Creation`]).
    async fn create_booking(&self, creation: Creation<'_, Booking>) -> Result<(), CreateError>;
    async fn get_booking(&self, id: BookingId) -> Result<Option<Booking>, StoreError>;
    /// Stores the booking `change` moves to (see [`Change`]).
    async fn transition_booking(&self, change: Change<'_, Booking>) -> Result<(), TransitionError>;
    /// Up to `limit` bookings whose `dueAt` is at or before `now`, most overdue first.
    async fn due_bookings(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Booking>, StoreError>;
    /// A page of the customer's bookings (see [`ListPage`]): a query on an index, never a scan.
    async fn customer_bookings(&self, list: ListPage<'_, BookingStatus>) -> Result<Page<BookingSummary>, StoreError>;
}

#[async_trait]
pub trait OrderStore: Send + Sync {
    /// Writes a new order, its events and (if given) the idempotency record (see [`Creation`]).
    async fn create_order(&self, creation: Creation<'_, Order>) -> Result<(), CreateError>;
    async fn get_order(&self, id: OrderId) -> Result<Option<OrderView>, StoreError>;
    /// Writes truck requests that do not exist yet; existing ones are left as they are.
    async fn put_truck_requests(&self, requests: &[TruckRequest]) -> Result<(), StoreError>;
    /// Sets the order's status if it still is `expected`; `false` if it was not.
    async fn set_order_status(
        &self, id: OrderId, expected: OrderStatus, status: OrderStatus,
    ) -> Result<bool, StoreError>;
    /// Marks the order cancelled, with `events`, if it is still `processing` or `open` as stored
    /// ([`TransitionError::Conflict`] if not).
    async fn cancel_order(&self, id: OrderId, events: &[EventRecord]) -> Result<(), TransitionError>;
    /// Stores the truck request `change` moves to (see [`Change`]); with `order_open`, only while
    /// its order is not cancelled (else [`TransitionError::Conflict`]).
    async fn transition_truck_request(
        &self, change: Change<'_, TruckRequest>, order_open: bool,
    ) -> Result<(), TransitionError>;
    /// Up to `limit` truck requests whose `dueAt` is at or before `now`, most overdue first.
    async fn due_truck_requests(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<TruckRequest>, StoreError>;
    /// A page of the customer's orders (see [`ListPage`]), by their status as derived from their
    /// trucks: a query on an index, never a scan. A page may hold fewer than `limit` and still
    /// have a next one.
    async fn customer_orders(&self, list: ListPage<'_, OrderStatus>) -> Result<Page<OrderSummary>, StoreError>;
}

/// What became of an offer in the offers table. Either way its transporter still sees the booking
/// or line. An offer not taken back is accepted only while it stands
/// ([`Trip::offer_stands`](crate::model::trip::Trip::offer_stands)): its subject searches, and it
/// was made since the last release. Only a releaser's offer is taken back in the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfferState {
    /// Not taken back; made (last) at this time, the time its offer push carried.
    Live(DateTime<Utc>),
    Withdrawn,
}

#[async_trait]
pub trait OfferStore: Send + Sync {
    /// Whether `subject` was offered to `transporter`, and whether the offer still stands.
    async fn offer_state(&self, subject: OfferSubject, transporter: &UserId) -> Result<Option<OfferState>, StoreError>;
    /// Records offers, live (idempotent; a withdrawn offer is live again).
    async fn put_offers(
        &self, subject: OfferSubject, transporters: &[UserId], at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Every transporter `subject` is offered to and whose offer was not taken back, with when it
    /// was offered to them (the time its offer push carries, to the millisecond). Whether each
    /// stands is the subject's trip's to say.
    async fn open_offers(&self, subject: OfferSubject) -> Result<Vec<(UserId, DateTime<Utc>)>, StoreError>;
    /// Every transporter `subject` is offered to and whose offer was not taken back.
    async fn offered_to(&self, subject: OfferSubject) -> Result<Vec<UserId>, StoreError> {
        Ok(self.open_offers(subject).await?.into_iter().map(|(transporter, _)| transporter).collect())
    }
    /// Takes the offers back: those transporters can no longer accept `subject` (idempotent).
    async fn withdraw_offers(&self, subject: OfferSubject, transporters: &[UserId]) -> Result<(), StoreError>;
    /// What is offered to `transporter` since `since` and not taken back, with when it was
    /// offered: at most `limit`, newest first. A query on an index, never a scan.
    async fn live_offers(
        &self, transporter: &UserId, since: DateTime<Utc>, limit: usize,
    ) -> Result<Vec<(OfferSubject, DateTime<Utc>)>, StoreError>;
}

#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// The record under `scoped_key` if it was still valid (not expired) at `valid_at`.
    async fn get_idempotency(
        &self, scoped_key: &str, valid_at: DateTime<Utc>,
    ) -> Result<Option<IdempotencyRecord>, StoreError>;
}

/// The trips transporters won, across bookings and orders.
#[async_trait]
pub trait TripStore: Send + Sync {
    /// Up to `limit` of the trips `transporter` holds or held to the end (bookings and truck
    /// requests; not those they released), the latest accepted first, starting after `after`:
    /// queries on indexes, never a scan. A transporter holds one trip at a time and accepts
    /// another only once it ended, so the trip they hold comes first.
    async fn transporter_trips(
        &self, transporter: &UserId, limit: usize, after: Option<&PagePosition>,
    ) -> Result<Page<TripSummary>, StoreError>;
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
