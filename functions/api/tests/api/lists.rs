//! What the apps read back: a customer's bookings and orders page by page, and the cursors that
//! carry a listing from one page to the next (sealed: a forged, cut, borrowed or re-used one is a
//! 400).

use crate::support::*;
use chrono::{Duration, Utc};
use serde_json::{Value, json};
use std::collections::HashSet;

/// A booking for next week: `scheduled`, its first deadline days away. Hundreds of bookings
/// searching with two-minute windows would be fired by the next deadline sweeper that runs on
/// this stack (`make run`'s, in the end-to-end flows), each a wider search over every test's
/// transporters: work for no test.
fn next_week() -> Value {
    let mut body = booking_body();
    body["scheduledAt"] = json!((Utc::now() + Duration::days(7)).to_rfc3339());
    body
}

async fn create_booking(app: &ApiClient, customer: &User) -> String {
    let response = app.call("POST", "/v1/bookings", Some(customer), Some(next_week())).await;
    assert_eq!(response.status, 201, "{}", response.body);
    response.body["bookingId"].as_str().unwrap().to_owned()
}

async fn create_bookings(app: &ApiClient, customer: &User, n: usize) -> Vec<String> {
    let mut ids = Vec::with_capacity(n);
    for _ in 0..n {
        ids.push(create_booking(app, customer).await);
    }
    ids
}

/// One page of `GET /v1/bookings?{query}` as `who`: its ids and its next cursor.
async fn page(app: &ApiClient, who: &User, query: &str) -> (Vec<String>, Option<String>) {
    let answer = app.call("GET", &format!("/v1/bookings?{query}"), Some(who), None).await;
    assert_eq!(answer.status, 200, "{query}: {}", answer.body);
    let ids = answer.body["items"].as_array().unwrap().iter().map(|b| b["bookingId"].as_str().unwrap().to_owned());
    (ids.collect(), answer.body["nextCursor"].as_str().map(str::to_owned))
}

fn encoded(cursor: &str) -> String {
    form_urlencoded::byte_serialize(cursor.as_bytes()).collect()
}

#[tokio::test]
async fn two_hundred_fifty_bookings_read_seven_at_a_time_come_back_once_each_newest_first_while_more_are_made() {
    // GIVEN a customer with 250 bookings
    let app = spawn_app().await;
    let customer = User::customer();
    let made = create_bookings(&app, &customer, 250).await;

    // WHEN they read them seven at a time, booking again between pages
    let (mut read, mut cursor) = page(&app, &customer, "limit=7").await;
    let mut made_while_reading = Vec::new();
    let mut pages = 1;
    while let Some(next) = cursor {
        if pages % 6 == 0 {
            made_while_reading.push(create_booking(&app, &customer).await);
        }
        let (ids, after) = page(&app, &customer, &format!("limit=7&cursor={}", encoded(&next))).await;
        assert!(ids.len() <= 7);
        read.extend(ids);
        cursor = after;
        pages += 1;
    }

    // THEN every booking made before the first page comes back exactly once, newest first, and
    // none made while reading (they are newer than the first page)
    assert_eq!(pages, 36, "250 bookings in pages of 7");
    let expected: Vec<String> = made.iter().rev().cloned().collect();
    assert_eq!(read, expected);
    assert!(made_while_reading.iter().all(|id| !read.contains(id)));

    // AND a new first page starts with the newest of them
    let (first, _) = page(&app, &customer, "limit=7").await;
    assert_eq!(first[0], *made_while_reading.last().unwrap());
}

#[tokio::test]
async fn a_status_filter_lists_only_those_bookings_and_another_customer_sees_none_of_them() {
    // GIVEN a customer with five bookings, two of them cancelled
    let app = spawn_app().await;
    let customer = User::customer();
    let ids = create_bookings(&app, &customer, 5).await;
    for id in &ids[1..3] {
        let answer = app.call("POST", &format!("/v1/bookings/{id}/cancel"), Some(&customer), None).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
    }

    // WHEN they list by status, and someone else lists theirs
    let (cancelled, _) = page(&app, &customer, "status=cancelled").await;
    let (scheduled, _) = page(&app, &customer, "status=scheduled&limit=100").await;
    let (both, _) = page(&app, &customer, "status=scheduled,cancelled").await;
    let (others, next) = page(&app, &User::customer(), "").await;

    // THEN each list holds exactly the bookings in those statuses
    assert_eq!(cancelled, vec![ids[2].clone(), ids[1].clone()]);
    assert_eq!(scheduled, vec![ids[4].clone(), ids[3].clone(), ids[0].clone()]);
    assert_eq!(both.iter().collect::<HashSet<_>>(), ids.iter().collect::<HashSet<_>>());
    assert_eq!((others.len(), next), (0, None));
}

