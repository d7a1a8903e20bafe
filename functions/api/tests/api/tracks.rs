//! A trip's track through the real api against the local stack: the points written to the history
//! table (as location-consumer writes them) while the truck held the trip come back in time order,
//! page by page, to the owner and the driver; none from before the acceptance or after the
//! delivery, and nobody else's.

use crate::support::*;
use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use weelo_core::contract::events::LocationUpdated;
use weelo_core::model::ids::{BookingId, EventId, TruckRequestId};
use weelo_core::model::location::LocationPoint;
use weelo_core::ports::{LocationHistoryStore, OfferStore, OfferSubject, TransporterStore};

/// Stores `driver`'s points recorded at `at`, as location-consumer does.
async fn history(app: &ApiClient, driver: &User, at: &[DateTime<Utc>]) {
    let points: Vec<_> = at
        .iter()
        .enumerate()
        .map(|(i, recorded_at)| {
            let point = LocationPoint {
                lat: 19.07 + i as f64 * 0.001,
                lng: 72.87,
                recorded_at: *recorded_at,
                speed_kmh: Some(30.0),
                heading_deg: None,
                accuracy_m: None,
            };
            (EventId::generate(), LocationUpdated { transporter_id: driver.user_id(), point })
        })
        .collect();
    app.app().store.append_points(&points).await.unwrap();
}

/// Points a millisecond apart or more, all recorded after the call: distinct, ordered keys.
async fn points_from_now(n: usize) -> Vec<DateTime<Utc>> {
    let mut at = Vec::with_capacity(n);
    for _ in 0..n {
        tokio::time::sleep(std::time::Duration::from_millis(3)).await;
        at.push(Utc::now());
    }
    at
}

/// Every page of `path` as `who`, `limit` points a page: the points' times.
async fn read_track(app: &ApiClient, who: &User, path: &str, limit: usize) -> Vec<DateTime<Utc>> {
    let (mut times, mut query) = (Vec::new(), format!("limit={limit}"));
    loop {
        let page = app.call("GET", &format!("{path}?{query}"), Some(who), None).await;
        assert_eq!(page.status, 200, "{query}: {}", page.body);
        let items = page.body["items"].as_array().unwrap();
        assert!(items.len() <= limit);
        times.extend(items.iter().map(|p| p["recordedAt"].as_str().unwrap().parse::<DateTime<Utc>>().unwrap()));
        match page.body["nextCursor"].as_str() {
            Some(next) => {
                query = format!(
                    "limit={limit}&cursor={}",
                    form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
                )
            }
            None => return times,
        }
    }
}

fn millis(times: &[DateTime<Utc>]) -> Vec<i64> {
    times.iter().map(DateTime::timestamp_millis).collect()
}

#[tokio::test]
async fn a_delivered_bookings_track_is_the_drivers_points_during_the_trip_in_order() {
    // GIVEN a booking its driver accepted and delivered, with points before, during and after
    let app = spawn_app().await;
    let (owner, driver, stranger, other_driver) =
        (User::customer(), User::transporter(), User::customer(), User::transporter());
    let created = app.call("POST", "/v1/bookings", Some(&owner), Some(booking_body())).await;
    let booking = BookingId::parse(created.body["bookingId"].as_str().unwrap()).unwrap();
    let profile = json!({ "vehicleTypes": ["tipper"], "available": true });
    assert_eq!(app.call("PUT", "/v1/transporters/me", Some(&driver), Some(profile)).await.status, 200);
    app.app().store.put_offers(OfferSubject::Booking(booking), &[driver.user_id()], Utc::now()).await.unwrap();
    history(&app, &driver, &[Utc::now() - Duration::minutes(5), Utc::now() - Duration::seconds(1)]).await;
    let accepted = app.call("POST", &format!("/v1/bookings/{booking}/accept"), Some(&driver), None).await;
    assert_eq!(accepted.status, 200, "{}", accepted.body);
    let during = points_from_now(7).await;
    history(&app, &driver, &during).await;
    for step in ["arrive", "pickup", "deliver"] {
        let answer = app.call("POST", &format!("/v1/bookings/{booking}/{step}"), Some(&driver), None).await;
        assert_eq!(answer.status, 200, "{step}: {}", answer.body);
    }
    history(&app, &driver, &points_from_now(2).await).await;
    let path = format!("/v1/bookings/{booking}/track");

    // WHEN the owner reads the track three points a page, and the driver in one page
    let by_owner = read_track(&app, &owner, &path, 3).await;
    let by_driver = read_track(&app, &driver, &path, 1000).await;

    // THEN both get exactly the points recorded during the trip, in time order
    assert_eq!(millis(&by_owner), millis(&during));
    assert_eq!(millis(&by_driver), millis(&during));
    // AND to another customer or transporter the booking does not exist
    for who in [&stranger, &other_driver] {
        let refused = app.call("GET", &path, Some(who), None).await;
        assert_eq!((refused.status, refused.error_code()), (404, "not_found"), "{}", refused.body);
    }
}

