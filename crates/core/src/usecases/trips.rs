//! Taking a step of a trip, a booking's or a truck request's, whoever takes it: the api (for the
//! customer and the transporter), the deadline sweeper and the fan-out. The step, its event and
//! what it does to the transporter's availability are written in one transaction, conditional on
//! the revision that was read, and the event is then published (or left in the outbox for the
//! relay). Of two racing steps exactly one is written; the other finds the revision moved on.

use crate::contract::events::{BookingChanged, DomainEvent, TruckRequestChanged};
use crate::model::booking::Booking;
use crate::model::ids::{EventId, UserId};
use crate::model::order::TruckRequest;
use crate::model::trip::{OfferTimes, Trip, TripRef, TripStatus, TripStep};
use crate::ports::{Assignment, BookingStore, Change, EventBus, OrderStore, Outbox, StoreError, TransitionError};
use crate::usecases::outbox_relay::publish_committed;
use chrono::Utc;

/// Why a step was not taken.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    /// The step is not legal from the trip's status, which is given.
    #[error("illegal from {0}")]
    Illegal(TripStatus),
    /// Another change was written since the trip was read (or its order was cancelled).
    #[error("the trip changed meanwhile")]
    Lost,
    /// The accepting transporter holds another trip or has no profile.
    #[error("the transporter cannot take the trip")]
    TransporterUnavailable,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<TransitionError> for StepError {
    fn from(error: TransitionError) -> Self {
        match error {
            TransitionError::NotFound | TransitionError::Conflict => StepError::Lost,
            TransitionError::TransporterUnavailable => StepError::TransporterUnavailable,
            TransitionError::Store(error) => StepError::Store(error),
        }
    }
}

/// What has a trip: a booking, or one truck of an order.
pub(crate) trait Tripped: Clone {
    fn trip(&self) -> &Trip;
    fn trip_mut(&mut self) -> &mut Trip;
    fn trip_ref(&self) -> TripRef;
}

/// Both keep their trip in a `trip` field; they differ in how the trip is named.
macro_rules! tripped {
    ($holder:ty, |$it:ident| $trip_ref:expr) => {
        impl Tripped for $holder {
            fn trip(&self) -> &Trip {
                &self.trip
            }
            fn trip_mut(&mut self) -> &mut Trip {
                &mut self.trip
            }
            fn trip_ref(&self) -> TripRef {
                let $it = self;
                $trip_ref
            }
        }
    };
}

tripped!(Booking, |booking| TripRef::Booking(booking.booking_id));
tripped!(TruckRequest, |truck| TripRef::TruckRequest(truck.order_id, truck.truck_request_id));

/// One step taken on one trip, by whoever drives it.
pub(crate) struct Step<'a> {
    pub step: TripStep,
    /// Who accepts (for the other steps, the transporter who holds the trip is on the trip).
    pub transporter: Option<&'a UserId>,
    pub times: &'a OfferTimes,
    /// CloudEvents `source` of the event.
    pub source: &'static str,
}

/// A step worked out before it is written.
struct Planned<T> {
    after: T,
    assignment: Assignment,
    /// The transporter the step concerns.
    concerned: Option<UserId>,
}

impl Step<'_> {
    /// Takes the step on `booking` as it was read, and answers the booking after it.
    pub(crate) async fn take_booking<S: BookingStore + Outbox, B: EventBus>(
        &self, store: &S, bus: &B, booking: &Booking,
    ) -> Result<Booking, StepError> {
        let (step, previous_status) = (self.step, booking.trip.status);
        let changed = |transporter_id, booking| {
            DomainEvent::BookingChanged(BookingChanged { step, previous_status, transporter_id, booking })
        };
        self.take(store, bus, booking, changed, async |change| store.transition_booking(change).await).await
    }

    /// Takes the step on a truck request of `customer`'s order, as it was read; with
    /// `order_open`, only while the order is not cancelled.
    pub(crate) async fn take_truck_request<S: OrderStore + Outbox, B: EventBus>(
        &self, store: &S, bus: &B, request: &TruckRequest, customer: &UserId, order_open: bool,
    ) -> Result<TruckRequest, StepError> {
        let (step, previous_status, customer_id) = (self.step, request.trip.status, customer.clone());
        let changed = |transporter_id, request| {
            DomainEvent::TruckRequestChanged(TruckRequestChanged {
                step,
                previous_status,
                customer_id,
                transporter_id,
                request,
            })
        };
        self.take(store, bus, request, changed, async |change| store.transition_truck_request(change, order_open).await)
            .await
    }

    /// Takes the step on `before` as it was read: `changed` makes the step's event from the
    /// transporter it concerns and the holder after it; `write` stores the change (only while
    /// `before` is at the revision read); then the event is published.
    async fn take<T: Tripped, S: Outbox, B: EventBus>(
        &self, store: &S, bus: &B, before: &T, changed: impl FnOnce(Option<UserId>, T) -> DomainEvent,
        write: impl AsyncFnOnce(Change<'_, T>) -> Result<(), TransitionError>,
    ) -> Result<T, StepError> {
        let Planned { after, assignment, concerned } = self.plan(before)?;
        let events = [changed(concerned, after.clone()).to_record(EventId::generate(), self.source, Utc::now())];
        write(Change { to: &after, expected: before.trip().revision, events: &events, assignment: &assignment })
            .await?;
        publish_committed(store, bus, &events).await;
        Ok(after)
    }

    /// The trip after the step, and what it does to the transporter's availability.
    fn plan<T: Tripped>(&self, item: &T) -> Result<Planned<T>, StepError> {
        let mut after = item.clone();
        after.trip_mut().take(self.step, self.transporter, Utc::now(), self.times).map_err(StepError::Illegal)?;
        let concerned = self.transporter.cloned().or_else(|| item.trip().accepted_by.clone());
        let trip = item.trip_ref();
        let assignment = match (self.step, &concerned) {
            (TripStep::Accept, Some(transporter)) => Assignment::Start { transporter: transporter.clone(), trip },
            (TripStep::Deliver | TripStep::Release | TripStep::Cancel, Some(transporter)) => {
                Assignment::End { transporter: transporter.clone(), trip }
            }
            _ => Assignment::Keep,
        };
        Ok(Planned { after, assignment, concerned })
    }
}
