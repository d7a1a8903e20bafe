//! [`OpenOffer`]: an offer as the transporter's inbox shows it (`GET /v1/offers`): what is
//! offered, where from and to, how far the truck is from the pickup now, and when it was offered.
//! Everything the offer's push carried is here, so a transporter whose push was lost misses nothing.

use crate::model::booking::Booking;
use crate::model::geo::{GeoPoint, Place};
use crate::model::haul::Haul;
use crate::model::ids::{BookingId, OrderId};
use crate::model::order::{OrderStatus, OrderView};
use crate::model::trip::TripStatus;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One offer the transporter can still accept.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OpenOffer {
    #[serde(flatten)]
    pub offered: Offered,
    #[serde(flatten)]
    pub haul: Haul,
    /// From the transporter's latest position to the pickup, in metres; none before their first.
    pub distance_m: Option<u32>,
    pub offered_at: DateTime<Utc>,
}

/// What is offered: a booking, or a line of an order (`bookingId`, or `orderId` and `line`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged, rename_all_fields = "camelCase")]
pub enum Offered {
    Booking {
        booking_id: BookingId,
    },
    /// With how many trucks the line asks for, and how many of them still search.
    OrderLine {
        order_id: OrderId,
        line: u32,
        trucks: u32,
        open_trucks: u32,
    },
}

impl OpenOffer {
    /// The card of `booking` offered at `offered_at`, if that offer stands (it searches, and the
    /// offer was made since it was last released).
    pub fn of_booking(booking: &Booking, offered_at: DateTime<Utc>, from: Option<GeoPoint>) -> Option<Self> {
        booking.trip.offer_stands(offered_at).then(|| Self {
            offered: Offered::Booking { booking_id: booking.booking_id },
            haul: Haul::of_booking(booking),
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
            offered: Offered::OrderLine {
                order_id: view.order.order_id,
                line,
                trucks: truck_line.quantity,
                open_trucks: open as u32,
            },
            haul: Haul::of_order(&view.order, truck_line.vehicle_type),
            distance_m: distance(from, &view.order.pickup),
            offered_at,
        })
    }

    /// What the offer is, as text that sorts ties the same way every time.
    pub fn subject_key(&self) -> String {
        match self.offered {
            Offered::Booking { booking_id } => format!("booking/{booking_id}"),
            Offered::OrderLine { order_id, line, .. } => format!("order/{order_id}/line/{line}"),
        }
    }
}

fn distance(from: Option<GeoPoint>, to: &Place) -> Option<u32> {
    from.map(|from| from.distance_m(&to.point()).round() as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::vehicle::VehicleType;

    fn card(offered: Offered) -> OpenOffer {
        let place = |lat| Place { lat, lng: 72.8, address: None };
        let haul =
            Haul { vehicle_type: VehicleType::Tipper, pickup: place(19.0), drop: place(18.5), scheduled_at: None };
        OpenOffer { offered, haul, distance_m: Some(500), offered_at: Utc::now() }
    }

    #[test]
    fn a_card_names_a_booking_or_an_order_line_with_its_trucks_and_reads_back_the_same() {
        // GIVEN the card of a booking and the card of an order's line
        let booking = card(Offered::Booking { booking_id: BookingId::generate() });
        let line = card(Offered::OrderLine { order_id: OrderId::generate(), line: 1, trucks: 3, open_trucks: 2 });
        for (card, fields) in [(booking, vec!["bookingId"]), (line, vec!["line", "openTrucks", "orderId", "trucks"])] {
            // WHEN it is written as JSON
            let json = serde_json::to_value(&card).unwrap();
            // THEN it names what is offered with these fields only, beside the haul, and reads back
            let named: Vec<&str> = ["bookingId", "line", "openTrucks", "orderId", "trucks"]
                .into_iter()
                .filter(|name| json.get(name).is_some())
                .collect();
            assert_eq!(named, fields, "{json}");
            assert_eq!((json["vehicleType"].as_str(), json["distanceM"].as_u64()), (Some("tipper"), Some(500)));
            assert_eq!(serde_json::from_value::<OpenOffer>(json).unwrap(), card);
        }
    }
}