#[tokio::test]
async fn an_order_trucks_track_follows_that_truck_and_a_cursor_is_bound_to_its_reader_and_window() {
    // GIVEN a one-truck order whose truck a driver accepted, with points before and during the trip
    let app = spawn_app().await;
    let (owner, driver) = (User::customer(), User::transporter());
    let mut body = order_body();
    body["trucks"] = json!([{ "vehicleType": "tipper", "quantity": 1 }]);
    let order = order_offered_to(&app, &owner, body, &driver).await;
    let profile = json!({ "vehicleTypes": ["tipper"], "available": true });
    assert_eq!(app.call("PUT", "/v1/transporters/me", Some(&driver), Some(profile)).await.status, 200);
    let truck = TruckRequestId::derive(order, 0, 0);
    history(&app, &driver, &[Utc::now() - Duration::minutes(1)]).await;
    let accepted =
        app.call("POST", &format!("/v1/orders/{order}/truck-requests/{truck}/accept"), Some(&driver), None).await;
    assert_eq!(accepted.status, 200, "{}", accepted.body);
    let during = points_from_now(4).await;
    history(&app, &driver, &during).await;
    let path = format!("/v1/orders/{order}/truck-requests/{truck}/track");

    // WHEN the owner reads the running trip's track two points a page
    let read = read_track(&app, &owner, &path, 2).await;

    // THEN it is the points since the acceptance, in order
    assert_eq!(millis(&read), millis(&during));

    // AND the first page's cursor is refused to the driver, with another window, and when forged
    let first = app.call("GET", &format!("{path}?limit=2"), Some(&owner), None).await;
    let cursor = first.body["nextCursor"].as_str().unwrap().to_owned();
    let encoded = |c: &str| form_urlencoded::byte_serialize(c.as_bytes()).collect::<String>();
    let mut forged = cursor.clone().into_bytes();
    let last = forged.len() - 2;
    forged[last] = if forged[last] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).unwrap();
    let since = encoded(&(Utc::now() - Duration::hours(1)).to_rfc3339());
    for (who, query) in [
        (&driver, format!("limit=2&cursor={}", encoded(&cursor))),
        (&owner, format!("limit=2&since={since}&cursor={}", encoded(&cursor))),
        (&owner, format!("limit=2&cursor={}", encoded(&forged))),
    ] {
        let refused = app.call("GET", &format!("{path}?{query}"), Some(who), None).await;
        assert_eq!(refused.status, 400, "{query}: {}", refused.body);
        assert_eq!(refused.body["error"]["details"][0]["field"], "cursor", "{}", refused.body);
    }
    // AND another truck request of no one, or a malformed one, is a 404
    let unknown = TruckRequestId::derive(order, 0, 1);
    let missing =
        app.call("GET", &format!("/v1/orders/{order}/truck-requests/{unknown}/track"), Some(&owner), None).await;
    assert_eq!(missing.status, 404, "{}", missing.body);
}

#[tokio::test]
async fn the_latest_position_is_the_newest_point_even_in_a_segment_forty_segments_back() {
    // GIVEN a driver's late batch (one segment, keyed by its first point) holding the newest point,
    // 395 s after its first, and forty later-keyed segments of one point each, 10 s apart
    let app = spawn_app().await;
    let driver = User::transporter();
    let start = DateTime::from_timestamp_millis(Utc::now().timestamp_millis()).unwrap() - Duration::hours(1);
    history(&app, &driver, &[start + Duration::seconds(1), start + Duration::seconds(395)]).await;
    for i in 1..=40 {
        history(&app, &driver, &[start + Duration::seconds(1 + 9 * i)]).await;
    }

    // WHEN the driver's latest position is read (more segments than one query reads)
    let latest = app.app().store.latest_position(&driver.user_id()).await.unwrap().unwrap();

    // THEN it is the newest point, not the newest segment's
    assert_eq!(latest.point.recorded_at, start + Duration::seconds(395));
    assert_eq!(latest.transporter_id, driver.user_id());
}
