//! The transporter's side of an order's truck: accept one of a line offered to them, take it
//! through arrived, picked up and delivered, or release it before pickup (offered again to the
//! others). The same rules as a booking's trip: the step just taken again answers it unchanged,
//! any other step out of order answers 409 with the current status.

use super::Orders;
use crate::error::ServiceError;
use crate::model::caller::Transporter;
use crate::model::ids::{OrderId, TruckRequestId, UserId};
use crate::model::order::{OrderStatus, OrderView, TruckRequest, TruckRequestStatus};
use crate::model::trip::TripStep;
use crate::ports::{
    EventBus, IdempotencyStore, OfferState, OfferStore, OfferSubject, OrderStore, Outbox, TransporterStore,
};
use crate::usecases::api::refusals::{LOOKS, TRUCK, why_unavailable};
use crate::usecases::api::{API_EVENT_SOURCE, not_found};
use crate::usecases::trips::{Step, StepError};

impl<S, B> Orders<S, B>
where
    S: OrderStore + OfferStore + IdempotencyStore + TransporterStore + Outbox,
    B: EventBus,
{
    /// `POST /v1/orders/{id}/truck-requests/{trId}/accept`: the first transporter offered the
    /// truck's line to accept it wins; later ones get 409 with its status. A transporter on
    /// another trip, whose offer was withdrawn, or who released this truck cannot accept it; nor
    /// can anyone once the order is cancelled.
    pub async fn accept_truck_request(
        &self, transporter: &Transporter, order_id: &str, truck_request_id: &str,
    ) -> Result<TruckRequest, ServiceError> {
        let me = transporter.id();
        let (view, request) = self.truck(order_id, truck_request_id).await?;
        // Not offered looks like not there: a transporter learns nothing of other people's orders.
        let subject = OfferSubject::OrderLine(view.order.order_id, request.line);
        let offer = self.store.offer_state(subject, me).await?.ok_or(not_found("truck request"))?;
        if request.trip.released_by.contains(me) {
            return Err(not_found("truck request"));
        }
        if request.trip.accepted_by.as_ref() == Some(me) && request.status().is_assigned() {
            return Ok(request);
        }
        if view.order.status == OrderStatus::Cancelled {
            return Err(TRUCK.unavailable(TruckRequestStatus::Cancelled));
        }
        if request.status() != TruckRequestStatus::Searching {
            return Err(TRUCK.unavailable(request.status()));
        }
        // A line's offers are taken back in the table when none of its trucks searches any more:
        // one that stands, stands for every truck of the line that searches.
        if offer == OfferState::Withdrawn {
            return Err(TRUCK.offer_withdrawn(request.status()));
        }
        let step = self.step(TripStep::Accept, Some(me));
        match step.take_truck_request(&self.store, &self.bus, &request, &view.order.customer_id, true).await {
            Ok(accepted) => Ok(accepted),
            Err(StepError::Lost) => {
                let (view, now) = self.truck(order_id, truck_request_id).await?;
                let status = if view.order.status == OrderStatus::Cancelled {
                    TruckRequestStatus::Cancelled
                } else {
                    now.status()
                };
                Err(TRUCK.unavailable(status))
            }
            Err(StepError::TransporterUnavailable) => Err(why_unavailable(&self.store, transporter).await),
            Err(error) => Err(TRUCK.refused(error)),
        }
    }

    /// `POST /v1/orders/{id}/truck-requests/{trId}/{arrive|pickup|deliver|release}`: a step of the
    /// truck's trip by the transporter who holds it; 404 for anyone else.
    pub async fn advance_truck(
        &self, transporter: &Transporter, order_id: &str, truck_request_id: &str, step: TripStep,
    ) -> Result<TruckRequest, ServiceError> {
        debug_assert!(TripStep::BY_HOLDER.contains(&step), "{step:?} is not the transporter's");
        let me = transporter.id();
        let mut outcome = Err(StepError::Lost);
        for _ in 0..LOOKS {
            let (view, request) = self.truck(order_id, truck_request_id).await?;
            if request.trip.accepted_by.as_ref() != Some(me) {
                return if step == TripStep::Release && request.trip.released_by.contains(me) {
                    Ok(request)
                } else {
                    Err(not_found("truck request"))
                };
            }
            if step != TripStep::Release && request.status() == step.transition().to {
                return Ok(request);
            }
            let customer = &view.order.customer_id;
            outcome = self.step(step, None).take_truck_request(&self.store, &self.bus, &request, customer, false).await;
            if !matches!(outcome, Err(StepError::Lost)) {
                break;
            }
        }
        outcome.map_err(|error| TRUCK.refused(error))
    }

    fn step<'a>(&'a self, step: TripStep, transporter: Option<&'a UserId>) -> Step<'a> {
        Step { step, transporter, times: &self.times, source: API_EVENT_SOURCE }
    }

    /// The order and one of its truck requests; 404 if either is not there.
    async fn truck(&self, order_id: &str, truck_request_id: &str) -> Result<(OrderView, TruckRequest), ServiceError> {
        let order_id = OrderId::parse(order_id).map_err(|_| not_found("truck request"))?;
        let truck_request_id = TruckRequestId::parse(truck_request_id).map_err(|_| not_found("truck request"))?;
        let view = self.store.get_order(order_id).await?.ok_or(not_found("truck request"))?;
        let request = view
            .truck_requests
            .iter()
            .find(|r| r.truck_request_id == truck_request_id)
            .cloned()
            .ok_or(not_found("truck request"))?;
        Ok((view, request))
    }
}
