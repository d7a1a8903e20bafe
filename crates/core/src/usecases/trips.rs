//! Taking a step of a booking's trip, whoever takes it: the api (for the customer and the
//! transporter), the deadline sweeper and the fan-out. The step, its event and what it does to the
//! transporter's availability are written in one transaction, conditional on the revision that was
//! read, and the event is then published (or left in the outbox for the relay). Of two racing
//! steps exactly one is written; the other finds the revision moved on.

use crate::contract::events::{BookingChanged, DomainEvent, EventRecord};
use crate::model::booking::Booking;
use crate::model::ids::{EventId, UserId};
use crate::model::trip::{OfferTimes, TripRef, TripStatus, TripStep};
use crate::ports::{Assignment, BookingStore, EventBus, Outbox, StoreError, TransitionError};
use crate::usecases::outbox_relay::publish_committed;
use chrono::Utc;

/// Why a step was not taken.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    /// The step is not legal from the booking's status, which is given.
    #[error("illegal from {0}")]
    Illegal(TripStatus),
    /// Another change was written since the booking was read.
    #[error("the booking changed meanwhile")]
    Lost,
    /// The accepting transporter holds another trip or has no profile.
    #[error("the transporter cannot take the trip")]
    TransporterUnavailable,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One step taken on one booking, by whoever drives it.
pub(crate) struct BookingStep<'a> {
    pub step: TripStep,
    /// Who accepts (for the other steps, the transporter who holds the trip is on the booking).
    pub transporter: Option<&'a UserId>,
    pub times: &'a OfferTimes,
    /// CloudEvents `source` of the event.
    pub source: &'static str,
}

impl BookingStep<'_> {
    /// Takes the step on `booking` as it was read, and answers the booking after it.
    pub(crate) async fn take<S, B>(&self, store: &S, bus: &B, booking: &Booking) -> Result<Booking, StepError>
    where
        S: BookingStore + Outbox,
        B: EventBus,
    {
        let (after, events, assignment) = self.prepare(booking)?;
        match store.transition_booking(&after, booking.trip.revision, &events, &assignment).await {
            Ok(()) => {}
            Err(TransitionError::NotFound | TransitionError::Conflict) => return Err(StepError::Lost),
            Err(TransitionError::TransporterUnavailable) => return Err(StepError::TransporterUnavailable),
            Err(TransitionError::Store(error)) => return Err(error.into()),
        }
        publish_committed(store, bus, &events).await;
        Ok(after)
    }

    /// The booking after the step, its event, and what it does to the transporter's availability.
    fn prepare(&self, booking: &Booking) -> Result<(Booking, [EventRecord; 1], Assignment), StepError> {
        let now = Utc::now();
        let mut after = booking.clone();
        after.trip.take(self.step, self.transporter, now, self.times).map_err(StepError::Illegal)?;
        let concerned = self.transporter.cloned().or_else(|| booking.trip.accepted_by.clone());
        let trip = TripRef::Booking(booking.booking_id);
        let assignment = match (self.step, &concerned) {
            (TripStep::Accept, Some(transporter)) => Assignment::Start { transporter: transporter.clone(), trip },
            (TripStep::Deliver | TripStep::Release | TripStep::Cancel, Some(transporter)) => {
                Assignment::End { transporter: transporter.clone(), trip }
            }
            _ => Assignment::Keep,
        };
        let event = DomainEvent::BookingChanged(BookingChanged {
            step: self.step,
            previous_status: booking.trip.status,
            transporter_id: concerned,
            booking: after.clone(),
        });
        Ok((after, [event.to_record(EventId::generate(), self.source, now)], assignment))
    }
}
