//! The authorization matrix: every route × {no token, expired token, bad signature, wrong role,
//! another user's resource}, each request carrying a body that would be accepted from the right
//! caller. Each is refused with its status (401 / 403 / 404) and, checked after all of them,
//! nothing was written: no DynamoDB write names any identity or resource involved (the emulator's
//! write journal, see `localstack/moto_serialized.py`), no event about them reached Kafka, and no
//! SNS endpoint was created for the device token offered.

use crate::support::*;
use chrono::Utc;
use serde_json::{Value, json};
use weelo_api::router::ROUTES;
use weelo_core::contract::events::Topic;
use weelo_core::model::ids::{OrderId, TruckRequestId};
use weelo_core::model::trip::OfferTimes;
use weelo_core::ports::{BookingStore, DeviceStore, OfferStore, OfferSubject, OrderStore};

/// Who a route is for, and whether it names a resource that belongs to someone.
struct RouteRule {
    role: Option<&'static str>,
    owned_resource: bool,
}

fn rule(method: &str, template: &str) -> RouteRule {
    let role = match (method, template) {
        ("PUT", "/v1/transporters/me")
        | ("POST", "/v1/tracking/location")
        | ("GET", "/v1/trips")
        | ("GET", "/v1/offers")
        | ("POST", "/v1/bookings/{bookingId}/accept")
        | ("POST", "/v1/bookings/{bookingId}/arrive")
        | ("POST", "/v1/bookings/{bookingId}/pickup")
        | ("POST", "/v1/bookings/{bookingId}/deliver")
        | ("POST", "/v1/bookings/{bookingId}/release")
        | ("POST", "/v1/orders/{orderId}/truck-requests/{truckRequestId}/accept")
        | ("POST", "/v1/orders/{orderId}/truck-requests/{truckRequestId}/arrive")
        | ("POST", "/v1/orders/{orderId}/truck-requests/{truckRequestId}/pickup")
        | ("POST", "/v1/orders/{orderId}/truck-requests/{truckRequestId}/deliver")
        | ("POST", "/v1/orders/{orderId}/truck-requests/{truckRequestId}/release") => Some("transporter"),
        ("POST", "/v1/bookings")
        | ("GET", "/v1/bookings")
        | ("POST", "/v1/bookings/{bookingId}/cancel")
        | ("GET", "/v1/bookings/{bookingId}/location")
        | ("POST", "/v1/orders")
        | ("GET", "/v1/orders")
        | ("POST", "/v1/orders/{orderId}/cancel")
        | ("POST", "/v1/bookings/{bookingId}/share")
        | ("DELETE", "/v1/bookings/{bookingId}/share/{shareId}") => Some("customer"),
        ("POST", "/v1/devices")
        | ("DELETE", "/v1/devices/{deviceId}")
        | ("GET", "/v1/bookings/{bookingId}")
        | ("GET", "/v1/bookings/{bookingId}/track")
        | ("GET", "/v1/orders/{orderId}")
        | ("GET", "/v1/orders/{orderId}/truck-requests/{truckRequestId}/track") => None,
        other => panic!("the authorization matrix has no rule for {other:?}: add one"),
    };
    RouteRule { role, owned_resource: template.contains('{') }
}

/// A well-formed token whose signature does not verify.
fn forged(token: &str) -> String {
    let mut chars: Vec<char> = token.chars().collect();
    let at = chars.len() - 5;
    chars[at] = if chars[at] == 'A' { 'B' } else { 'A' };
    chars.into_iter().collect()
}

