//! [`Bookings`]: a customer books one truck; offered transporters see it and the first to accept
//! wins; the customer cancels it and follows the assigned truck.

use super::idempotency::IdempotencyClaim;
use super::{API_EVENT_SOURCE, Created, create_and_publish, not_found, publish_committed};
use crate::contract::events::{Acceptance, BookingAccepted, BookingCancelled, DomainEvent};
use crate::contract::requests::{IdempotencyKey, NewBooking};
use crate::error::ServiceError;
use crate::model::booking::{Booking, BookingReceipt, BookingStatus};
use crate::model::caller::{Caller, Customer, Role, Transporter};
use crate::model::ids::{BookingId, EventId};
use crate::model::location::Position;
use crate::ports::{
    BookingStore, EventBus, IdempotencyStore, OfferStore, OfferSubject, Outbox, TransitionError, TransporterStore,
};
use chrono::Utc;

/// The booking use cases over a store and an event bus.
pub struct Bookings<S, B> {
    store: S,
    bus: B,
}

impl<S, B> Bookings<S, B>
where
    S: BookingStore + OfferStore + IdempotencyStore + TransporterStore + Outbox,
    B: EventBus,
{
    pub fn new(store: S, bus: B) -> Self {
        Self { store, bus }
    }

    /// `POST /v1/bookings`.
    pub async fn create(
        &self,
        customer: &Customer,
        request: NewBooking,
        key: Option<&IdempotencyKey>,
    ) -> Result<Created<BookingReceipt>, ServiceError> {
        let claim = IdempotencyClaim::new(customer.id(), "create-booking", key, &request)?;
        let now = Utc::now();
        let booking = Booking {
            booking_id: BookingId::generate(),
            customer_id: customer.id().clone(),
            status: BookingStatus::Searching,
            pickup: request.pickup,
            drop: request.drop,
            vehicle_type: request.vehicle_type,
            scheduled_at: request.scheduled_at,
            created_at: now,
            accepted_by: None,
            accepted_at: None,
            cancelled_at: None,
        };
        let receipt = BookingReceipt { booking_id: booking.booking_id, status: booking.status, created_at: now };
        let event = DomainEvent::BookingCreated(booking.clone());
        create_and_publish(&self.store, &self.bus, claim, receipt, event, now, async |events, record| {
            self.store.create_booking(&booking, events, record).await
        })
        .await
    }

    /// `GET /v1/bookings/{id}`: the owner, a transporter it was offered to, or the one who won it.
    pub async fn get(&self, caller: &Caller, id: &str) -> Result<Booking, ServiceError> {
        let mut booking = self.visible(caller, id).await?;
        // Offered transporters who lost see that it is taken, not by whom (as for order trucks).
        if caller.role == Role::Transporter && booking.accepted_by.as_ref() != Some(&caller.user_id) {
            booking.accepted_by = None;
            booking.accepted_at = None;
        }
        Ok(booking)
    }

    /// `POST /v1/bookings/{id}/accept`: the first offered transporter to accept wins; later ones get 409.
    pub async fn accept(&self, transporter: &Transporter, id: &str) -> Result<Booking, ServiceError> {
        let me = transporter.id();
        let id = BookingId::parse(id).map_err(|_| not_found("booking"))?;
        if !self.store.is_offered(OfferSubject::Booking(id), me).await? {
            return Err(not_found("booking"));
        }
        let mut booking = self.store.get_booking(id).await?.ok_or(not_found("booking"))?;
        if booking.status != BookingStatus::Searching {
            return Err(unavailable(booking.status));
        }
        let now = Utc::now();
        booking.status = BookingStatus::Accepted;
        booking.accepted_by = Some(me.clone());
        booking.accepted_at = Some(now);
        let acceptance = Acceptance {
            customer_id: booking.customer_id.clone(),
            transporter_id: me.clone(),
            vehicle_type: booking.vehicle_type,
            accepted_at: now,
        };
        let event = DomainEvent::BookingAccepted(BookingAccepted { booking_id: id, acceptance });
        let events = [event.to_record(EventId::generate(), API_EVENT_SOURCE, now)];
        match self.store.transition_booking(&booking, BookingStatus::Searching, &events).await {
            Ok(()) => {}
            Err(TransitionError::NotFound) => return Err(not_found("booking")),
            Err(TransitionError::Conflict) => return Err(self.current_conflict(id).await),
            Err(TransitionError::Store(e)) => return Err(e.into()),
        }
        publish_committed(&self.store, &self.bus, &events).await;
        Ok(booking)
    }

    /// `POST /v1/bookings/{id}/cancel`: the owner cancels a booking that is searching or accepted.
    /// Cancelling a cancelled booking answers it unchanged, so a retried cancel is harmless.
    pub async fn cancel(&self, customer: &Customer, id: &str) -> Result<Booking, ServiceError> {
        let id = BookingId::parse(id).map_err(|_| not_found("booking"))?;
        let mut booking = self.owned(customer, id).await?;
        if booking.status == BookingStatus::Cancelled {
            return Ok(booking);
        }
        let now = Utc::now();
        let previous = booking.status;
        booking.status = BookingStatus::Cancelled;
        booking.cancelled_at = Some(now);
        let event = DomainEvent::BookingCancelled(BookingCancelled {
            booking_id: id,
            customer_id: customer.id().clone(),
            previous_status: previous,
            accepted_by: booking.accepted_by.clone(),
            cancelled_at: now,
        });
        let events = [event.to_record(EventId::generate(), API_EVENT_SOURCE, now)];
        match self.store.transition_booking(&booking, previous, &events).await {
            Ok(()) => {}
            Err(TransitionError::NotFound) => return Err(not_found("booking")),
            // Accepted or cancelled in between: look again, so a concurrent cancel still answers 200.
            Err(TransitionError::Conflict) => return Box::pin(self.cancel(customer, &id.to_string())).await,
            Err(TransitionError::Store(e)) => return Err(e.into()),
        }
        publish_committed(&self.store, &self.bus, &events).await;
        Ok(booking)
    }

    /// `GET /v1/bookings/{id}/location`: where the assigned transporter was last seen.
    pub async fn location(&self, customer: &Customer, id: &str) -> Result<Position, ServiceError> {
        let id = BookingId::parse(id).map_err(|_| not_found("booking"))?;
        let booking = self.owned(customer, id).await?;
        let transporter = booking.accepted_by.ok_or(not_found("position"))?;
        self.store.latest_position(&transporter).await?.ok_or(not_found("position"))
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
                booking.accepted_by.as_ref() == Some(&caller.user_id)
                    || self.store.is_offered(OfferSubject::Booking(id), &caller.user_id).await?
            }
        };
        if visible { Ok(booking) } else { Err(not_found("booking")) }
    }

    async fn current_conflict(&self, id: BookingId) -> ServiceError {
        match self.store.get_booking(id).await {
            Ok(Some(booking)) => unavailable(booking.status),
            Ok(None) => not_found("booking"),
            Err(error) => error.into(),
        }
    }
}

fn unavailable(status: BookingStatus) -> ServiceError {
    ServiceError::Conflict {
        code: "booking_unavailable",
        message: format!("the booking is already {}", status.as_str()),
    }
}
