//! [`Orders`]: a customer orders several trucks at once and can cancel the order; order-fanout
//! splits it into truck requests and offers each line; a transporter offered a line accepts one
//! of its truck requests and takes it through its trip (`trip.rs`).

mod trip;

use super::{API_EVENT_SOURCE, Aggregate, Create, Created, create_and_publish, not_found, publish_committed};
use crate::contract::events::{DomainEvent, OrderCancelled};
use crate::contract::requests::NewOrder;
use crate::error::ServiceError;
use crate::model::caller::{Caller, Customer, Role};
use crate::model::ids::{EventId, OrderId, UserId};
use crate::model::order::{Order, OrderReceipt, OrderStatus, OrderView, TruckRequestStatus};
use crate::ports::{
    Creation, EventBus, IdempotencyStore, OfferStore, OfferSubject, OrderStore, Outbox, TransitionError,
    TransporterStore,
};
use crate::usecases::api::refusals::LOOKS;
use chrono::Utc;

/// Marks [`Aggregate`] as the order use cases.
pub enum OfOrders {}

/// The order use cases over a store and an event bus.
pub type Orders<S, B> = Aggregate<OfOrders, S, B>;

impl<S: OrderStore + OfferStore + IdempotencyStore + TransporterStore + Outbox, B: EventBus> Orders<S, B> {
    /// `POST /v1/orders`.
    pub async fn create(&self, create: Create<'_, NewOrder>) -> Result<Created<OrderReceipt>, ServiceError> {
        let (claim, now, request) = (create.claim("create-order")?, Utc::now(), create.command);
        let trucks_requested = request.trucks_requested();
        let order = Order {
            order_id: OrderId::generate(),
            customer_id: create.customer.id().clone(),
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
            self.store.create_order(Creation { new: &order, events, idempotency: record }).await
        })
        .await
    }

    /// `GET /v1/orders/{id}`: the owner sees everything. A transporter sees the order with the
    /// truck requests of the lines offered to them or on which they hold a truck (how the app,
    /// told of an offer by its push, finds a truck request to accept); who holds the others is not
    /// theirs to know. Anyone else gets 404.
    pub async fn get(&self, caller: &Caller, id: &str) -> Result<OrderView, ServiceError> {
        let id = OrderId::parse(id).map_err(|_| not_found("order"))?;
        let view = self.store.get_order(id).await?.ok_or(not_found("order"))?;
        match caller.role {
            Role::Customer if view.order.customer_id == caller.user_id => Ok(view),
            Role::Customer => Err(not_found("order")),
            Role::Transporter => self.transporters_view(&caller.user_id, view).await,
        }
    }

    /// `POST /v1/orders/{id}/cancel`: the owner cancels an order that is not over. Its trucks not
    /// yet picked up are cancelled by order-fanout, which also takes the offers back and tells the
    /// transporters already assigned; the answer shows the order cancelled and its trucks as they
    /// are now. Cancelling a cancelled order answers it unchanged.
    pub async fn cancel(&self, customer: &Customer, id: &str) -> Result<OrderView, ServiceError> {
        let id = OrderId::parse(id).map_err(|_| not_found("order"))?;
        for _ in 0..LOOKS {
            let view = self.store.get_order(id).await?;
            let mut view = view.filter(|v| &v.order.customer_id == customer.id()).ok_or(not_found("order"))?;
            if view.order.status == OrderStatus::Cancelled {
                return Ok(view);
            }
            let movable = view.truck_requests.iter().any(|r| {
                matches!(
                    r.status(),
                    TruckRequestStatus::Searching | TruckRequestStatus::Accepted | TruckRequestStatus::Arrived
                )
            });
            if !view.order.status.cancellable() || (!view.truck_requests.is_empty() && !movable) {
                return Err(order_unavailable(view.order.status));
            }
            let now = Utc::now();
            let cancelled = OrderCancelled { order_id: id, customer_id: customer.id().clone(), cancelled_at: now };
            let events = [DomainEvent::OrderCancelled(cancelled).to_record(EventId::generate(), API_EVENT_SOURCE, now)];
            match self.store.cancel_order(id, &events).await {
                Ok(()) => {
                    publish_committed(&self.store, &self.bus, &events).await;
                    view.order.status = OrderStatus::Cancelled;
                    return Ok(view);
                }
                // Expanded or cancelled in between: look again.
                Err(TransitionError::Conflict | TransitionError::NotFound) => continue,
                Err(TransitionError::Store(error)) => return Err(error.into()),
                Err(TransitionError::TransporterUnavailable) => {
                    return Err(ServiceError::internal(anyhow::anyhow!("an order cancel assigned a transporter")));
                }
            }
        }
        Err(ServiceError::Conflict {
            code: "order_changed",
            message: "the order changed meanwhile; read it and try again".into(),
            current_status: None,
        })
    }

    /// What transporter `me` may see of an order: the lines offered to them or on which they hold
    /// a truck, without who holds the other trucks; 404 if none.
    async fn transporters_view(&self, me: &UserId, mut view: OrderView) -> Result<OrderView, ServiceError> {
        let id = view.order.order_id;
        let lines = 0..view.order.trucks.len() as u32;
        // Per line: offered to the caller (even if taken back since), or the caller holds one of its trucks.
        let mut visible: Vec<bool> = futures::future::try_join_all(lines.map(|line| async move {
            self.store.offer_state(OfferSubject::OrderLine(id, line), me).await.map(|offer| offer.is_some())
        }))
        .await?;
        for request in view.truck_requests.iter().filter(|r| r.trip.accepted_by.as_ref() == Some(me)) {
            if let Some(line) = visible.get_mut(request.line as usize) {
                *line = true;
            }
        }
        if !visible.contains(&true) {
            return Err(not_found("order"));
        }
        view.truck_requests.retain(|r| visible.get(r.line as usize) == Some(&true));
        for request in view.truck_requests.iter_mut().filter(|r| r.trip.accepted_by.as_ref() != Some(me)) {
            request.trip.hide_assignee();
        }
        Ok(view)
    }
}

fn order_unavailable(status: OrderStatus) -> ServiceError {
    ServiceError::Conflict {
        code: "order_unavailable",
        message: format!("the order is {}; nothing of it can be cancelled", status.as_str()),
        current_status: Some(status.as_str()),
    }
}
