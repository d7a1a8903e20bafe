//! What the customer is told about their trip: one push per step (accepted, arrived, picked up,
//! delivered, released, expired; the customer's own cancel tells them nothing), each with an id
//! derived from the step's event, so a redelivered event pushes nothing twice.

use crate::contract::events::{BookingChanged, FcmNotification, TruckRequestAccepted};
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

pub(super) fn truck_accepted(accepted: &TruckRequestAccepted) -> FcmNotification {
    let acceptance = &accepted.acceptance;
    let vehicle = acceptance.vehicle_type.as_str();
    let body = format!("A transporter accepted one {vehicle} truck of your order");
    let data = vec![
        ("orderId", accepted.order_id.to_string()),
        ("truckRequestId", accepted.truck_request_id.to_string()),
        ("transporterId", acceptance.transporter_id.to_string()),
    ];
    told(&acceptance.customer_id, "order.truck-accepted", "A truck of your order is booked", body, data)
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
