//! Multi-truck orders through the real api: create, limits, idempotency, ownership, and accepting
//! one truck request of an order.

use crate::support::*;
use chrono::Utc;
use serde_json::json;
use weelo_core::model::ids::{OrderId, TruckRequestId};
use weelo_core::model::trip::{OfferTimes, TripStep};
use weelo_core::ports::{Assignment, Change, OfferStore, OfferSubject, OrderStore};

#[tokio::test]
async fn a_customer_orders_several_trucks_and_order_created_is_published() {
    // GIVEN a customer
    let app = spawn_app().await;
    let customer = User::customer();
    let since = Utc::now();

    // WHEN they order two tippers and a container
    let response = app.call("POST", "/v1/orders", Some(&customer), Some(order_body())).await;

    // THEN 201 processing with three trucks, one order.created event, and the owner reads it back
    assert_eq!(response.status, 201, "{}", response.body);
    assert_eq!(response.body["status"], "processing");
    assert_eq!(response.body["trucksRequested"], 3);
    let order_id = response.body["orderId"].as_str().unwrap().to_owned();
    let records = records_of_type("order.events", &order_id, "com.weelo.order.created.v1", since, 1).await;
    assert_eq!(records.len(), 1);
    assert_eq!(cloud_event(&records[0])["data"]["trucks"][0], json!({"vehicleType": "tipper", "quantity": 2}));
    let read = app.call("GET", &format!("/v1/orders/{order_id}"), Some(&customer), None).await;
    assert_eq!(read.status, 200);
    assert_eq!(read.body["trucksRequested"], 3);
    assert_eq!(read.body["truckRequests"], json!([]));
}

#[tokio::test]
async fn order_limits_are_enforced_field_by_field() {
    let app = spawn_app().await;
    let customer = User::customer();
    let order = |trucks: serde_json::Value| json!({ "pickup": {"lat": 1.0, "lng": 1.0}, "drop": {"lat": 2.0, "lng": 2.0}, "trucks": trucks });
    let fields = |response: &Answer| -> Vec<String> {
        response.body["error"]["details"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["field"].as_str().unwrap().to_owned())
            .collect()
    };
    let line = |quantity: u32| json!({"vehicleType": "open", "quantity": quantity});

    // WHEN a line asks for 0 or 51 trucks THEN that line's quantity is named
    let response = app.call("POST", "/v1/orders", Some(&customer), Some(order(json!([line(0), line(51)])))).await;
    assert_eq!(response.status, 400);
    assert_eq!(fields(&response), ["trucks[0].quantity", "trucks[1].quantity"]);

    // WHEN there are no lines, eleven lines, or more than 100 trucks in total THEN `trucks` is named
    for trucks in [json!([]), json!(vec![line(1); 11]), json!([line(50), line(50), line(1)])] {
        let response = app.call("POST", "/v1/orders", Some(&customer), Some(order(trucks))).await;
        assert_eq!(response.status, 400);
        assert_eq!(fields(&response), ["trucks"]);
    }

    // WHEN the vehicle type is unknown or the quantity negative THEN the field is named
    let response = app
        .call("POST", "/v1/orders", Some(&customer), Some(order(json!([{"vehicleType": "boat", "quantity": 1}]))))
        .await;
    assert_eq!(fields(&response), ["trucks[0].vehicleType"]);
    let response = app
        .call("POST", "/v1/orders", Some(&customer), Some(order(json!([{"vehicleType": "open", "quantity": -1}]))))
        .await;
    assert_eq!(fields(&response), ["trucks[0].quantity"]);

    // AND exactly 100 trucks over several lines is fine
    let response = app.call("POST", "/v1/orders", Some(&customer), Some(order(json!([line(50), line(50)])))).await;
    assert_eq!(response.status, 201);
    assert_eq!(response.body["trucksRequested"], 100);
}

