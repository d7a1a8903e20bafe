//! [`MemoryStore`]: every storage port in memory, with the conditions the DynamoDB adapter puts on
//! its writes (a create fails on a taken key, a transition on a changed status or revision, a
//! transporter on a trip cannot start another, an older position
//! never overwrites a newer one, a confirmed push is never claimed again), so the use cases'
//! rules can be tested without a stack. The adapter itself is tested against the emulator.

use super::offers::IDEMPOTENCY_HOURS;
use crate::contract::events::EventRecord;
use crate::model::booking::{Booking, BookingStatus, BookingSummary};
use crate::model::device::Device;
use crate::model::ids::{BookingId, DeviceId, OrderId, UserId};
use crate::model::location::Position;
use crate::model::order::{Order, OrderStatus, OrderView, TruckRequest};
use crate::model::transporter::TransporterProfile;
use crate::ports::*;
use crate::usecases::trips::Tripped;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

/// A position, and where and as of when the geo index files the transporter.
pub(super) type PositionSlot = (Position, Option<crate::ports::IndexNote>);

#[derive(Default)]
pub(super) struct Tables {
    pub(super) bookings: HashMap<BookingId, Booking>,
    pub(super) orders: HashMap<OrderId, Order>,
    pub(super) truck_requests: BTreeMap<(OrderId, String), TruckRequest>,
    /// subject → transporter → (offered at, withdrawn)
    pub(super) offers: HashMap<OfferSubject, BTreeMap<UserId, (DateTime<Utc>, bool)>>,
    pub(super) idempotency: HashMap<String, IdempotencyRecord>,
    pub(super) profiles: HashMap<UserId, TransporterProfile>,
    pub(super) positions: HashMap<UserId, PositionSlot>,
    pub(super) cells: HashMap<String, BTreeMap<UserId, CellEntry>>,
    /// transporter → segment key (`model::history::Segment::key`, as the adapter's) → its points
    pub(super) history: HashMap<UserId, BTreeMap<String, Vec<crate::model::location::LocationPoint>>>,
    /// key → (claim id, confirmed, claimed at)
    pub(super) push_log: HashMap<String, (String, bool, DateTime<Utc>)>,
    pub(super) devices: HashMap<UserId, BTreeMap<DeviceId, Device>>,
    /// event id → (record, sent), in order of writing
    pub(super) outbox: Vec<(EventRecord, DateTime<Utc>, bool)>,
    pub(super) claims: u64,
    /// Geo-index writes fail while set (as a throttled table would).
    pub(super) index_down: bool,
}

