//! [`Deadlines`] (the deadline-sweeper function, on a schedule): fires every deadline that has
//! passed, of bookings and of order trucks. A scheduled booking is opened (offered); a searching
//! trip is offered wider once, then expires. Deadlines live on the trips themselves (`dueAt`, in a
//! sparse index per table), so a sweep that failed or never ran leaves them due, and the next
//! sweep fires them. Firing is a step conditional on the trip's revision: a deadline fired twice,
//! or overtaken by an accept or a cancel, changes nothing the second time.

use crate::model::booking::Booking;
use crate::model::ids::{OrderId, TruckRequestId};
use crate::model::order::OrderStatus;
use crate::model::trip::{OfferTimes, TripStep};
use crate::ports::{BookingStore, EventBus, OrderStore, Outbox, StoreError};
use crate::usecases::trips::{Step, StepError};
use chrono::{DateTime, Utc};
use futures::{StreamExt, stream};
use serde::Serialize;
use std::collections::BTreeMap;

/// Deadlines fired at once (each a read, a transaction and a publish).
const FIRE_CONCURRENCY: usize = 8;

async fn fold(mut total: SweepReport, one: SweepReport) -> SweepReport {
    total += one;
    total
}

/// CloudEvents `source` of the steps deadlines take.
pub const DEADLINE_EVENT_SOURCE: &str = "/weelo/deadline-sweeper";

/// What one sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, derive_more::AddAssign)]
#[serde(rename_all = "camelCase")]
pub struct SweepReport {
    /// Scheduled bookings offered now.
    pub opened: usize,
    pub widened: usize,
    pub expired: usize,
    /// Due in the index but no longer due on the booking (an accept or a cancel got there first,
    /// or another sweep fired it).
    pub skipped: usize,
    /// Left due after a store failure, for the next sweep.
    pub failed: usize,
}

impl SweepReport {
    pub fn fired(&self) -> usize {
        self.opened + self.widened + self.expired
    }
}

impl SweepReport {
    /// What firing `step` on trip `id` did.
    fn of(step: TripStep, taken: Result<(), StepError>, id: &str) -> SweepReport {
        let mut report = SweepReport::default();
        match taken {
            Ok(()) => match step {
                TripStep::Open => report.opened = 1,
                TripStep::Widen => report.widened = 1,
                _ => report.expired = 1,
            },
            Err(StepError::Lost | StepError::Illegal(_) | StepError::TransporterUnavailable) => report.skipped = 1,
            Err(StepError::Store(error)) => return SweepReport::failure(id, &error),
        }
        report
    }

    /// A deadline left due by a store failure, for the next sweep.
    fn failure(id: &str, error: &StoreError) -> SweepReport {
        tracing::warn!(trip = id, %error, "deadline left for the next sweep");
        SweepReport { failed: 1, ..SweepReport::default() }
    }
}

/// The deadline sweeper over the bookings store and the event bus.
pub struct Deadlines<S, B> {
    store: S,
    bus: B,
    times: OfferTimes,
    page_size: usize,
}

impl<S: BookingStore + OrderStore + Outbox, B: EventBus> Deadlines<S, B> {
    pub fn new(store: S, bus: B, times: OfferTimes, page_size: usize) -> Self {
        Self { store, bus, times, page_size: page_size.max(1) }
    }

    /// Fires every deadline due at `now`, page after page, until a page fires nothing (what is
    /// left is either not due any more, but the index has not caught up, or failing for now).
    pub async fn sweep(&self, now: DateTime<Utc>) -> Result<SweepReport, StoreError> {
        let mut report = SweepReport::default();
        loop {
            let due = self.store.due_bookings(now, self.page_size).await?;
            let page = stream::iter(&due).map(|b| self.fire(b, now)).buffer_unordered(FIRE_CONCURRENCY);
            let fired = page.fold(SweepReport::default(), fold).await;
            report += fired;
            if due.len() < self.page_size || fired.fired() == 0 {
                break;
            }
        }
        loop {
            let due = self.store.due_truck_requests(now, self.page_size).await?;
            // One read of each order for all of its trucks that are due.
            let mut by_order: BTreeMap<OrderId, Vec<TruckRequestId>> = BTreeMap::new();
            for request in &due {
                by_order.entry(request.order_id).or_default().push(request.truck_request_id);
            }
            let orders = stream::iter(by_order).map(|(order, trucks)| self.fire_trucks(order, trucks, now));
            let fired = orders.buffer_unordered(FIRE_CONCURRENCY).fold(SweepReport::default(), fold).await;
            report += fired;
            if due.len() < self.page_size || fired.fired() == 0 {
                return Ok(report);
            }
        }
    }

    /// Fires one deadline, reading the booking again first: the index is eventually consistent.
    async fn fire(&self, listed: &Booking, now: DateTime<Utc>) -> SweepReport {
        let booking = match self.store.get_booking(listed.booking_id).await {
            Ok(Some(booking)) => booking,
            Ok(None) => return SweepReport { skipped: 1, ..SweepReport::default() },
            Err(error) => return SweepReport::failure(&listed.booking_id.to_string(), &error),
        };
        let step = match (booking.trip.due_at, booking.trip.due_step()) {
            (Some(due_at), Some(step)) if due_at <= now => step,
            _ => return SweepReport { skipped: 1, ..SweepReport::default() },
        };
        let taken = self.step(step).take_booking(&self.store, &self.bus, &booking).await;
        SweepReport::of(step, taken.map(|_| ()), &booking.booking_id.to_string())
    }

    /// Fires the deadlines of some trucks of one order, reading the order again first (unless it
    /// is cancelled: order-fanout is cancelling its trucks).
    async fn fire_trucks(&self, order: OrderId, trucks: Vec<TruckRequestId>, now: DateTime<Utc>) -> SweepReport {
        let skipped = SweepReport { skipped: trucks.len(), ..SweepReport::default() };
        let view = match self.store.get_order(order).await {
            Ok(Some(view)) if view.order.status != OrderStatus::Cancelled => view,
            Ok(_) => return skipped,
            Err(error) => {
                return SweepReport { failed: trucks.len(), ..SweepReport::failure(&order.to_string(), &error) };
            }
        };
        let mut report = SweepReport::default();
        for request in view.truck_requests.iter().filter(|r| trucks.contains(&r.truck_request_id)) {
            let step = match (request.trip.due_at, request.trip.due_step()) {
                (Some(due_at), Some(step)) if due_at <= now => step,
                _ => {
                    report.skipped += 1;
                    continue;
                }
            };
            let customer = &view.order.customer_id;
            let taken = self.step(step).take_truck_request(&self.store, &self.bus, request, customer, true).await;
            report += SweepReport::of(step, taken.map(|_| ()), &request.truck_request_id.to_string());
        }
        report
    }

    fn step(&self, step: TripStep) -> Step<'_> {
        Step { step, transporter: None, times: &self.times, source: DEADLINE_EVENT_SOURCE }
    }
}
