//! End to end over HTTP: api under `weelo-local functions` → Kafka → the local MSK bridge →
//! location-consumer, order-fanout, fcm-consumer → SNS (moto). Run by `localstack/e2e.sh` (part of
//! `make test`), one test at a time: each test runs a bridge of its own.

use futures::future::join_all;
use futures::{StreamExt, stream};
use serde_json::json;
use std::collections::BTreeSet;
use weelo_e2e::*;
use weelo_testkit::unique;

#[tokio::test]
async fn a_booking_pushes_once_to_every_matching_transporters_phone_and_to_nobody_else() {
    // GIVEN 200 transporters with phones around one city: 80 near with a tipper and available,
    // 40 far away, 40 near with the wrong truck, 40 near but unavailable
    let api = e2e_api();
    let _bridge = Bridge::start(&unique("-e2e")).await;
    let centre = private_city();
    let far_centre = (centre.0 + 1.5, centre.1);
    let groups: [(usize, (f64, f64), &str, bool); 4] = [
        (80, centre, "tipper", true),
        (40, far_centre, "tipper", true),
        (40, centre, "container", true),
        (40, centre, "tipper", false),
    ];
    let mut everyone: Vec<(User, bool)> = Vec::new();
    for (n, place, vehicle, available) in groups {
        // Eight requests at a time, as the local Lambda service runs four processes per function: a request
        // queued behind hundreds would count its wait against the client's timeout.
        let people: Vec<User> =
            stream::iter(0..n).map(|_| User::with_phone(&api, "transporter")).buffer_unordered(8).collect().await;
        stream::iter(people.iter().zip(around(place, 0.04, n)))
            .map(|(p, at)| api.drive(p, vehicle, available, at))
            .buffer_unordered(8)
            .collect::<Vec<()>>()
            .await;
        let matching = place == centre && vehicle == "tipper" && available;
        everyone.extend(people.into_iter().map(|p| (p, matching)));
    }
    wait_until_located(&everyone.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>()).await;

    // WHEN a customer books a tipper in the city centre
    let customer = User::with_phone(&api, "customer").await;
    let booked = api.call("POST", "/v1/bookings", Some(&customer), Some(booking_at(centre, "tipper"))).await;
    assert_eq!(booked.status, 201, "{booked:?}");
    let booking_id = booked.body["bookingId"].as_str().unwrap().to_owned();

    // THEN every matching phone gets exactly one push for it, and no other phone gets any
    let matching: BTreeSet<String> = everyone.iter().filter(|(_, m)| *m).map(|(p, _)| p.phone_token.clone()).collect();
    let all_arrived = eventually(120, async || {
        let counts = pushes_by_phone(&booking_id).await;
        matching.iter().all(|t| counts.contains_key(t))
    })
    .await;
    assert!(all_arrived, "not every matching phone got its push");
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let counts = pushes_by_phone(&booking_id).await;
    let pushed: BTreeSet<String> = counts.keys().cloned().collect();
    assert_eq!(pushed, matching);
    assert!(counts.values().all(|n| *n == 1), "{counts:?}");
}

#[tokio::test]
async fn twenty_transporters_accept_at_once_one_wins_and_the_customer_hears_once() {
    // GIVEN a booking offered to 20 transporters nearby
    let api = e2e_api();
    let _bridge = Bridge::start(&unique("-e2e")).await;
    let centre = private_city();
    let drivers = join_all((0..20).map(|_| User::with_phone(&api, "transporter"))).await;
    join_all(drivers.iter().zip(around(centre, 0.03, 20)).map(|(p, at)| api.drive(p, "open", true, at))).await;
    wait_until_located(&drivers).await;
    let customer = User::with_phone(&api, "customer").await;
    let booked = api.call("POST", "/v1/bookings", Some(&customer), Some(booking_at(centre, "open"))).await;
    let booking_id = booked.body["bookingId"].as_str().unwrap().to_owned();
    let phones: BTreeSet<String> = drivers.iter().map(|d| d.phone_token.clone()).collect();
    let offered = eventually(120, async || {
        let counts = pushes_by_phone(&booking_id).await;
        phones.iter().all(|t| counts.contains_key(t))
    })
    .await;
    assert!(offered, "the offers did not reach every driver");

    // WHEN all twenty accept at once
    let path = format!("/v1/bookings/{booking_id}/accept");
    let answers = join_all(drivers.iter().map(|d| api.call("POST", &path, Some(d), None))).await;

    // THEN exactly one wins, nineteen get 409, and the customer's phone hears about it once
    let statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 19, "{statuses:?}");
    let told = eventually(60, async || pushes_by_phone(&booking_id).await.contains_key(&customer.phone_token)).await;
    assert!(told, "the customer was not told");
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    assert_eq!(pushes_by_phone(&booking_id).await.get(&customer.phone_token), Some(&1));
}

