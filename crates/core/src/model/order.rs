//! An order: one customer asking for several trucks at once. The api stores the order; the
//! order-fanout consumer splits it into one truck request per truck and offers each line. Each
//! truck request then goes through the trip lifecycle of a booking ([`crate::model::trip`]); the
//! order's status follows from its truck requests ([`OrderView::assemble`]).

use crate::model::geo::Place;
use crate::model::ids::{OrderId, TruckRequestId, UserId};
use crate::model::trip::{OfferTimes, Trip, TripStatus};
use crate::model::vehicle::VehicleType;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OrderStatus {
    /// Accepted by the api; truck requests are being created and offered.
    Processing,
    /// Some truck request is still searching.
    Open,
    /// Nothing is searching any more and some truck is on its trip.
    Fulfilled,
    /// Every truck request is over, and at least one was delivered.
    Completed,
    /// Cancelled by the customer: its truck requests not yet picked up are cancelled.
    Cancelled,
    /// Every truck request expired: nobody took any.
    Expired,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 6] = [
        OrderStatus::Processing,
        OrderStatus::Open,
        OrderStatus::Fulfilled,
        OrderStatus::Completed,
        OrderStatus::Cancelled,
        OrderStatus::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Processing => "processing",
            OrderStatus::Open => "open",
            OrderStatus::Fulfilled => "fulfilled",
            OrderStatus::Completed => "completed",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::Expired => "expired",
        }
    }

    /// What the status of an order that is open (processed, not cancelled) is, given its truck
    /// requests' statuses.
    pub fn of_trucks(trucks: &[TripStatus]) -> OrderStatus {
        if trucks.is_empty() || trucks.iter().any(|s| matches!(s, TripStatus::Searching | TripStatus::Scheduled)) {
            OrderStatus::Open
        } else if trucks.iter().any(|s| s.is_assigned()) {
            OrderStatus::Fulfilled
        } else if trucks.contains(&TripStatus::Delivered) {
            OrderStatus::Completed
        } else if trucks.iter().all(|s| *s == TripStatus::Expired) {
            OrderStatus::Expired
        } else {
            OrderStatus::Completed
        }
    }

    /// Whether the customer may still cancel an order in this status.
    pub fn cancellable(self) -> bool {
        matches!(self, OrderStatus::Processing | OrderStatus::Open | OrderStatus::Fulfilled)
    }
}

impl std::fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

use OrderStatus as O;

/// How an order's status moves as its truck requests move (and when its customer cancels), with
/// why. `docs/lifecycle.md` draws it; a test checks that every change [`OrderStatus::of_trucks`]
/// makes when one truck takes a step is listed here, and every row happens.
pub const ORDER_TRANSITIONS: [(OrderStatus, OrderStatus, &str); 9] = [
    (O::Processing, O::Open, "order-fanout created and offered its trucks"),
    (O::Open, O::Fulfilled, "the last searching truck accepted, or expired while others travel"),
    (O::Open, O::Completed, "the last searching truck expired, another was delivered"),
    (O::Open, O::Expired, "the last searching truck expired, as did all the others"),
    (O::Fulfilled, O::Open, "a truck was released"),
    (O::Fulfilled, O::Completed, "the last truck on its trip was delivered"),
    (O::Processing, O::Cancelled, "the customer cancels"),
    (O::Open, O::Cancelled, "the customer cancels"),
    (O::Fulfilled, O::Cancelled, "the customer cancels"),
];

/// A truck request's status: the trip lifecycle of [`crate::model::trip`] (never `scheduled`).
pub type TruckRequestStatus = TripStatus;

/// One line of an order: so many trucks of one type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TruckLine {
    pub vehicle_type: VehicleType,
    pub quantity: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    pub order_id: OrderId,
    pub customer_id: UserId,
    pub status: OrderStatus,
    pub pickup: Place,
    pub drop: Place,
    pub trucks: Vec<TruckLine>,
    pub trucks_requested: u32,
    pub created_at: DateTime<Utc>,
}

/// One truck of an order, accepted independently of the others.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TruckRequest {
    pub truck_request_id: TruckRequestId,
    pub order_id: OrderId,
    /// The order line (index into [`Order::trucks`]) this truck belongs to: transporters are
    /// offered a line and may accept any of its truck requests.
    pub line: u32,
    pub vehicle_type: VehicleType,
    pub created_at: DateTime<Utc>,
    /// Its status, who holds it and its steps.
    #[serde(flatten)]
    pub trip: Trip,
}

impl TruckRequest {
    pub fn status(&self) -> TruckRequestStatus {
        self.trip.status
    }
}

