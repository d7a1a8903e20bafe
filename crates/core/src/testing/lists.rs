//! The in-memory lists the adapter reads from indexes: a transporter's trips (every booking and
//! truck request they hold or held to the end, latest accepted first) and a customer's orders.

use super::store::{MemoryStore, Tables};
use crate::model::ids::UserId;
use crate::model::order::{OrderStatus, OrderSummary, OrderView};
use crate::model::trip::TripSummary;
use crate::ports::*;
use async_trait::async_trait;

#[async_trait]
impl TripStore for MemoryStore {
    async fn transporter_trips(
        &self, transporter: &UserId, limit: usize, after: Option<&PagePosition>,
    ) -> Result<Page<TripSummary>, StoreError> {
        let tables = self.lock();
        let bookings = tables
            .bookings
            .values()
            .filter(|b| b.trip.accepted_by.as_ref() == Some(transporter))
            .filter_map(TripSummary::of_booking)
            .map(|summary| (position(&summary), summary));
        let trucks = tables.truck_requests.values().filter(|r| r.trip.accepted_by.as_ref() == Some(transporter));
        let trucks = trucks.filter_map(|r| {
            let summary = TripSummary::of_truck(r, tables.orders.get(&r.order_id)?)?;
            Some((position(&summary), summary))
        });
        // Positions sort as the trips do: latest accepted first.
        let mut trips: Vec<(String, TripSummary)> =
            bookings.chain(trucks).filter(|(at, _)| after.is_none_or(|after| at.as_str() < after.as_str())).collect();
        trips.sort_by(|a, b| b.0.cmp(&a.0));
        trips.truncate(limit + 1);
        let next = (trips.len() > limit).then(|| {
            trips.truncate(limit);
            PagePosition::new(trips[limit - 1].0.clone())
        });
        Ok(Page { items: trips.into_iter().map(|(_, trip)| trip).collect(), next })
    }
}

/// `<accepted at, ms, 13 digits>#<booking or truck request id>`.
fn position(trip: &TripSummary) -> String {
    let id = trip.booking_id.map(|id| id.to_string()).or(trip.truck_request_id.map(|id| id.to_string()));
    format!("{:013}#{}", trip.accepted_at.timestamp_millis(), id.unwrap_or_default())
}

/// `customer`'s orders newest first (order ids are time-ordered), their status derived from their
/// trucks, after `after` (an order id), as `OrderStore::customer_orders` reads them.
pub(super) fn customer_orders(
    tables: &Tables, customer: &UserId, statuses: &[OrderStatus], limit: usize, after: Option<&PagePosition>,
) -> Page<OrderSummary> {
    let mut orders: Vec<OrderSummary> = tables
        .orders
        .values()
        .filter(|order| &order.customer_id == customer)
        .filter(|order| after.is_none_or(|after| order.order_id.to_string().as_str() < after.as_str()))
        .map(|order| {
            let trucks = tables.truck_requests.values().filter(|r| r.order_id == order.order_id).cloned().collect();
            OrderSummary::from(&OrderView::assemble(order.clone(), trucks))
        })
        .filter(|summary| statuses.is_empty() || statuses.contains(&summary.status))
        .collect();
    orders.sort_by_key(|order| std::cmp::Reverse(order.order_id.to_string()));
    let next = (orders.len() > limit).then(|| PagePosition::new(orders[limit - 1].order_id.to_string()));
    orders.truncate(limit);
    Page { items: orders, next }
}