#[tokio::test]
async fn a_page_answer_carries_what_the_booking_card_shows() {
    // GIVEN a booking
    let app = spawn_app().await;
    let customer = User::customer();
    let id = create_booking(&app, &customer).await;

    // WHEN the customer lists their bookings
    let answer = app.call("GET", "/v1/bookings", Some(&customer), None).await;

    // THEN the item has the card's fields, and the last page says there is no next one
    assert_eq!(answer.status, 200, "{}", answer.body);
    let item = &answer.body["items"][0];
    assert_eq!(item["bookingId"], id.as_str());
    assert_eq!(item["status"], "scheduled");
    assert!(item["scheduledAt"].is_string());
    assert_eq!(item["vehicleType"], "tipper");
    assert_eq!(item["pickup"]["address"], "Andheri East, Mumbai");
    assert!(item["createdAt"].is_string() && item["drop"]["lat"].is_number());
    assert_eq!(answer.body["nextCursor"], Value::Null);
}

#[tokio::test]
async fn forged_cut_borrowed_and_other_query_cursors_are_refused_with_400() {
    // GIVEN a customer part-way through their bookings, and another customer
    let app = spawn_app().await;
    let (customer, other) = (User::customer(), User::customer());
    create_bookings(&app, &customer, 3).await;
    create_bookings(&app, &other, 3).await;
    let (_, cursor) = page(&app, &customer, "limit=1").await;
    let cursor = cursor.expect("a next page");
    let (body, tag) = cursor.split_once('.').unwrap();
    let forged_body = format!("eyJib29raW5nSWQiOnsiUyI6IngifX0.{tag}");
    let altered_tag = format!("{body}.{}{}", if tag.starts_with('A') { 'B' } else { 'A' }, &tag[1..]);

    for (why, who, query) in [
        ("forged", &customer, format!("limit=1&cursor={}", encoded(&forged_body))),
        ("altered", &customer, format!("limit=1&cursor={}", encoded(&altered_tag))),
        ("truncated", &customer, format!("limit=1&cursor={}", encoded(&cursor[..cursor.len() - 4]))),
        ("another user's", &other, format!("limit=1&cursor={}", encoded(&cursor))),
        ("another query's", &customer, format!("limit=1&status=cancelled&cursor={}", encoded(&cursor))),
    ] {
        // WHEN the cursor comes back changed, from someone else, or with another filter
        let answer = app.call("GET", &format!("/v1/bookings?{query}"), Some(who), None).await;

        // THEN it is a 400 naming the cursor, and no items
        assert_eq!(answer.status, 400, "{why}: {}", answer.body);
        assert_eq!(answer.body["error"]["details"][0]["field"], "cursor", "{why}");
        assert!(answer.body.get("items").is_none(), "{why}");
    }

    // AND the genuine cursor still works, with another limit too
    let (next, _) = page(&app, &customer, &format!("limit=2&cursor={}", encoded(&cursor))).await;
    assert_eq!(next.len(), 2);
}

#[tokio::test]
async fn bad_list_parameters_answer_400_naming_each_and_a_transporter_may_not_list_bookings() {
    let app = spawn_app().await;
    let customer = User::customer();
    for (query, field) in
        [("limit=0", "limit"), ("limit=101", "limit"), ("status=lost", "status"), ("sort=new", "sort")]
    {
        let answer = app.call("GET", &format!("/v1/bookings?{query}"), Some(&customer), None).await;
        assert_eq!(answer.status, 400, "{query}: {}", answer.body);
        assert_eq!(answer.body["error"]["details"][0]["field"], field, "{query}");
    }
    let answer = app.call("GET", "/v1/bookings", Some(&User::transporter()), None).await;
    assert_eq!(answer.status, 403, "{}", answer.body);
}

