//! [`Haul`]: what every card of a trip shows of it (`GET /v1/bookings`, `/v1/offers`,
//! `/v1/trips`): the truck it needs, where it starts and ends, and when.

use crate::model::booking::Booking;
use crate::model::geo::Place;
use crate::model::order::Order;
use crate::model::vehicle::VehicleType;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Flattened into each card, so its four fields stand beside the card's own.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Haul {
    pub vehicle_type: VehicleType,
    pub pickup: Place,
    pub drop: Place,
    /// When the truck is wanted; none: now (an order's trucks always are).
    pub scheduled_at: Option<DateTime<Utc>>,
}

impl Haul {
    pub fn of_booking(booking: &Booking) -> Self {
        Self {
            vehicle_type: booking.vehicle_type,
            pickup: booking.pickup.clone(),
            drop: booking.drop.clone(),
            scheduled_at: booking.scheduled_at,
        }
    }

    /// One truck of `order`, of `vehicle_type`.
    pub fn of_order(order: &Order, vehicle_type: VehicleType) -> Self {
        Self { vehicle_type, pickup: order.pickup.clone(), drop: order.drop.clone(), scheduled_at: None }
    }
}