#[tokio::test]
async fn an_order_for_fifty_trucks_is_offered_by_type_and_a_truck_request_goes_to_one_transporter() {
    // GIVEN three available transporters per truck type near the pickup, and three tipper drivers far away
    let api = e2e_api();
    let _bridge = Bridge::start(&unique("-e2e")).await;
    let centre = private_city();
    let mut near: Vec<(User, &str)> = Vec::new();
    for vehicle in ["tipper", "container", "open"] {
        let people = join_all((0..3).map(|_| User::with_phone(&api, "transporter"))).await;
        join_all(people.iter().zip(around(centre, 0.02, 3)).map(|(p, at)| api.drive(p, vehicle, true, at))).await;
        near.extend(people.into_iter().map(|p| (p, vehicle)));
    }
    let far = join_all((0..3).map(|_| User::with_phone(&api, "transporter"))).await;
    join_all(
        far.iter().zip(around((centre.0 + 1.5, centre.1), 0.02, 3)).map(|(p, at)| api.drive(p, "tipper", true, at)),
    )
    .await;
    let everyone: Vec<User> = near.iter().map(|(p, _)| p.clone()).chain(far.iter().cloned()).collect();
    wait_until_located(&everyone).await;

    // WHEN a customer orders 10 tippers, 20 containers and 20 open trucks
    let customer = User::with_phone(&api, "customer").await;
    let order = json!({
        "pickup": {"lat": centre.0, "lng": centre.1}, "drop": {"lat": centre.0 + 0.3, "lng": centre.1},
        "trucks": [{"vehicleType": "tipper", "quantity": 10}, {"vehicleType": "container", "quantity": 20},
                   {"vehicleType": "open", "quantity": 20}]
    });
    let created = api.call("POST", "/v1/orders", Some(&customer), Some(order)).await;
    assert_eq!(created.status, 201, "{created:?}");
    let order_id = created.body["orderId"].as_str().unwrap().to_owned();

    // THEN the order opens with 50 truck requests: 10 tipper, 20 container, 20 open
    let path = format!("/v1/orders/{order_id}");
    let opened = eventually(120, async || {
        let view = api.call("GET", &path, Some(&customer), None).await;
        view.body["status"] == "open"
    })
    .await;
    assert!(opened, "the order never opened");
    let view = api.call("GET", &path, Some(&customer), None).await.body;
    let requests = view["truckRequests"].as_array().expect("truckRequests").clone();
    let of_type = |t: &str| requests.iter().filter(|r| r["vehicleType"] == t).count();
    assert_eq!((requests.len(), of_type("tipper"), of_type("container"), of_type("open")), (50, 10, 20, 20));

    // AND every near phone gets exactly one push for its truck type, and the far phones none
    let near_phones: BTreeSet<String> = near.iter().map(|(p, _)| p.phone_token.clone()).collect();
    let arrived = eventually(120, async || {
        let counts = pushes_by_phone(&order_id).await;
        near_phones.iter().all(|t| counts.contains_key(t))
    })
    .await;
    assert!(arrived, "not every near transporter was told");
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let counts = pushes_by_phone(&order_id).await;
    assert_eq!(counts.keys().cloned().collect::<BTreeSet<_>>(), near_phones);
    assert!(counts.values().all(|n| *n == 1), "{counts:?}");

    // AND a tipper driver, as their app does after the push, reads the order and sees only the
    // tipper line's 10 truck requests
    let tipper_drivers: Vec<&User> = near.iter().filter(|(_, v)| *v == "tipper").map(|(p, _)| p).collect();
    let seen = api.call("GET", &path, Some(tipper_drivers[0]), None).await;
    assert_eq!(seen.status, 200, "{seen:?}");
    let offered = seen.body["truckRequests"].as_array().expect("truckRequests").clone();
    assert_eq!(offered.len(), 10, "{offered:?}");
    assert!(offered.iter().all(|r| r["vehicleType"] == "tipper" && r["line"] == 0), "{offered:?}");

    // AND one of those truck requests is not offered to a container driver, and goes to exactly one tipper driver
    let tipper_request = offered[0]["truckRequestId"].as_str().unwrap().to_owned();
    let accept = format!("/v1/orders/{order_id}/truck-requests/{tipper_request}/accept");
    let (container_driver, _) = near.iter().find(|(_, v)| *v == "container").unwrap();
    assert_eq!(api.call("POST", &accept, Some(container_driver), None).await.status, 404);
    let answers = join_all(tipper_drivers.iter().map(|p| api.call("POST", &accept, Some(p), None))).await;
    let mut statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    statuses.sort();
    assert_eq!(statuses, [200, 409, 409]);
    let told = eventually(60, async || pushes_by_phone(&order_id).await.contains_key(&customer.phone_token)).await;
    assert!(told, "the customer was not told who accepted");
}

#[tokio::test]
async fn a_phone_logged_out_gets_no_more_offers_while_the_phone_still_logged_in_does() {
    // GIVEN two transporters with phones near one city, one of whom logs their phone out
    let api = e2e_api();
    let _bridge = Bridge::start(&unique("-e2e")).await;
    let centre = private_city();
    let stays = User::with_phone(&api, "transporter").await;
    let leaves = User::with_phone(&api, "transporter").await;
    for driver in [&stays, &leaves] {
        api.drive(driver, "tipper", true, centre).await;
    }
    wait_until_located(&[stays.clone(), leaves.clone()]).await;
    let phone = json!({"platform": "android", "token": leaves.phone_token});
    let registered = api.call("POST", "/v1/devices", Some(&leaves), Some(phone)).await;
    let device_id = registered.body["deviceId"].as_str().expect("the phone's device id").to_owned();
    let logout = api.call("DELETE", &format!("/v1/devices/{device_id}"), Some(&leaves), None).await;
    assert_eq!(logout.status, 204, "{logout:?}");

    // WHEN a customer books a tipper there
    let customer = User::with_phone(&api, "customer").await;
    let booked = api.call("POST", "/v1/bookings", Some(&customer), Some(booking_at(centre, "tipper"))).await;
    assert_eq!(booked.status, 201, "{booked:?}");
    let booking_id = booked.body["bookingId"].as_str().unwrap().to_owned();

    // THEN the phone still logged in gets the offer, and the logged-out phone gets nothing
    let arrived = eventually(120, async || pushes_by_phone(&booking_id).await.contains_key(&stays.phone_token)).await;
    assert!(arrived, "the logged-in phone got no offer");
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let counts = pushes_by_phone(&booking_id).await;
    assert!(!counts.contains_key(&leaves.phone_token), "a logged-out phone was pushed: {counts:?}");
}