#[tokio::test]
async fn a_transporter_listing_bookings_or_orders_is_refused_before_the_query_is_read() {
    // GIVEN a transporter, and queries a customer would get a 400 for
    let app = spawn_app().await;
    let driver = User::transporter();
    for path in ["/v1/bookings?limit=0", "/v1/bookings?status=lost", "/v1/orders?sort=new", "/v1/orders?limit=101"] {
        // WHEN they ask for a customer's list with one
        let answer = app.call("GET", path, Some(&driver), None).await;
        // THEN 403, and nothing said about which parameters are valid
        assert_eq!(answer.status, 403, "{path}: {}", answer.body);
        assert!(answer.body["error"]["details"].is_null(), "{path}: {}", answer.body);
    }
}

#[tokio::test]
async fn a_customers_orders_list_newest_first_with_the_status_their_trucks_give_them() {
    // GIVEN a customer's orders: one open (two trucks searching), one fulfilled (its one truck
    // accepted), one cancelled, one not yet expanded (processing)
    let app = spawn_app().await;
    let (customer, driver) = (User::customer(), User::transporter());
    let profile = json!({ "vehicleTypes": ["tipper"], "available": true });
    assert_eq!(app.call("PUT", "/v1/transporters/me", Some(&driver), Some(profile)).await.status, 200);
    let mut two = order_body();
    two["trucks"] = json!([{ "vehicleType": "tipper", "quantity": 2 }]);
    let open = order_offered_to(&app, &customer, two, &driver).await.to_string();
    let mut one = order_body();
    one["trucks"] = json!([{ "vehicleType": "tipper", "quantity": 1 }]);
    let fulfilled = order_offered_to(&app, &customer, one, &driver).await;
    let truck = weelo_core::model::ids::TruckRequestId::derive(fulfilled, 0, 0);
    let accept = format!("/v1/orders/{fulfilled}/truck-requests/{truck}/accept");
    assert_eq!(app.call("POST", &accept, Some(&driver), None).await.status, 200);
    let created = |answer: crate::support::Answer| answer.body["orderId"].as_str().unwrap().to_owned();
    let cancelled = created(app.call("POST", "/v1/orders", Some(&customer), Some(order_body())).await);
    assert_eq!(app.call("POST", &format!("/v1/orders/{cancelled}/cancel"), Some(&customer), None).await.status, 200);
    let processing = created(app.call("POST", "/v1/orders", Some(&customer), Some(order_body())).await);

    // WHEN they list them one a page, and by status
    let mut read = Vec::new();
    let mut query = "limit=1".to_owned();
    loop {
        let answer = app.call("GET", &format!("/v1/orders?{query}"), Some(&customer), None).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        for order in answer.body["items"].as_array().unwrap() {
            read.push((order["orderId"].as_str().unwrap().to_owned(), order["status"].as_str().unwrap().to_owned()));
        }
        match answer.body["nextCursor"].as_str() {
            Some(next) => query = format!("limit=1&cursor={}", encoded(next)),
            None => break,
        }
    }
    let on_the_road = app.call("GET", "/v1/orders?status=fulfilled", Some(&customer), None).await;

    // THEN newest first, each with the status its trucks give it
    let expected = [
        (processing, "processing"),
        (cancelled, "cancelled"),
        (fulfilled.to_string(), "fulfilled"),
        (open.clone(), "open"),
    ];
    assert_eq!(read, expected.map(|(id, status)| (id, status.to_owned())));
    let items = on_the_road.body["items"].as_array().unwrap();
    assert_eq!((items.len(), items[0]["orderId"].as_str()), (1, Some(fulfilled.to_string().as_str())));
    assert_eq!(items[0]["trucksRequested"], 1);
    // AND another customer sees none of them, and a transporter may not list orders
    let other = app.call("GET", "/v1/orders", Some(&User::customer()), None).await;
    assert_eq!(other.body["items"].as_array().map(Vec::len), Some(0));
    assert_eq!(app.call("GET", "/v1/orders", Some(&driver), None).await.status, 403);
    // (Nothing of this test is left searching for the deadline sweepers of later flows.)
    assert_eq!(app.call("POST", &format!("/v1/orders/{open}/cancel"), Some(&customer), None).await.status, 200);
}
