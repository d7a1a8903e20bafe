//! Orders through their trucks' trips end to end, each on a `TripStack` of its own: a 12-truck
//! order cancelled with 5 trucks assigned, an order fulfilled then completed, a line nobody takes.

use serde_json::{Value, json};
use std::collections::BTreeMap;
use weelo_e2e::*;

async fn order(api: &ApiClient, customer: &User, at: (f64, f64), tippers: u32) -> String {
    let body = json!({"pickup": {"lat": at.0, "lng": at.1}, "drop": {"lat": at.0 + 0.3, "lng": at.1},
        "trucks": [{"vehicleType": "tipper", "quantity": tippers}]});
    let created = api.call("POST", "/v1/orders", Some(customer), Some(body)).await;
    assert_eq!(created.status, 201, "{created:?}");
    created.body["orderId"].as_str().unwrap().to_owned()
}

async fn read(api: &ApiClient, customer: &User, order: &str) -> Value {
    api.call("GET", &format!("/v1/orders/{order}"), Some(customer), None).await.body
}

/// The order's truck request ids, once order-fanout has created them.
async fn trucks(api: &ApiClient, customer: &User, order: &str, n: usize) -> Vec<String> {
    let made =
        eventually(60, async || read(api, customer, order).await["truckRequests"].as_array().map(Vec::len) == Some(n))
            .await;
    assert!(made, "order-fanout never created the {n} trucks");
    let view = read(api, customer, order).await;
    view["truckRequests"].as_array().unwrap().iter().map(|r| r["truckRequestId"].as_str().unwrap().to_owned()).collect()
}

async fn truck_step(api: &ApiClient, who: &User, order: &str, truck: &str, verb: &str) -> Answer {
    api.call("POST", &format!("/v1/orders/{order}/truck-requests/{truck}/{verb}"), Some(who), None).await
}

fn statuses(view: &Value) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for request in view["truckRequests"].as_array().unwrap() {
        *counts.entry(request["status"].as_str().unwrap().to_owned()).or_default() += 1;
    }
    counts
}

#[tokio::test]
async fn a_twelve_truck_order_cancelled_with_five_assigned_cancels_the_rest_withdraws_the_offers_and_tells_the_five() {
    // GIVEN a 12-tipper order offered to 12 drivers, 5 of whom took a truck
    let stack = TripStack::start(9051, 120, &[]).await;
    let api = &stack.api;
    let centre = private_city();
    let people = drivers(api, &around(centre, 0.01, 12)).await;
    let customer = User::with_phone(api, "customer").await;
    let order_id = order(api, &customer, centre, 12).await;
    let ids = trucks(api, &customer, &order_id, 12).await;
    for driver in &people {
        assert!(eventually(60, async || has_push(&driver.phone_token, &order_id, "order.offered").await).await);
    }
    for (driver, truck) in people.iter().zip(&ids).take(5) {
        assert_eq!(truck_step(api, driver, &order_id, truck, "accept").await.status, 200);
    }

    // WHEN the customer cancels the order
    let cancelled = api.call("POST", &format!("/v1/orders/{order_id}/cancel"), Some(&customer), None).await;
    assert_eq!((cancelled.status, cancelled.body["status"].as_str()), (200, Some("cancelled")), "{cancelled:?}");

    // THEN every truck ends cancelled: the 7 that searched and the 5 on their way
    let done =
        eventually(60, async || statuses(&read(api, &customer, &order_id).await).get("cancelled") == Some(&12)).await;
    assert!(done, "{:?}", statuses(&read(api, &customer, &order_id).await));
    // AND each of the 5 is told their trip is cancelled, and each of the 7 others drops the offer
    for driver in &people[..5] {
        assert!(eventually(60, async || has_push(&driver.phone_token, &order_id, "order.truck-cancelled").await).await);
    }
    for driver in &people[5..] {
        assert!(eventually(60, async || has_push(&driver.phone_token, &order_id, "order.withdrawn").await).await);
    }
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    for (i, driver) in people.iter().enumerate() {
        let pushed = kinds(&driver.phone_token, &order_id).await;
        let expected_last = if i < 5 { "order.truck-cancelled" } else { "order.withdrawn" };
        assert_eq!(pushed.keys().collect::<Vec<_>>(), ["order.offered", expected_last], "{}: {pushed:?}", driver.id);
        // Shown pushes come once; a data-only withdrawal skips the push log and may come again.
        assert_eq!(pushed["order.offered"], 1, "{}: {pushed:?}", driver.id);
        if i < 5 {
            assert_eq!(pushed[expected_last], 1, "{}: {pushed:?}", driver.id);
        }
    }
    // AND the five can take other work: one accepts a new booking there
    let booking = book(api, &customer, centre).await;
    assert!(eventually(60, async || step(api, &people[0], &booking, "accept").await.status == 200).await);
}