#[tokio::test]
async fn order_idempotency_replays_and_detects_a_changed_body() {
    let app = spawn_app().await;
    let customer = User::customer();
    let headers = vec![
        ("content-type".to_owned(), "application/json".to_owned()),
        ("authorization".to_owned(), format!("Bearer {}", customer.token)),
        ("idempotency-key".to_owned(), "order-key".to_owned()),
    ];
    let first = app.call_raw("POST", "/v1/orders", &headers, &order_body().to_string()).await;
    let again = app.call_raw("POST", "/v1/orders", &headers, &order_body().to_string()).await;
    assert_eq!(first.status, 201);
    assert_eq!(again.status, 201);
    assert_eq!(again.body, first.body);
    let mut changed = order_body();
    changed["trucks"][0]["quantity"] = json!(3);
    let conflict = app.call_raw("POST", "/v1/orders", &headers, &changed.to_string()).await;
    assert_eq!(conflict.status, 409);
    assert_eq!(conflict.error_code(), "idempotency_key_reused");
}

#[tokio::test]
async fn the_owner_reads_an_order_and_an_offered_transporter_sees_only_the_lines_offered_to_them() {
    // GIVEN an order (line 0: two tippers, line 1: a container) fanned out into its truck
    // requests, its container line offered to one transporter
    let app = spawn_app().await;
    let (owner, stranger, offered, not_offered) =
        (User::customer(), User::customer(), User::transporter(), User::transporter());
    let created = app.call("POST", "/v1/orders", Some(&owner), Some(order_body())).await;
    let order_id = OrderId::parse(created.body["orderId"].as_str().unwrap()).unwrap();
    let store = &app.app().store;
    let view = store.get_order(order_id).await.unwrap().unwrap();
    let stored_requests = view.order.truck_requests(Utc::now(), &OfferTimes::default());
    store.put_truck_requests(&stored_requests).await.unwrap();
    store.put_offers(OfferSubject::OrderLine(order_id, 1), &[offered.user_id()], Utc::now()).await.unwrap();
    let path = format!("/v1/orders/{order_id}");

    // WHEN the owner reads it THEN every truck request is there
    let read = app.call("GET", &path, Some(&owner), None).await;
    assert_eq!(read.status, 200, "{}", read.body);
    assert_eq!(read.body["truckRequests"].as_array().unwrap().len(), 3);

    // WHEN the offered transporter reads it THEN the order with only the container line's truck request
    let read = app.call("GET", &path, Some(&offered), None).await;
    assert_eq!(read.status, 200, "{}", read.body);
    let requests = read.body["truckRequests"].as_array().unwrap();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!((requests[0]["line"].clone(), requests[0]["vehicleType"].clone()), (json!(1), json!("container")));

    // WHEN another customer, a transporter offered nothing, or anyone asks for an unknown order THEN 404
    assert_eq!(app.call("GET", &path, Some(&stranger), None).await.status, 404);
    assert_eq!(app.call("GET", &path, Some(&not_offered), None).await.status, 404);
    assert_eq!(app.call("GET", &format!("/v1/orders/{}", OrderId::generate()), Some(&owner), None).await.status, 404);

    // WHEN a tipper truck is won by a transporter whose offer has since expired, and another
    // transporter offered the tipper line reads the order
    let (winner, rival) = (User::transporter(), User::transporter());
    store.put_offers(OfferSubject::OrderLine(order_id, 0), &[rival.user_id()], Utc::now()).await.unwrap();
    let mut won = stored_requests.into_iter().find(|r| r.line == 0).unwrap();
    won.trip.take(TripStep::Accept, Some(&winner.user_id()), Utc::now(), &OfferTimes::default()).unwrap();
    let change = Change { to: &won, expected: 0, events: &[], assignment: &Assignment::Keep };
    store.transition_truck_request(change, true).await.unwrap();
    let seen_by_rival = app.call("GET", &path, Some(&rival), None).await;

    // THEN the rival sees the truck taken but not by whom, and the winner still sees their truck
    assert_eq!(seen_by_rival.status, 200, "{}", seen_by_rival.body);
    let taken = |body: &serde_json::Value| -> serde_json::Value {
        let requests = body["truckRequests"].as_array().unwrap();
        assert_eq!(requests.len(), 2, "{requests:?}");
        requests.iter().find(|r| r["truckRequestId"] == won.truck_request_id.to_string()).unwrap().clone()
    };
    let taken_for_rival = taken(&seen_by_rival.body);
    assert_eq!(taken_for_rival["status"], "accepted");
    assert!(taken_for_rival.get("acceptedBy").is_none() && taken_for_rival.get("acceptedAt").is_none());
    let seen_by_winner = app.call("GET", &path, Some(&winner), None).await;
    assert_eq!(seen_by_winner.status, 200, "{}", seen_by_winner.body);
    assert_eq!(taken(&seen_by_winner.body)["acceptedBy"], winner.id.as_str());
}

