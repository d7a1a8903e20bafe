//! [`TripSummary`]: a trip as a transporter's list of their trips shows it (`GET /v1/trips`): a
//! booking or one truck of an order that they won and did not release.

use super::{Milestones, TripStatus};
use crate::model::booking::Booking;
use crate::model::haul::Haul;
use crate::model::ids::{BookingId, OrderId, TruckRequestId};
use crate::model::order::{Order, TruckRequest};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A trip's card: what it is (a booking, or a truck request of an order), where from and to,
/// where it stands and when each step happened.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TripSummary {
    /// Set for a booking.
    pub booking_id: Option<BookingId>,
    /// Set, with `truckRequestId`, for one truck of an order.
    pub order_id: Option<OrderId>,
    pub truck_request_id: Option<TruckRequestId>,
    pub status: TripStatus,
    #[serde(flatten)]
    pub haul: Haul,
    pub accepted_at: DateTime<Utc>,
    #[serde(flatten)]
    pub milestones: Milestones,
}

impl TripSummary {
    /// The attributes a booking's card is read from (what the store's index of a transporter's
    /// bookings projects).
    pub const BOOKING_FIELDS: [&'static str; 11] = [
        "bookingId",
        "status",
        "vehicleType",
        "pickup",
        "drop",
        "scheduledAt",
        "acceptedAt",
        "arrivedAt",
        "pickedUpAt",
        "deliveredAt",
        "cancelledAt",
    ];
    /// The attributes a truck request's card is read from; its places are its order's.
    pub const TRUCK_FIELDS: [&'static str; 9] = [
        "orderId",
        "truckRequestId",
        "status",
        "vehicleType",
        "acceptedAt",
        "arrivedAt",
        "pickedUpAt",
        "deliveredAt",
        "cancelledAt",
    ];

    /// The card of a booking someone holds (or held to the end); `None` if nobody does.
    pub fn of_booking(booking: &Booking) -> Option<Self> {
        let trip = &booking.trip;
        trip.accepted_by.as_ref()?;
        Some(Self {
            booking_id: Some(booking.booking_id),
            order_id: None,
            truck_request_id: None,
            status: trip.status,
            haul: Haul::of_booking(booking),
            accepted_at: trip.accepted_at?,
            milestones: trip.milestones,
        })
    }

    /// The card of one truck of `order` someone holds (or held to the end); `None` if nobody does.
    pub fn of_truck(request: &TruckRequest, order: &Order) -> Option<Self> {
        let trip = &request.trip;
        trip.accepted_by.as_ref()?;
        Some(Self {
            booking_id: None,
            order_id: Some(request.order_id),
            truck_request_id: Some(request.truck_request_id),
            status: trip.status,
            haul: Haul::of_order(order, request.vehicle_type),
            accepted_at: trip.accepted_at?,
            milestones: trip.milestones,
        })
    }
}
