//! A transporter's trips through the real api against the local stack: the bookings and order
//! trucks they won, read from the two `by-transporter` indexes and merged, the one they hold first.

use crate::support::*;
use chrono::Utc;
use serde_json::{Value, json};
use weelo_core::model::ids::{BookingId, TruckRequestId};
use weelo_core::ports::{OfferStore, OfferSubject};

async fn on_duty(app: &ApiClient, driver: &User) {
    let profile = json!({ "vehicleTypes": ["tipper"], "available": true });
    assert_eq!(app.call("PUT", "/v1/transporters/me", Some(driver), Some(profile)).await.status, 200);
}

/// A booking of `owner`'s that `driver` accepts and takes through `steps`; its id.
async fn driven_booking(app: &ApiClient, owner: &User, driver: &User, steps: &[&str]) -> String {
    let created = app.call("POST", "/v1/bookings", Some(owner), Some(booking_body())).await;
    let booking = BookingId::parse(created.body["bookingId"].as_str().unwrap()).unwrap();
    app.app().store.put_offers(OfferSubject::Booking(booking), &[driver.user_id()], Utc::now()).await.unwrap();
    for step in ["accept"].iter().chain(steps) {
        let answer = app.call("POST", &format!("/v1/bookings/{booking}/{step}"), Some(driver), None).await;
        assert_eq!(answer.status, 200, "{step}: {}", answer.body);
    }
    booking.to_string()
}

/// A one-truck order of `owner`'s (picked up elsewhere than bookings) whose truck `driver` accepts.
async fn accepted_truck(app: &ApiClient, owner: &User, driver: &User) -> (String, String) {
    let mut body = order_body();
    body["trucks"] = json!([{ "vehicleType": "tipper", "quantity": 1 }]);
    body["pickup"] = json!({ "lat": 19.2, "lng": 72.95 });
    let order = order_offered_to(app, owner, body, driver).await;
    let truck = TruckRequestId::derive(order, 0, 0);
    let answer =
        app.call("POST", &format!("/v1/orders/{order}/truck-requests/{truck}/accept"), Some(driver), None).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    (order.to_string(), truck.to_string())
}

/// Every page of `who`'s trips, `limit` a page.
async fn all_trips(app: &ApiClient, who: &User, limit: usize) -> Vec<Value> {
    let (mut trips, mut query) = (Vec::new(), format!("limit={limit}"));
    loop {
        let page = app.call("GET", &format!("/v1/trips?{query}"), Some(who), None).await;
        assert_eq!(page.status, 200, "{query}: {}", page.body);
        let items = page.body["items"].as_array().unwrap();
        assert!(items.len() <= limit);
        trips.extend(items.iter().cloned());
        match page.body["nextCursor"].as_str() {
            Some(next) => {
                let cursor: String = form_urlencoded::byte_serialize(next.as_bytes()).collect();
                query = format!("limit={limit}&cursor={cursor}");
            }
            None => return trips,
        }
    }
}

#[tokio::test]
async fn a_transporters_trips_list_the_truck_they_hold_first_then_their_delivered_and_not_the_released() {
    // GIVEN a driver who delivered one booking, released another, and now holds an order's truck
    let app = spawn_app().await;
    let (owner, driver, other) = (User::customer(), User::transporter(), User::transporter());
    on_duty(&app, &driver).await;
    let delivered = driven_booking(&app, &owner, &driver, &["arrive", "pickup", "deliver"]).await;
    let released = driven_booking(&app, &owner, &driver, &["release"]).await;
    let answer = app.call("POST", &format!("/v1/bookings/{released}/cancel"), Some(&owner), None).await;
    assert_eq!(answer.status, 200, "the released booking is cancelled, so nothing searches: {}", answer.body);
    let (order, truck) = accepted_truck(&app, &owner, &driver).await;

    // WHEN the driver reads their trips one a page, and all at once
    let one_by_one = all_trips(&app, &driver, 1).await;
    let at_once = all_trips(&app, &driver, 20).await;

    // THEN the truck they hold comes first, with its order's places, then the delivered booking
    assert_eq!(one_by_one, at_once);
    assert_eq!(at_once.len(), 2, "{at_once:?}");
    let (held, done) = (&at_once[0], &at_once[1]);
    assert_eq!(
        (held["orderId"].as_str(), held["truckRequestId"].as_str()),
        (Some(order.as_str()), Some(truck.as_str()))
    );
    assert_eq!((held["status"].as_str(), held["pickup"]["lat"].as_f64()), (Some("accepted"), Some(19.2)));
    assert_eq!((done["bookingId"].as_str(), done["status"].as_str()), (Some(delivered.as_str()), Some("delivered")));
    assert!(done["deliveredAt"].is_string() && done["pickup"]["address"].is_string());
    // AND another transporter has no trips, and a customer may not list trips
    assert!(all_trips(&app, &other, 20).await.is_empty());
    assert_eq!(app.call("GET", "/v1/trips", Some(&owner), None).await.status, 403);
    // AND the list has no status filter, and its cursor is the driver's alone
    let filtered = app.call("GET", "/v1/trips?status=accepted", Some(&driver), None).await;
    assert_eq!((filtered.status, filtered.body["error"]["details"][0]["field"].as_str()), (400, Some("status")));
    let first = app.call("GET", "/v1/trips?limit=1", Some(&driver), None).await;
    let cursor: String =
        form_urlencoded::byte_serialize(first.body["nextCursor"].as_str().unwrap().as_bytes()).collect();
    let borrowed = app.call("GET", &format!("/v1/trips?cursor={cursor}"), Some(&other), None).await;
    assert_eq!((borrowed.status, borrowed.body["error"]["details"][0]["field"].as_str()), (400, Some("cursor")));
}
