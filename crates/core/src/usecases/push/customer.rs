//! What the customer is told about their trips, a booking's or each truck's of an order: one push
//! per step (accepted, arrived, picked up, delivered, released, expired; the customer's own cancel
//! tells them nothing), each with an id derived from the step's event, so a redelivered event
//! pushes nothing twice.

use crate::contract::events::{BookingChanged, FcmNotification, TruckRequestChanged};
use crate::model::ids::{EventId, UserId};
use crate::model::trip::TripStep;
use std::collections::BTreeMap;

/// The customer's notification for an event gets an id of its own, derived from the event.
pub(super) fn derived(cause: EventId) -> EventId {
    EventId::derive(&format!("{cause}/customer"))
}

/// The customer's push for a booking step, if the step is one they hear about.
pub(super) fn booking_changed(changed: &BookingChanged) -> Option<FcmNotification> {
    let booking = &changed.booking;
    let vehicle = booking.vehicle_type.as_str();
    let (title, body) = match changed.step {
        TripStep::Accept => ("Your truck is booked", format!("A transporter accepted your {vehicle} booking")),
        TripStep::Arrive => ("Your truck has arrived", "The truck is at the pickup".to_owned()),
        TripStep::PickUp => ("Your goods are on the way", "The truck is loaded and on its way".to_owned()),
        TripStep::Deliver => ("Delivered", "Your goods were delivered".to_owned()),
        TripStep::Release => {
            ("Finding you another truck", "Your transporter had to back out; we are offering it again".to_owned())
        }
        TripStep::Expire => ("No truck found", format!("Nobody accepted your {vehicle} booking; please book again")),
        TripStep::Open | TripStep::Widen | TripStep::Cancel => return None,
    };
    let mut data = vec![("bookingId", booking.booking_id.to_string()), ("status", booking.trip.status.to_string())];
    data.extend(changed.transporter_id.as_ref().map(|t| ("transporterId", t.to_string())));
    Some(told(&booking.customer_id, &format!("booking.{}", changed.step.name()), title, body, data))
}

/// The customer's push for a step of one truck of their order, and its id: per truck and step,
/// except that the trucks of one line that expire are told once per line.
pub(super) fn truck_changed(cause: EventId, changed: &TruckRequestChanged) -> Option<(EventId, FcmNotification)> {
    let request = &changed.request;
    let vehicle = request.vehicle_type.as_str();
    let line = (request.line + 1).to_string();
    let (title, body) = match changed.step {
        TripStep::Accept => ("A truck of your order is booked", format!("A transporter accepted a {vehicle} truck")),
        TripStep::Arrive => ("A truck of your order has arrived", format!("A {vehicle} truck is at the pickup")),
        TripStep::PickUp => ("A truck of your order is on the way", format!("A {vehicle} truck is loaded")),
        TripStep::Deliver => ("A truck of your order delivered", format!("A {vehicle} truck delivered its load")),
        TripStep::Release => ("Finding you another truck", format!("A {vehicle} truck's transporter backed out")),
        TripStep::Expire => {
            let body = format!("Nobody took the {vehicle} trucks of line {line} of your order");
            let data =
                vec![("orderId", request.order_id.to_string()), ("line", line), ("vehicleType", vehicle.to_owned())];
            let id = EventId::derive(&format!("{}/line/{}/expired/customer", request.order_id, request.line));
            return Some((id, told(&changed.customer_id, "order.line-expired", "No truck found", body, data)));
        }
        TripStep::Open | TripStep::Widen | TripStep::Cancel => return None,
    };
    let mut data = vec![
        ("orderId", request.order_id.to_string()),
        ("truckRequestId", request.truck_request_id.to_string()),
        ("line", line),
        ("status", request.trip.status.to_string()),
    ];
    data.extend(changed.transporter_id.as_ref().map(|t| ("transporterId", t.to_string())));
    let kind = format!("order.truck-{}", changed.step.name());
    Some((derived(cause), told(&changed.customer_id, &kind, title, body, data)))
}

/// A visible push to `customer` of `kind`, with `kind` and `data` as its FCM data.
fn told(customer: &UserId, kind: &str, title: &str, body: String, data: Vec<(&str, String)>) -> FcmNotification {
    let mut fcm_data = BTreeMap::from([("kind".to_owned(), kind.to_owned())]);
    fcm_data.extend(data.into_iter().map(|(key, value)| (key.to_owned(), value)));
    FcmNotification {
        recipient_id: customer.clone(),
        kind: kind.to_owned(),
        title: title.to_owned(),
        body,
        data: fcm_data,
        data_only: false,
    }
}