#[tokio::test]
async fn one_truck_request_is_accepted_by_the_first_offered_transporter() {
    // GIVEN an order (line 0: two tippers, line 1: a container) whose truck requests exist, its
    // tipper line offered to two transporters and its container line to a third
    let app = spawn_app().await;
    let owner = User::customer();
    let (first, second, outsider, container_driver) =
        (User::transporter(), User::transporter(), User::transporter(), User::transporter());
    let created = app.call("POST", "/v1/orders", Some(&owner), Some(order_body())).await;
    let order_id = OrderId::parse(created.body["orderId"].as_str().unwrap()).unwrap();
    let store = &app.app().store;
    let view = store.get_order(order_id).await.unwrap().unwrap();
    store.put_truck_requests(&view.order.truck_requests(Utc::now(), &OfferTimes::default())).await.unwrap();
    let target = TruckRequestId::derive(order_id, 0, 1);
    let tipper_line = OfferSubject::OrderLine(order_id, 0);
    store.put_offers(tipper_line, &[first.user_id(), second.user_id()], Utc::now()).await.unwrap();
    let container_line = OfferSubject::OrderLine(order_id, 1);
    store.put_offers(container_line, &[container_driver.user_id()], Utc::now()).await.unwrap();
    for transporter in [&first, &second] {
        let profile = json!({ "vehicleTypes": ["tipper"], "available": true });
        assert_eq!(app.call("PUT", "/v1/transporters/me", Some(transporter), Some(profile)).await.status, 200);
    }
    let since = Utc::now();
    let accept = format!("/v1/orders/{order_id}/truck-requests/{target}/accept");

    // WHEN a transporter offered nothing, or only the container line, accepts a tipper THEN 404
    assert_eq!(app.call("POST", &accept, Some(&outsider), None).await.status, 404);
    assert_eq!(app.call("POST", &accept, Some(&container_driver), None).await.status, 404);

    // WHEN the first accepts THEN 200 accepted; the second then gets 409
    let won = app.call("POST", &accept, Some(&first), None).await;
    assert_eq!(won.status, 200, "{}", won.body);
    assert_eq!(won.body["status"], "accepted");
    assert_eq!(won.body["acceptedBy"], first.id.as_str());
    let lost = app.call("POST", &accept, Some(&second), None).await;
    assert_eq!(lost.status, 409);
    assert_eq!(lost.error_code(), "truck_request_unavailable");

    // THEN the order shows three truck requests, exactly one accepted, and one event was published
    let read = app.call("GET", &format!("/v1/orders/{order_id}"), Some(&owner), None).await;
    let requests = read.body["truckRequests"].as_array().unwrap();
    assert_eq!(requests.len(), 3);
    assert_eq!(requests.iter().filter(|r| r["status"] == "accepted").count(), 1);
    let ty = "com.weelo.order.truck-request-accepted.v1";
    let records = records_of_type("order.events", &order_id.to_string(), ty, since, 1).await;
    assert_eq!(records.len(), 1);
    assert_eq!(cloud_event(&records[0])["data"]["truckRequestId"], target.to_string());

    // AND writing the truck requests again (a redelivered order.created) changes nothing
    store.put_truck_requests(&view.order.truck_requests(Utc::now(), &OfferTimes::default())).await.unwrap();
    let reread = store.get_order(order_id).await.unwrap().unwrap();
    assert_eq!(reread.truck_requests.iter().filter(|r| r.trip.accepted_by.is_some()).count(), 1);
}
