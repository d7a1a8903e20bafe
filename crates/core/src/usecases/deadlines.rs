//! [`Deadlines`] (the deadline-sweeper function, on a schedule): fires every booking deadline that
//! has passed. A scheduled booking is opened (offered); a searching one is offered wider once,
//! then expires. Deadlines live on the bookings themselves (`dueAt`, in a sparse index), so a
//! sweep that failed or never ran leaves them due, and the next sweep fires them. Firing is a step
//! conditional on the booking's revision: a deadline fired twice, or overtaken by an accept or a
//! cancel, changes nothing the second time.

use crate::model::booking::Booking;
use crate::model::trip::{OfferTimes, TripStep};
use crate::ports::{BookingStore, EventBus, Outbox, StoreError};
use crate::usecases::trips::{BookingStep, StepError};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// CloudEvents `source` of the steps deadlines take.
pub const DEADLINE_EVENT_SOURCE: &str = "/weelo/deadline-sweeper";

/// What one sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
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

impl std::ops::AddAssign for SweepReport {
    fn add_assign(&mut self, other: Self) {
        self.opened += other.opened;
        self.widened += other.widened;
        self.expired += other.expired;
        self.skipped += other.skipped;
        self.failed += other.failed;
    }
}

/// The deadline sweeper over the bookings store and the event bus.
pub struct Deadlines<S, B> {
    store: S,
    bus: B,
    times: OfferTimes,
    page_size: usize,
}

impl<S: BookingStore + Outbox, B: EventBus> Deadlines<S, B> {
    pub fn new(store: S, bus: B, times: OfferTimes, page_size: usize) -> Self {
        Self { store, bus, times, page_size: page_size.max(1) }
    }

    /// Fires every deadline due at `now`, page after page, until a page fires nothing (what is
    /// left is either not due any more, but the index has not caught up, or failing for now).
    pub async fn sweep(&self, now: DateTime<Utc>) -> Result<SweepReport, StoreError> {
        let mut report = SweepReport::default();
        loop {
            let due = self.store.due_bookings(now, self.page_size).await?;
            let fired_before = report.fired();
            for booking in &due {
                self.fire(booking, now, &mut report).await;
            }
            if due.len() < self.page_size || report.fired() == fired_before {
                return Ok(report);
            }
        }
    }

    /// Fires one deadline, reading the booking again first: the index is eventually consistent.
    async fn fire(&self, listed: &Booking, now: DateTime<Utc>, report: &mut SweepReport) {
        let booking = match self.store.get_booking(listed.booking_id).await {
            Ok(Some(booking)) => booking,
            Ok(None) => return report.skipped += 1,
            Err(error) => {
                tracing::warn!(booking = %listed.booking_id, %error, "deadline left for the next sweep");
                return report.failed += 1;
            }
        };
        let step = match (booking.trip.due_at, booking.trip.due_step()) {
            (Some(due_at), Some(step)) if due_at <= now => step,
            _ => return report.skipped += 1,
        };
        let taken = BookingStep { step, transporter: None, times: &self.times, source: DEADLINE_EVENT_SOURCE };
        match taken.take(&self.store, &self.bus, &booking).await {
            Ok(_) => match step {
                TripStep::Open => report.opened += 1,
                TripStep::Widen => report.widened += 1,
                _ => report.expired += 1,
            },
            Err(StepError::Lost | StepError::Illegal(_) | StepError::TransporterUnavailable) => report.skipped += 1,
            Err(StepError::Store(error)) => {
                tracing::warn!(booking = %booking.booking_id, %error, "deadline left for the next sweep");
                report.failed += 1;
            }
        }
    }
}
