//! The offer inbox through the real api against the local stack: a transporter's live offers read
//! from the offers table's `live-by-transporter` index, each with its booking's or order's card;
//! one drops out as soon as it is taken or cancelled, and once it is withdrawn.

use crate::support::*;
use chrono::Utc;
use serde_json::{Value, json};
use weelo_core::contract::events::LocationUpdated;
use weelo_core::model::ids::{BookingId, EventId};
use weelo_core::model::location::LocationPoint;
use weelo_core::ports::{LocationHistoryStore, OfferStore, OfferSubject};

/// A booking picked up at `at`, offered to `to`; its id.
async fn offered_booking(app: &ApiClient, owner: &User, at: (f64, f64), to: &[&User]) -> BookingId {
    let mut body = booking_body();
    body["pickup"] = json!({ "lat": at.0, "lng": at.1 });
    let created = app.call("POST", "/v1/bookings", Some(owner), Some(body)).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let booking = BookingId::parse(created.body["bookingId"].as_str().unwrap()).unwrap();
    let to: Vec<_> = to.iter().map(|t| t.user_id()).collect();
    app.app().store.put_offers(OfferSubject::Booking(booking), &to, Utc::now()).await.unwrap();
    booking
}

async fn inbox(app: &ApiClient, who: &User, query: &str) -> Vec<Value> {
    let page = app.call("GET", &format!("/v1/offers?{query}"), Some(who), None).await;
    assert_eq!(page.status, 200, "{query}: {}", page.body);
    page.body["items"].as_array().unwrap().clone()
}

fn ids(offers: &[Value]) -> Vec<String> {
    offers.iter().map(|o| o["bookingId"].as_str().or(o["orderId"].as_str()).unwrap().to_owned()).collect()
}

#[tokio::test]
async fn a_transporters_inbox_lists_their_live_offers_and_drops_one_taken_cancelled_or_withdrawn() {
    // GIVEN a driver at a known place, offered three bookings (1, 5 and 3 km away, in that order)
    // and a line of a two-truck order; another driver offered the first booking too
    let app = spawn_app().await;
    let (owner, driver, rival) = (User::customer(), User::transporter(), User::transporter());
    for who in [&driver, &rival] {
        let profile = json!({ "vehicleTypes": ["tipper"], "available": true });
        assert_eq!(app.call("PUT", "/v1/transporters/me", Some(who), Some(profile)).await.status, 200);
    }
    let here = (19.05, 72.85);
    let point = LocationPoint {
        lat: here.0,
        lng: here.1,
        recorded_at: Utc::now(),
        speed_kmh: None,
        heading_deg: None,
        accuracy_m: None,
    };
    let reported = LocationUpdated { transporter_id: driver.user_id(), point };
    app.app().store.append_points(&[(EventId::generate(), reported)]).await.unwrap();
    let north = |km: f64| (here.0 + km / 111.0, here.1);
    let one = offered_booking(&app, &owner, north(1.0), &[&driver, &rival]).await;
    let five = offered_booking(&app, &owner, north(5.0), &[&driver]).await;
    let three = offered_booking(&app, &owner, north(3.0), &[&driver]).await;
    let mut body = order_body();
    body["trucks"] = json!([{ "vehicleType": "tipper", "quantity": 2 }]);
    let order = order_offered_to(&app, &owner, body, &driver).await;
    let store = &app.app().store;

    // WHEN the driver reads the inbox newest first and nearest first
    let newest = inbox(&app, &driver, "").await;
    let nearest = inbox(&app, &driver, "sort=nearest").await;

    // THEN newest first is the order, then the bookings last offered first; nearest is by distance
    let (one, five, three, order) = (one.to_string(), five.to_string(), three.to_string(), order.to_string());
    assert_eq!(ids(&newest), [order.clone(), three.clone(), five.clone(), one.clone()]);
    let by_distance: Vec<String> = ids(&nearest).into_iter().filter(|id| *id != order).collect();
    assert_eq!(by_distance, [one.clone(), three.clone(), five.clone()]);
    let card = &nearest[0];
    assert_eq!(card["vehicleType"], "tipper");
    assert!((card["pickup"]["lat"].as_f64().unwrap() - north(1.0).0).abs() < 1e-6, "{card}");
    assert!((900..=1100).contains(&card["distanceM"].as_u64().unwrap()), "{card}");
    let line = newest.iter().find(|o| o["orderId"] == order.as_str()).unwrap();
    assert_eq!(
        (line["line"].as_u64(), line["trucks"].as_u64(), line["openTrucks"].as_u64()),
        (Some(0), Some(2), Some(2))
    );

    // WHEN the rival takes the first booking, the customer cancels the second, and the third's
    // offer is withdrawn
    let accepted = app.call("POST", &format!("/v1/bookings/{one}/accept"), Some(&rival), None).await;
    assert_eq!(accepted.status, 200, "{}", accepted.body);
    let cancelled = app.call("POST", &format!("/v1/bookings/{five}/cancel"), Some(&owner), None).await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.body);
    let subject = OfferSubject::Booking(BookingId::parse(&three).unwrap());
    store.withdraw_offers(subject, &[driver.user_id()]).await.unwrap();

    // THEN only the order line is left
    assert_eq!(ids(&inbox(&app, &driver, "").await), std::slice::from_ref(&order));
    // AND a customer may not read an inbox, and a bad sort is a 400 naming it
    assert_eq!(app.call("GET", "/v1/offers", Some(&owner), None).await.status, 403);
    let bad = app.call("GET", "/v1/offers?sort=closest", Some(&driver), None).await;
    assert_eq!((bad.status, bad.body["error"]["details"][0]["field"].as_str()), (400, Some("sort")));
    // (Nothing of this test is left searching for the deadline sweepers of later flows.)
    for path in [format!("/v1/bookings/{three}/cancel"), format!("/v1/orders/{order}/cancel")] {
        assert_eq!(app.call("POST", &path, Some(&owner), None).await.status, 200, "{path}");
    }
}