#[tokio::test]
async fn an_order_is_fulfilled_once_every_truck_is_taken_and_completed_once_every_truck_delivered() {
    // GIVEN a 2-tipper order offered to two drivers
    let stack = TripStack::start(9052, 120, &[]).await;
    let api = &stack.api;
    let centre = private_city();
    let people = drivers(api, &[centre, north(centre, 0.5)]).await;
    let customer = User::with_phone(api, "customer").await;
    let order_id = order(api, &customer, centre, 2).await;
    let ids = trucks(api, &customer, &order_id, 2).await;
    for driver in &people {
        assert!(eventually(60, async || has_push(&driver.phone_token, &order_id, "order.offered").await).await);
    }

    // WHEN each takes a truck THEN the order is fulfilled
    for (driver, truck) in people.iter().zip(&ids) {
        assert_eq!(truck_step(api, driver, &order_id, truck, "accept").await.status, 200);
    }
    assert_eq!(read(api, &customer, &order_id).await["status"], "fulfilled");

    // WHEN both take their truck through the trip, an out-of-order step refused on the way
    let early = truck_step(api, &people[0], &order_id, &ids[0], "deliver").await;
    assert_eq!((early.status, early.body["error"]["currentStatus"].as_str()), (409, Some("accepted")));
    for (driver, truck) in people.iter().zip(&ids) {
        for verb in ["arrive", "pickup", "deliver"] {
            assert_eq!(truck_step(api, driver, &order_id, truck, verb).await.status, 200, "{verb}");
        }
    }

    // THEN it is completed, and the customer heard each step of each truck once
    assert_eq!(read(api, &customer, &order_id).await["status"], "completed");
    let each: BTreeMap<String, usize> =
        ["order.truck-accepted", "order.truck-arrived", "order.truck-picked-up", "order.truck-delivered"]
            .map(|k| (k.into(), 2))
            .into();
    assert!(eventually(60, async || kinds(&customer.phone_token, &order_id).await == each).await);
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    assert_eq!(kinds(&customer.phone_token, &order_id).await, each);
}

#[tokio::test]
async fn a_line_nobody_takes_expires_and_the_customer_is_told_which_line_once() {
    // GIVEN an 8 s offer window, a driver near who takes one of three tippers, and nobody else;
    // the sweeper stopped until the accept, so a slow push on a busy machine cannot let the
    // windows pass first
    let mut stack = TripStack::start(9053, 8, &[]).await;
    stack.sweeper = None;
    let api = &stack.api;
    let centre = private_city();
    let driver = drivers(api, &[centre]).await.remove(0);
    let customer = User::with_phone(api, "customer").await;
    let order_id = order(api, &customer, centre, 3).await;
    let ids = trucks(api, &customer, &order_id, 3).await;
    assert!(eventually(60, async || has_push(&driver.phone_token, &order_id, "order.offered").await).await);
    assert_eq!(truck_step(api, &driver, &order_id, &ids[0], "accept").await.status, 200);

    // WHEN the sweeper runs and two windows pass (180 s: its first sweep also fires every deadline
    // the earlier flows of the suite left due, hundreds of them, before it gets to these)
    stack.sweeper = Some(Schedule::start("deadline-sweeper", 1, &stack.functions.url));
    let expired =
        eventually(180, async || statuses(&read(api, &customer, &order_id).await).get("expired") == Some(&2)).await;

    // THEN the other two trucks expired, the order is fulfilled by the one truck on its way, and
    // the customer was told once that line 1 found nobody
    assert!(expired, "{:?}", statuses(&read(api, &customer, &order_id).await));
    assert_eq!(read(api, &customer, &order_id).await["status"], "fulfilled");
    assert!(eventually(30, async || has_push(&customer.phone_token, &order_id, "order.line-expired").await).await);
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let told = pushes_about(&customer.phone_token, &order_id).await;
    let lines: Vec<&Value> =
        told.iter().filter(|(k, _)| k == "order.line-expired").map(|(_, m)| &m["data"]["line"]).collect();
    assert_eq!(lines, [&Value::String("1".into())]);
    // AND once the driver delivers, the order is completed
    for verb in ["arrive", "pickup", "deliver"] {
        assert_eq!(truck_step(api, &driver, &order_id, &ids[0], verb).await.status, 200, "{verb}");
    }
    assert_eq!(read(api, &customer, &order_id).await["status"], "completed");
}
