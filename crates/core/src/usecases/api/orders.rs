//! [`Orders`]: a customer orders several trucks at once; order-fanout splits the order into truck
//! requests and offers each line; a transporter offered a line accepts one of its truck requests.

use super::idempotency::IdempotencyClaim;
use super::{API_EVENT_SOURCE, Created, create_and_publish, not_found, publish_committed};
use crate::contract::events::{Acceptance, DomainEvent, TruckRequestAccepted};
use crate::contract::requests::{IdempotencyKey, NewOrder};
use crate::error::ServiceError;
use crate::model::caller::{Caller, Customer, Role, Transporter};
use crate::model::ids::{EventId, OrderId, TruckRequestId, UserId};
use crate::model::order::{Order, OrderReceipt, OrderStatus, OrderView, TruckRequest, TruckRequestStatus};
use crate::ports::{EventBus, IdempotencyStore, OfferStore, OfferSubject, OrderStore, Outbox, TransitionError};
use chrono::Utc;

/// The order use cases over a store and an event bus.
pub struct Orders<S, B> {
    store: S,
    bus: B,
}

impl<S, B> Orders<S, B>
where
    S: OrderStore + OfferStore + IdempotencyStore + Outbox,
    B: EventBus,
{
    pub fn new(store: S, bus: B) -> Self {
        Self { store, bus }
    }

    /// `POST /v1/orders`.
    pub async fn create(
        &self,
        customer: &Customer,
        request: NewOrder,
        key: Option<&IdempotencyKey>,
    ) -> Result<Created<OrderReceipt>, ServiceError> {
        let claim = IdempotencyClaim::new(customer.id(), "create-order", key, &request)?;
        let now = Utc::now();
        let trucks_requested = request.trucks_requested();
        let order = Order {
            order_id: OrderId::generate(),
            customer_id: customer.id().clone(),
            status: OrderStatus::Processing,
            pickup: request.pickup,
            drop: request.drop,
            trucks: request.trucks,
            trucks_requested,
            created_at: now,
        };
        let receipt = OrderReceipt { order_id: order.order_id, status: order.status, trucks_requested };
        let event = DomainEvent::OrderCreated(order.clone());
        create_and_publish(&self.store, &self.bus, claim, receipt, event, now, async |events, record| {
            self.store.create_order(&order, events, record).await
        })
        .await
    }

    /// `GET /v1/orders/{id}`: the owner sees everything. A transporter sees the order with the
    /// truck requests of the lines offered to them or on which they won a truck (how the app, told
    /// of an offer by its push, finds a truck request to accept); who won the others is not theirs
    /// to know. Anyone else gets 404.
    pub async fn get(&self, caller: &Caller, id: &str) -> Result<OrderView, ServiceError> {
        let id = OrderId::parse(id).map_err(|_| not_found("order"))?;
        let view = self.store.get_order(id).await?.ok_or(not_found("order"))?;
        match caller.role {
            Role::Customer if view.order.customer_id == caller.user_id => Ok(view),
            Role::Customer => Err(not_found("order")),
            Role::Transporter => self.transporters_view(&caller.user_id, view).await,
        }
    }

    /// `POST /v1/orders/{id}/truck-requests/{trId}/accept`.
    pub async fn accept_truck_request(
        &self,
        transporter: &Transporter,
        order_id: &str,
        truck_request_id: &str,
    ) -> Result<TruckRequest, ServiceError> {
        let me = transporter.id();
        let order_id = OrderId::parse(order_id).map_err(|_| not_found("truck request"))?;
        let truck_request_id = TruckRequestId::parse(truck_request_id).map_err(|_| not_found("truck request"))?;
        let view = self.store.get_order(order_id).await?.ok_or(not_found("truck request"))?;
        let mut request = view
            .truck_requests
            .into_iter()
            .find(|r| r.truck_request_id == truck_request_id)
            .ok_or(not_found("truck request"))?;
        // Not offered looks like not there: a transporter learns nothing of other people's orders.
        if self.store.offer_state(OfferSubject::OrderLine(order_id, request.line), me).await?.is_none() {
            return Err(not_found("truck request"));
        }
        if request.status != TruckRequestStatus::Open {
            return Err(unavailable(request.status));
        }
        let now = Utc::now();
        request.status = TruckRequestStatus::Accepted;
        request.accepted_by = Some(me.clone());
        request.accepted_at = Some(now);
        let acceptance = Acceptance {
            customer_id: view.order.customer_id,
            transporter_id: me.clone(),
            vehicle_type: request.vehicle_type,
            accepted_at: now,
        };
        let event = DomainEvent::TruckRequestAccepted(TruckRequestAccepted { order_id, truck_request_id, acceptance });
        let events = [event.to_record(EventId::generate(), API_EVENT_SOURCE, now)];
        match self.store.transition_truck_request(&request, TruckRequestStatus::Open, &events).await {
            Ok(()) => {}
            Err(TransitionError::NotFound) => return Err(not_found("truck request")),
            Err(TransitionError::Conflict | TransitionError::TransporterUnavailable) => {
                return Err(unavailable(TruckRequestStatus::Accepted));
            }
            Err(TransitionError::Store(e)) => return Err(e.into()),
        }
        publish_committed(&self.store, &self.bus, &events).await;
        Ok(request)
    }

    /// What transporter `me` may see of an order: the lines offered to them or on which they won a
    /// truck, without who won the other trucks; 404 if none.
    async fn transporters_view(&self, me: &UserId, mut view: OrderView) -> Result<OrderView, ServiceError> {
        let id = view.order.order_id;
        let lines = 0..view.order.trucks.len() as u32;
        // Per line: offered to the caller, or the caller won one of its trucks.
        let mut visible: Vec<bool> = futures::future::try_join_all(lines.map(|line| async move {
            self.store.offer_state(OfferSubject::OrderLine(id, line), me).await.map(|offer| offer.is_some())
        }))
        .await?;
        for request in view.truck_requests.iter().filter(|r| r.accepted_by.as_ref() == Some(me)) {
            if let Some(line) = visible.get_mut(request.line as usize) {
                *line = true;
            }
        }
        if !visible.contains(&true) {
            return Err(not_found("order"));
        }
        view.truck_requests.retain(|r| visible.get(r.line as usize) == Some(&true));
        for request in view.truck_requests.iter_mut().filter(|r| r.accepted_by.as_ref() != Some(me)) {
            request.accepted_by = None;
            request.accepted_at = None;
        }
        Ok(view)
    }
}

fn unavailable(status: TruckRequestStatus) -> ServiceError {
    let state = match status {
        TruckRequestStatus::Open => "open",
        TruckRequestStatus::Accepted => "accepted",
        TruckRequestStatus::Cancelled => "cancelled",
    };
    ServiceError::Conflict {
        code: "truck_request_unavailable",
        message: format!("the truck request is already {state}"),
        current_status: Some(state),
    }
}
