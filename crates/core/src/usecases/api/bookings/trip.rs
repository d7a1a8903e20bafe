//! The transporter's side of a booking: accept it, take it through arrived, picked up and
//! delivered, or release it before pickup. Repeating the step just taken answers the booking
//! unchanged (a retried request is harmless); any other step out of order answers 409 with the
//! current status.

use super::Bookings;
use crate::error::ServiceError;
use crate::model::booking::Booking;
use crate::model::caller::Transporter;
use crate::model::ids::BookingId;
use crate::model::trip::{TripStatus, TripStep};
use crate::ports::{
    BookingStore, EventBus, IdempotencyStore, OfferState, OfferStore, OfferSubject, Outbox, TransporterStore,
};
use crate::usecases::api::not_found;
use crate::usecases::api::refusals::{BOOKING, LOOKS, why_unavailable};
use crate::usecases::trips::StepError;

impl<S, B> Bookings<S, B>
where
    S: BookingStore + OfferStore + IdempotencyStore + TransporterStore + Outbox,
    B: EventBus,
{
    /// `POST /v1/bookings/{id}/accept`: the first offered transporter to accept wins; later ones
    /// get 409 with the status (also once it is cancelled or expired). A transporter on another
    /// trip, whose offer was withdrawn, or who released this booking, cannot accept it.
    pub async fn accept(&self, transporter: &Transporter, id: &str) -> Result<Booking, ServiceError> {
        let me = transporter.id();
        let id = BookingId::parse(id).map_err(|_| not_found("booking"))?;
        let Some(offer) = self.store.offer_state(OfferSubject::Booking(id), me).await? else {
            return Err(not_found("booking"));
        };
        let booking = self.store.get_booking(id).await?.ok_or(not_found("booking"))?;
        if booking.trip.released_by.contains(me) {
            return Err(not_found("booking"));
        }
        if booking.trip.accepted_by.as_ref() == Some(me) && booking.trip.status.is_assigned() {
            return Ok(booking);
        }
        if booking.trip.status != TripStatus::Searching {
            return Err(BOOKING.unavailable(booking.trip.status));
        }
        if !matches!(offer, OfferState::Live(at) if booking.trip.offer_stands(at)) {
            // Made for a search an acceptance ended, before a release; offered again only if
            // matched again.
            return Err(BOOKING.offer_withdrawn(booking.trip.status));
        }
        match self.step(TripStep::Accept, Some(me)).take_booking(&self.store, &self.bus, &booking).await {
            Ok(accepted) => Ok(accepted),
            Err(StepError::Lost) => Err(self.current_conflict(id).await),
            Err(StepError::TransporterUnavailable) => Err(why_unavailable(&self.store, transporter).await),
            Err(error) => Err(BOOKING.refused(error)),
        }
    }

    /// `POST /v1/bookings/{id}/{arrive|pickup|deliver|release}`: a step of the trip by the
    /// transporter who holds it; 404 for anyone else.
    pub async fn advance(&self, transporter: &Transporter, id: &str, step: TripStep) -> Result<Booking, ServiceError> {
        debug_assert!(TripStep::BY_HOLDER.contains(&step), "{step:?} is not the transporter's");
        let me = transporter.id();
        let id = BookingId::parse(id).map_err(|_| not_found("booking"))?;
        let mut outcome = Err(StepError::Lost);
        for _ in 0..LOOKS {
            let booking = self.store.get_booking(id).await?.ok_or(not_found("booking"))?;
            if booking.trip.accepted_by.as_ref() != Some(me) {
                // Released already: a retried release is harmless; anything else is not theirs.
                return if step == TripStep::Release && booking.trip.released_by.contains(me) {
                    Ok(booking)
                } else {
                    Err(not_found("booking"))
                };
            }
            if step != TripStep::Release && booking.trip.status == step.transition().to {
                return Ok(booking);
            }
            outcome = self.step(step, None).take_booking(&self.store, &self.bus, &booking).await;
            if !matches!(outcome, Err(StepError::Lost)) {
                break;
            }
        }
        outcome.map_err(|error| BOOKING.refused(error))
    }

    async fn current_conflict(&self, id: BookingId) -> ServiceError {
        match self.store.get_booking(id).await {
            Ok(Some(booking)) => BOOKING.unavailable(booking.status()),
            Ok(None) => not_found("booking"),
            Err(error) => error.into(),
        }
    }
}