/// Every storage port in memory (see the module documentation). Clones share the same tables, so
/// a test hands one to each use case and looks at what they wrote through another.
#[derive(Clone, Default)]
pub struct MemoryStore {
    tables: Arc<Mutex<Tables>>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, Tables> {
        self.tables.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The events written to the outbox and not yet marked sent.
    pub fn unsent(&self) -> Vec<EventRecord> {
        self.lock().outbox.iter().filter(|(_, _, sent)| !sent).map(|(r, _, _)| r.clone()).collect()
    }

    /// Every event ever written to the outbox.
    pub fn outbox(&self) -> Vec<EventRecord> {
        self.lock().outbox.iter().map(|(r, _, _)| r.clone()).collect()
    }

    /// How many history points `transporter` has (one a millisecond, as a track reads them).
    pub fn history_len(&self, transporter: &UserId) -> usize {
        let tables = self.lock();
        let Some(segments) = tables.history.get(transporter) else { return 0 };
        let times: std::collections::BTreeSet<i64> =
            segments.values().flatten().map(|p| p.recorded_at.timestamp_millis()).collect();
        times.len()
    }

    /// How many history items (segments) `transporter` has.
    pub fn history_segments(&self, transporter: &UserId) -> usize {
        self.lock().history.get(transporter).map_or(0, BTreeMap::len)
    }

    /// From now on every geo-index write fails (as a throttled table would), or succeeds again.
    pub fn fail_index_writes(&self, failing: bool) {
        self.lock().index_down = failing;
    }

    /// The geo-index entries of `cell`.
    pub fn cell(&self, cell: &str) -> Vec<CellEntry> {
        self.lock().cells.get(cell).map(|m| m.values().cloned().collect()).unwrap_or_default()
    }

    /// A claim on push `key` made `age` ago by a delivery that never confirmed it.
    pub fn unconfirmed_claim(&self, key: &str, age: chrono::Duration) {
        let claim = (format!("claim-of-another-delivery-{key}"), false, Utc::now() - age);
        self.lock().push_log.insert(key.to_owned(), claim);
    }

    /// Confirms whatever claim holds push `key` (as the delivery holding it would).
    pub fn confirm_claim(&self, key: &str) {
        if let Some((_, sent, _)) = self.lock().push_log.get_mut(key) {
            *sent = true;
        }
    }

    /// How many pushes the push log holds, claimed or confirmed.
    pub fn push_log_len(&self) -> usize {
        self.lock().push_log.len()
    }

    /// An idempotency record as it would be found later (e.g. one written a day ago).
    pub fn put_idempotency(&self, record: IdempotencyRecord) {
        self.lock().idempotency.insert(record.scoped_key.clone(), record);
    }

    fn write_outbox(tables: &mut Tables, events: &[EventRecord]) {
        let now = Utc::now();
        tables.outbox.extend(events.iter().map(|e| (e.clone(), now, false)));
    }

    /// Takes the idempotency key unless a valid record holds it.
    /// The profile write of a transition, with the adapter's conditions: a transporter starts a
    /// trip only with a profile and no other trip; ending one that is not theirs is a fault.
    fn assign(tables: &mut Tables, assignment: &Assignment) -> Result<(), TransitionError> {
        match assignment {
            Assignment::Keep => Ok(()),
            Assignment::Start { transporter, trip } => match tables.profiles.get_mut(transporter) {
                Some(profile) if profile.active_trip.is_none_or(|held| held == *trip) => {
                    profile.active_trip = Some(*trip);
                    Ok(())
                }
                _ => Err(TransitionError::TransporterUnavailable),
            },
            Assignment::End { transporter, trip } => match tables.profiles.get_mut(transporter) {
                Some(profile) if profile.active_trip.is_none_or(|held| held == *trip) => {
                    profile.active_trip = None;
                    Ok(())
                }
                _ => Err(TransitionError::Store(StoreError::new(
                    false,
                    anyhow::anyhow!("{transporter} does not hold {trip}"),
                ))),
            },
        }
    }

    /// What every `create_*` does: refuse a key still held, then insert the entity, the key and
    /// the events together.
    fn create<T, R>(
        &self, creation: Creation<'_, T>, insert: impl FnOnce(&mut Tables, &T) -> R,
    ) -> Result<(), CreateError> {
        let mut tables = self.lock();
        Self::take_key(&tables, creation.idempotency)?;
        insert(&mut tables, creation.new);
        if let Some(record) = creation.idempotency {
            tables.idempotency.insert(record.scoped_key.clone(), record.clone());
        }
        Self::write_outbox(&mut tables, creation.events);
        Ok(())
    }

    fn take_key(tables: &Tables, record: Option<&IdempotencyRecord>) -> Result<(), CreateError> {
        match record.and_then(|r| tables.idempotency.get(&r.scoped_key).map(|held| (r, held))) {
            Some((new, held)) if held.created_at + chrono::Duration::hours(IDEMPOTENCY_HOURS) > new.created_at => {
                Err(CreateError::IdempotencyKeyTaken)
            }
            _ => Ok(()),
        }
    }
}

/// Up to `limit` of `items` due at or before `now`, most overdue first (as the adapter's index).
fn due<'a, T: Tripped + 'a>(items: impl Iterator<Item = &'a T>, now: DateTime<Utc>, limit: usize) -> Vec<T> {
    let mut due: Vec<T> = items.filter(|i| i.trip().due_at.is_some_and(|at| at <= now)).cloned().collect();
    due.sort_by_key(|i| i.trip().due_at);
    due.truncate(limit);
    due
}

#[async_trait]
impl BookingStore for MemoryStore {
    async fn create_booking(&self, creation: Creation<'_, Booking>) -> Result<(), CreateError> {
        self.create(creation, |tables, booking| tables.bookings.insert(booking.booking_id, booking.clone()))
    }

    async fn get_booking(&self, id: BookingId) -> Result<Option<Booking>, StoreError> {
        Ok(self.lock().bookings.get(&id).cloned())
    }

    async fn transition_booking(&self, change: Change<'_, Booking>) -> Result<(), TransitionError> {
        let (booking, mut tables) = (change.to, self.lock());
        match tables.bookings.get(&booking.booking_id) {
            None => return Err(TransitionError::NotFound),
            Some(stored) if stored.trip.revision != change.expected => return Err(TransitionError::Conflict),
            Some(_) => {}
        }
        Self::assign(&mut tables, change.assignment)?;
        tables.bookings.insert(booking.booking_id, booking.clone());
        Self::write_outbox(&mut tables, change.events);
        Ok(())
    }