impl Order {
    /// The truck requests this order expands into, with deterministic ids (see
    /// [`TruckRequestId::derive`]), searching from `created_at` on.
    pub fn truck_requests(&self, created_at: DateTime<Utc>, times: &OfferTimes) -> Vec<TruckRequest> {
        self.trucks
            .iter()
            .enumerate()
            .flat_map(|(line, truck)| {
                (0..truck.quantity).map(move |seq| TruckRequest {
                    truck_request_id: TruckRequestId::derive(self.order_id, line, seq),
                    order_id: self.order_id,
                    line: line as u32,
                    vehicle_type: truck.vehicle_type,
                    created_at,
                    trip: Trip::new(created_at, None, times),
                })
            })
            .collect()
    }
}

/// What an order's card in a list shows (`GET /v1/orders`); the order itself has its trucks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderSummary {
    pub order_id: OrderId,
    pub created_at: DateTime<Utc>,
    /// As [`OrderView::assemble`] derives it from the trucks.
    pub status: OrderStatus,
    pub pickup: Place,
    pub drop: Place,
    pub trucks: Vec<TruckLine>,
    pub trucks_requested: u32,
}

impl OrderSummary {
    /// The attributes a summary is read from: what the store's list index projects.
    pub const FIELDS: [&'static str; 7] =
        ["orderId", "status", "pickup", "drop", "trucks", "trucksRequested", "createdAt"];
}

impl From<&OrderView> for OrderSummary {
    fn from(view: &OrderView) -> Self {
        let order = &view.order;
        Self {
            order_id: order.order_id,
            status: order.status,
            pickup: order.pickup.clone(),
            drop: order.drop.clone(),
            trucks: order.trucks.clone(),
            trucks_requested: order.trucks_requested,
            created_at: order.created_at,
        }
    }
}

/// `GET /v1/orders/{id}`: the order and its truck requests (empty while still processing).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderView {
    #[serde(flatten)]
    pub order: Order,
    pub truck_requests: Vec<TruckRequest>,
}

impl OrderView {
    /// The order as stored with its truck requests; an open order's status then follows from them
    /// (only `processing`, `open` and `cancelled` are ever stored).
    pub fn assemble(mut order: Order, truck_requests: Vec<TruckRequest>) -> OrderView {
        if order.status == OrderStatus::Open {
            let statuses: Vec<TripStatus> = truck_requests.iter().map(TruckRequest::status).collect();
            order.status = OrderStatus::of_trucks(&statuses);
        }
        OrderView { order, truck_requests }
    }
}

/// The answer to `POST /v1/orders`; replayed as-is for a repeated idempotency key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderReceipt {
    pub order_id: OrderId,
    pub status: OrderStatus,
    pub trucks_requested: u32,
}

/// The Mermaid state diagram of [`ORDER_TRANSITIONS`] (`docs/lifecycle.md` holds it).
pub fn order_mermaid() -> String {
    let mut out = String::from("stateDiagram-v2\n    [*] --> processing\n");
    for (from, to, why) in ORDER_TRANSITIONS {
        out.push_str(&format!("    {} --> {}: {why}\n", from.as_str(), to.as_str()));
    }
    for last in [O::Completed, O::Cancelled, O::Expired] {
        out.push_str(&format!("    {} --> [*]\n", last.as_str()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::trip::{TRANSITIONS, TripStep};
    use std::collections::BTreeSet;

    /// Every order status change one truck's step can cause, over every combination of three
    /// trucks' statuses (a truck is cancelled only with its order, so `cancel` is left out).
    fn changes() -> BTreeSet<(OrderStatus, OrderStatus)> {
        let statuses: Vec<TripStatus> = TripStatus::ALL
            .into_iter()
            .filter(|s| !matches!(s, TripStatus::Scheduled | TripStatus::Cancelled))
            .collect();
        let mut seen = BTreeSet::new();
        for a in &statuses {
            for b in &statuses {
                for c in &statuses {
                    let trucks = [*a, *b, *c];
                    for row in TRANSITIONS.iter().filter(|t| !matches!(t.step, TripStep::Cancel | TripStep::Open)) {
                        if let Some(to) = row.step.apply(trucks[0]) {
                            let (before, after) =
                                (OrderStatus::of_trucks(&trucks), OrderStatus::of_trucks(&[to, *b, *c]));
                            if before != after {
                                seen.insert((before, after));
                            }
                        }
                    }
                }
            }
        }
        seen
    }

    #[test]
    fn every_change_a_truck_makes_to_its_order_is_listed_and_every_listed_one_happens() {
        let listed: BTreeSet<(OrderStatus, OrderStatus)> = ORDER_TRANSITIONS
            .iter()
            .filter(|(from, to, _)| *from != O::Processing && *to != O::Cancelled)
            .map(|(from, to, _)| (*from, *to))
            .collect();
        assert_eq!(changes(), listed);
    }

    #[test]
    fn the_docs_diagram_is_the_order_transition_table() {
        let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/lifecycle.md")).unwrap();
        let diagram = format!("```mermaid\n{}```", order_mermaid());
        assert!(doc.contains(&diagram), "docs/lifecycle.md's order diagram differs; it should read:\n{diagram}");
    }
}
