//! An order: one customer asking for several trucks at once. The api stores the order; the
//! order-fanout consumer splits it into one truck request per truck and offers each line.

use crate::model::geo::Place;
use crate::model::ids::{OrderId, TruckRequestId, UserId};
use crate::model::vehicle::VehicleType;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OrderStatus {
    /// Accepted by the api; truck requests are being created and offered.
    Processing,
    /// Every truck request exists and is offered.
    Open,
    /// Every truck request has been accepted.
    Fulfilled,
    Cancelled,
}

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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TruckRequestStatus {
    Open,
    Accepted,
    Cancelled,
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
    pub status: TruckRequestStatus,
    pub created_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted_by: Option<UserId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted_at: Option<DateTime<Utc>>,
}

impl Order {
    /// The truck requests this order expands into, with deterministic ids (see [`TruckRequestId::derive`]).
    pub fn truck_requests(&self, created_at: DateTime<Utc>) -> Vec<TruckRequest> {
        self.trucks
            .iter()
            .enumerate()
            .flat_map(|(line, truck)| {
                (0..truck.quantity).map(move |seq| TruckRequest {
                    truck_request_id: TruckRequestId::derive(self.order_id, line, seq),
                    order_id: self.order_id,
                    line: line as u32,
                    vehicle_type: truck.vehicle_type,
                    status: TruckRequestStatus::Open,
                    created_at,
                    accepted_by: None,
                    accepted_at: None,
                })
            })
            .collect()
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

/// The answer to `POST /v1/orders`; replayed as-is for a repeated idempotency key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderReceipt {
    pub order_id: OrderId,
    pub status: OrderStatus,
    pub trucks_requested: u32,
}