    async fn due_bookings(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Booking>, StoreError> {
        Ok(due(self.lock().bookings.values(), now, limit))
    }

    /// Newest first by id (ids are time-ordered), as the adapter's index; the position is the id.
    async fn customer_bookings(&self, list: ListPage<'_, BookingStatus>) -> Result<Page<BookingSummary>, StoreError> {
        let ListPage { customer, statuses, limit, after } = list;
        let (tables, limit) = (self.lock(), limit.max(1));
        let mut mine: Vec<&Booking> = tables
            .bookings
            .values()
            .filter(|b| &b.customer_id == customer && (statuses.is_empty() || statuses.contains(&b.status())))
            .filter(|b| after.is_none_or(|after| b.booking_id.to_string().as_str() < after.as_str()))
            .collect();
        mine.sort_by_key(|b| std::cmp::Reverse(b.booking_id.to_string()));
        let next = (mine.len() > limit).then(|| PagePosition::new(mine[limit - 1].booking_id.to_string()));
        Ok(Page { items: mine.into_iter().take(limit).map(BookingSummary::from).collect(), next })
    }
}

#[async_trait]
impl OrderStore for MemoryStore {
    async fn create_order(&self, creation: Creation<'_, Order>) -> Result<(), CreateError> {
        self.create(creation, |tables, order| tables.orders.insert(order.order_id, order.clone()))
    }

    async fn get_order(&self, id: OrderId) -> Result<Option<OrderView>, StoreError> {
        let tables = self.lock();
        Ok(tables.orders.get(&id).map(|order| {
            let requests = tables.truck_requests.range((id, String::new())..).take_while(|((o, _), _)| *o == id);
            OrderView::assemble(order.clone(), requests.map(|(_, r)| r.clone()).collect())
        }))
    }

    async fn put_truck_requests(&self, requests: &[TruckRequest]) -> Result<(), StoreError> {
        let mut tables = self.lock();
        for request in requests {
            let key = (request.order_id, request.truck_request_id.to_string());
            tables.truck_requests.entry(key).or_insert_with(|| request.clone());
        }
        Ok(())
    }

    async fn set_order_status(
        &self, id: OrderId, expected: OrderStatus, status: OrderStatus,
    ) -> Result<bool, StoreError> {
        let mut tables = self.lock();
        match tables.orders.get_mut(&id) {
            Some(order) if order.status == expected => {
                order.status = status;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn cancel_order(&self, id: OrderId, events: &[EventRecord]) -> Result<(), TransitionError> {
        let mut tables = self.lock();
        match tables.orders.get_mut(&id) {
            None => return Err(TransitionError::NotFound),
            Some(order) if !matches!(order.status, OrderStatus::Processing | OrderStatus::Open) => {
                return Err(TransitionError::Conflict);
            }
            Some(order) => order.status = OrderStatus::Cancelled,
        }
        Self::write_outbox(&mut tables, events);
        Ok(())
    }

    async fn transition_truck_request(
        &self, change: Change<'_, TruckRequest>, order_open: bool,
    ) -> Result<(), TransitionError> {
        let (request, mut tables) = (change.to, self.lock());
        let key = (request.order_id, request.truck_request_id.to_string());
        match tables.truck_requests.get(&key) {
            None => return Err(TransitionError::NotFound),
            Some(stored) if stored.trip.revision != change.expected => return Err(TransitionError::Conflict),
            Some(_) => {}
        }
        let cancelled = tables.orders.get(&request.order_id).is_none_or(|o| o.status == OrderStatus::Cancelled);
        if order_open && cancelled {
            return Err(TransitionError::Conflict);
        }
        Self::assign(&mut tables, change.assignment)?;
        tables.truck_requests.insert(key, request.clone());
        Self::write_outbox(&mut tables, change.events);
        Ok(())
    }

    async fn due_truck_requests(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<TruckRequest>, StoreError> {
        Ok(due(self.lock().truck_requests.values(), now, limit))
    }

    async fn customer_orders(
        &self, list: ListPage<'_, OrderStatus>,
    ) -> Result<Page<crate::model::order::OrderSummary>, StoreError> {
        let ListPage { customer, statuses, limit, after } = list;
        Ok(super::lists::customer_orders(&self.lock(), customer, statuses, limit, after))
    }
}
