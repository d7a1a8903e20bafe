//! [`Bookings`]: a customer books one truck and can cancel it until it is picked up; offered
//! transporters see it and the first to accept wins; the winner takes it through its trip
//! (`trip.rs`); the customer follows the assigned truck.

mod trip;

use super::{API_EVENT_SOURCE, Aggregate, Create, Created, create_and_publish, not_found};
use crate::contract::events::DomainEvent;
use crate::contract::requests::NewBooking;
use crate::error::ServiceError;
use crate::model::booking::{Booking, BookingReceipt, BookingStatus};
use crate::model::caller::{Caller, Customer, Role};
use crate::model::ids::{BookingId, UserId};
use crate::model::location::Position;
use crate::model::trip::{Trip, TripStep};
use crate::ports::{
    BookingStore, Creation, EventBus, IdempotencyStore, OfferStore, OfferSubject, Outbox, TransporterStore,
};
use crate::usecases::api::refusals::{BOOKING, LOOKS};
use crate::usecases::trips::{Step, StepError};
use chrono::Utc;

/// Marks [`Aggregate`] as the booking use cases.
pub enum OfBookings {}

/// The booking use cases over a store and an event bus.
pub type Bookings<S, B> = Aggregate<OfBookings, S, B>;

impl<S: BookingStore + OfferStore + IdempotencyStore + TransporterStore + Outbox, B: EventBus> Bookings<S, B> {
    /// `POST /v1/bookings`: offered at once, or at `scheduledAt` minus the lead time.
    pub async fn create(&self, create: Create<'_, NewBooking>) -> Result<Created<BookingReceipt>, ServiceError> {
        let (claim, now, request) = (create.claim("create-booking")?, Utc::now(), create.command);
        let booking = Booking {
            booking_id: BookingId::generate(),
            customer_id: create.customer.id().clone(),
            pickup: request.pickup,
            drop: request.drop,
            vehicle_type: request.vehicle_type,
            scheduled_at: request.scheduled_at,
            created_at: now,
            trip: Trip::new(now, request.scheduled_at, &self.times),
        };
        let receipt = BookingReceipt { booking_id: booking.booking_id, status: booking.status(), created_at: now };
        let event = DomainEvent::BookingCreated(booking.clone());
        create_and_publish(&self.store, &self.bus, claim, receipt, event, now, async |events, record| {
            self.store.create_booking(Creation { new: &booking, events, idempotency: record }).await
        })
        .await
    }

    /// `GET /v1/bookings/{id}`: the owner, a transporter it is offered to, or the one who holds it.
    pub async fn get(&self, caller: &Caller, id: &str) -> Result<Booking, ServiceError> {
        let mut booking = self.visible(caller, id).await?;
        // Offered transporters who lost see that it is taken, not by whom (as for order trucks).
        if caller.role == Role::Transporter && booking.trip.accepted_by.as_ref() != Some(&caller.user_id) {
            booking.trip.hide_assignee();
        }
        Ok(booking)
    }

    /// `POST /v1/bookings/{id}/cancel`: the owner cancels a booking that is not yet picked up.
    /// Cancelling a cancelled booking answers it unchanged, so a retried cancel is harmless.
    pub async fn cancel(&self, customer: &Customer, id: &str) -> Result<Booking, ServiceError> {
        let id = BookingId::parse(id).map_err(|_| not_found("booking"))?;
        let mut outcome = Err(StepError::Lost);
        for _ in 0..LOOKS {
            let booking = self.owned(customer, id).await?;
            if booking.status() == BookingStatus::Cancelled {
                return Ok(booking);
            }
            outcome = self.step(TripStep::Cancel, None).take_booking(&self.store, &self.bus, &booking).await;
            // Changed in between (accepted, released, picked up, cancelled): look again.
            if !matches!(outcome, Err(StepError::Lost)) {
                break;
            }
        }
        outcome.map_err(|error| BOOKING.refused(error))
    }

    /// `GET /v1/bookings/{id}/location`: where the assigned transporter was last seen.
    pub async fn location(&self, customer: &Customer, id: &str) -> Result<Position, ServiceError> {
        let id = BookingId::parse(id).map_err(|_| not_found("booking"))?;
        let booking = self.owned(customer, id).await?;
        let transporter = booking.trip.accepted_by.ok_or(not_found("position"))?;
        self.store.latest_position(&transporter).await?.ok_or(not_found("position"))
    }

    fn step<'a>(&'a self, step: TripStep, transporter: Option<&'a UserId>) -> Step<'a> {
        Step { step, transporter, times: &self.times, source: API_EVENT_SOURCE }
    }

    /// The booking if `customer` owns it; 404 for anyone else, as for a booking that does not exist.
    async fn owned(&self, customer: &Customer, id: BookingId) -> Result<Booking, ServiceError> {
        let booking = self.store.get_booking(id).await?;
        booking.filter(|b| &b.customer_id == customer.id()).ok_or(not_found("booking"))
    }

    async fn visible(&self, caller: &Caller, id: &str) -> Result<Booking, ServiceError> {
        let id = BookingId::parse(id).map_err(|_| not_found("booking"))?;
        let booking = self.store.get_booking(id).await?.ok_or(not_found("booking"))?;
        let visible = match caller.role {
            Role::Customer => booking.customer_id == caller.user_id,
            Role::Transporter => {
                booking.trip.accepted_by.as_ref() == Some(&caller.user_id)
                    || self.store.offer_state(OfferSubject::Booking(id), &caller.user_id).await?.is_some()
            }
        };
        if visible { Ok(booking) } else { Err(not_found("booking")) }
    }
}