/// The emulator's numbered write journal: the writes after `after` whose request names `text`.
async fn writes_naming(text: &str, after: u64) -> (u64, Vec<Value>) {
    let base = std::env::var("AWS_ENDPOINT_URL_DYNAMODB").expect("AWS_ENDPOINT_URL_DYNAMODB");
    assert!(text.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'), "{text:?} would need URL encoding");
    let answer: Value = reqwest::get(format!("{base}/_weelo/writes?after={after}&containing={text}"))
        .await
        .expect("the DynamoDB emulator answers")
        .json()
        .await
        .expect("a JSON answer");
    (answer["last"].as_u64().unwrap(), answer["matches"].as_array().cloned().unwrap_or_default())
}

async fn sns_endpoints_with_token(token: &str) -> usize {
    weelo_testkit::sns_platform_endpoints().await.iter().filter(|e| e["token"].as_str() == Some(token)).count()
}

#[tokio::test]
async fn every_route_refuses_every_wrong_caller_and_nothing_is_written() {
    // GIVEN a customer with a registered phone, their booking offered to one transporter, and
    // their order whose first line (holding the truck request below) is offered to the same one
    let app = spawn_app().await;
    let (owner, offered) = (User::customer(), User::transporter());
    let phone = json!({ "platform": "android", "token": owner.phone_token });
    let device = app.call("POST", "/v1/devices", Some(&owner), Some(phone)).await;
    assert_eq!(device.status, 201, "{}", device.body);
    let device_id = weelo_core::model::ids::DeviceId::parse(device.body["deviceId"].as_str().unwrap()).unwrap();
    let booking = app.call("POST", "/v1/bookings", Some(&owner), Some(booking_body())).await;
    assert_eq!(booking.status, 201, "{}", booking.body);
    let booking_id = booking.body["bookingId"].as_str().unwrap().to_owned();
    let order = app.call("POST", "/v1/orders", Some(&owner), Some(order_body())).await;
    assert_eq!(order.status, 201, "{}", order.body);
    let order_id = OrderId::parse(order.body["orderId"].as_str().unwrap()).unwrap();
    let store = &app.app().store;
    let view = store.get_order(order_id).await.unwrap().unwrap();
    store.put_truck_requests(&view.order.truck_requests(Utc::now(), &OfferTimes::default())).await.unwrap();
    let truck_request = TruckRequestId::derive(order_id, 0, 1);
    let booking_key = weelo_core::model::ids::BookingId::parse(&booking_id).unwrap();
    store.put_offers(OfferSubject::Booking(booking_key), &[offered.user_id()], Utc::now()).await.unwrap();
    store.put_offers(OfferSubject::OrderLine(order_id, 0), &[offered.user_id()], Utc::now()).await.unwrap();
    let shared = app.call("POST", &format!("/v1/bookings/{booking_id}/share"), Some(&owner), None).await;
    assert_eq!(shared.status, 201, "{}", shared.body);
    let share_id = shared.body["shareId"].as_str().unwrap().to_owned();
    let booking_before = store.get_booking(booking_key).await.unwrap();
    let order_before = store.get_order(order_id).await.unwrap().unwrap();
    // The journal sees writes (so "no write" below can fail): the booking's own creation is in it.
    let (_, creation) = writes_naming(&booking_id, 0).await;
    assert!(!creation.is_empty(), "the write journal did not record the booking's creation");
    let (mark, _) = writes_naming("", u64::MAX).await;
    let since = Utc::now();
    let device_token = unique("fcm-token");

    // WHEN every route is called by every kind of wrong caller, each with a body the right caller
    // would have had accepted
    let mut strangers: Vec<String> = Vec::new();
    let mut refusals = 0;
    for (method, template) in ROUTES.iter().filter(|(_, path)| !["/v1/health", "/track"].contains(path)) {
        let rule = rule(method, template);
        let path = template
            .replace("{bookingId}", &booking_id)
            .replace("{orderId}", &order_id.to_string())
            .replace("{truckRequestId}", &truck_request.to_string())
            .replace("{deviceId}", &device_id.to_string())
            .replace("{shareId}", &share_id);
        let body = match *template {
            "/v1/devices" => json!({ "platform": "android", "token": device_token }),
            "/v1/transporters/me" => json!({ "vehicleTypes": ["tipper"], "available": true }),
            "/v1/tracking/location" => json!({ "lat": 19.07, "lng": 72.87, "recordedAt": Utc::now().to_rfc3339() }),
            "/v1/bookings" => booking_body(),
            "/v1/orders" => order_body(),
            _ => json!({}),
        };
        // The legitimate caller of this route, whose identity the 401 tokens claim.
        let rightful = if rule.role == Some("transporter") { &offered } else { &owner };
        let rightful_role = rule.role.unwrap_or("customer");
        let mut cases: Vec<(&str, Option<String>, u16)> = vec![
            ("no token", None, 401),
            ("expired token", Some(token_for(&rightful.id, rightful_role, -3600)), 401),
            ("bad signature", Some(forged(&token_for(&rightful.id, rightful_role, 3600))), 401),
        ];
        if let Some(role) = rule.role {
            let wrong = if role == "customer" { "transporter" } else { "customer" };
            let stranger = unique(wrong);
            cases.push(("wrong role", Some(token_for(&stranger, wrong, 3600)), 403));
            strangers.push(stranger);
        }
        if rule.owned_resource {
            // A route either role may call is refused to a stranger of each role.
            for role in rule.role.map_or(vec!["customer", "transporter"], |role| vec![role]) {
                let stranger = unique(role);
                cases.push(("another user's resource", Some(token_for(&stranger, role, 3600)), 404));
                strangers.push(stranger);
            }
        }
        for (case, token, status) in cases {
            let mut headers = vec![("content-type".to_owned(), "application/json".to_owned())];
            if let Some(token) = token {
                headers.push(("authorization".to_owned(), format!("Bearer {token}")));
            }
            let response = app.call_raw(method, &path, &headers, &body.to_string()).await;
            assert_eq!(response.status, status, "{method} {template}, {case}: {}", response.body);
            assert!(!response.error_code().is_empty(), "{method} {template}, {case}: no error code");
            refusals += 1;
        }
    }

    // THEN 135 requests were refused, and nothing names the owner, the offered transporter, any
    // stranger, the booking, the order, the truck request, the device or the shared link in a
    // write since the mark
    assert_eq!(refusals, 135);
    let mut names: Vec<String> = vec![
        owner.id.clone(),
        offered.id.clone(),
        booking_id.clone(),
        order_id.to_string(),
        truck_request.to_string(),
        device_token.clone(),
        device_id.to_string(),
        share_id.clone(),
    ];
    names.extend(strangers);
    for name in &names {
        let (_, writes) = writes_naming(name, mark).await;
        assert!(writes.is_empty(), "a refused request wrote about {name}: {writes:?}");
    }
    // AND the booking and the order are exactly as they were
    assert_eq!(store.get_booking(booking_key).await.unwrap(), booking_before);
    assert_eq!(store.get_order(order_id).await.unwrap().unwrap(), order_before);
    // AND no event about any of them was published, and SNS holds no endpoint for the device token
    for topic in Topic::ALL {
        let names = names.clone();
        let events =
            records_matching(topic.name(), since, 0, move |r| names.iter().any(|n| r.value_text().contains(n))).await;
        assert!(events.is_empty(), "a refused request published on {}: {:?}", topic.name(), events[0].value_text());
    }
    assert_eq!(sns_endpoints_with_token(&device_token).await, 0);
    // AND the shared link still opens (nobody revoked it)
    let share = weelo_core::model::ids::ShareId::parse(&share_id).unwrap();
    assert!(weelo_core::ports::ShareStore::get_share(store, &share).await.unwrap().is_some());
    // AND the owner's phone is still registered, its endpoint still there
    assert!(store.get_device(&owner.user_id(), device_id).await.unwrap().is_some());
    assert_eq!(sns_endpoints_with_token(&owner.phone_token).await, 1);
}
