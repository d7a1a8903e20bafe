//! [`OpenOffer`]: an offer as the transporter's inbox shows it (`GET /v1/offers`): what is
//! offered, where from and to, how far the truck is from the pickup now, and when it was offered.
//! Everything the offer's push carried is here, so a transporter whose push was lost misses nothing.

use crate::model::booking::Booking;
use crate::model::geo::{GeoPoint, Place};
use crate::model::ids::{BookingId, OrderId};
use crate::model::order::{OrderStatus, OrderView};
use crate::model::trip::TripStatus;
use crate::model::vehicle::VehicleType;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One offer the transporter can still accept.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OpenOffer {
    /// Set for a booking.
    pub booking_id: Option<BookingId>,
    /// Set, with `line`, for a line of an order.
    pub order_id: Option<OrderId>,
    pub line: Option<u32>,
    pub vehicle_type: VehicleType,
    pub pickup: Place,
    pub drop: Place,
    /// For an order line: how many trucks it asks for, and how many of them still search.
    pub trucks: Option<u32>,
    pub open_trucks: Option<u32>,
    pub scheduled_at: Option<DateTime<Utc>>,
    /// From the transporter's latest position to the pickup, in metres; none before their first.
    pub distance_m: Option<u32>,
    pub offered_at: DateTime<Utc>,
}

impl OpenOffer {
    /// The card of `booking` offered at `offered_at`, if that offer stands (it searches, and the
    /// offer was made since it was last released).
    pub fn of_booking(booking: &Booking, offered_at: DateTime<Utc>, from: Option<GeoPoint>) -> Option<Self> {
        booking.trip.offer_stands(offered_at).then(|| Self {
            booking_id: Some(booking.booking_id),
            order_id: None,
            line: None,
            vehicle_type: booking.vehicle_type,
            pickup: booking.pickup.clone(),
            drop: booking.drop.clone(),
            trucks: None,
            open_trucks: None,
            scheduled_at: booking.scheduled_at,
            distance_m: distance(from, &booking.pickup),
            offered_at,
        })
    }

    /// The card of line `line` of an order offered at `offered_at`, if one of its trucks still
    /// searches (a line's offer not taken back stands for each of them).
    pub fn of_line(view: &OrderView, line: u32, offered_at: DateTime<Utc>, from: Option<GeoPoint>) -> Option<Self> {
        let truck_line = view.order.trucks.get(line as usize)?;
        let open = view.truck_requests.iter().filter(|r| r.line == line && r.status() == TripStatus::Searching).count();
        (open > 0 && view.order.status != OrderStatus::Cancelled).then(|| Self {
            booking_id: None,
            order_id: Some(view.order.order_id),
            line: Some(line),
            vehicle_type: truck_line.vehicle_type,
            pickup: view.order.pickup.clone(),
            drop: view.order.drop.clone(),
            trucks: Some(truck_line.quantity),
            open_trucks: Some(open as u32),
            scheduled_at: None,
            distance_m: distance(from, &view.order.pickup),
            offered_at,
        })
    }

    /// What the offer is, as text that sorts ties the same way every time.
    pub fn subject_key(&self) -> String {
        match (self.booking_id, self.order_id, self.line) {
            (Some(booking), _, _) => format!("booking/{booking}"),
            (_, Some(order), Some(line)) => format!("order/{order}/line/{line}"),
            _ => String::new(),
        }
    }
}

fn distance(from: Option<GeoPoint>, to: &Place) -> Option<u32> {
    from.map(|from| from.distance_m(&to.point()).round() as u32)
}
