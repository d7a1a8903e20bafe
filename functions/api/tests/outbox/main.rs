//! The transactional outbox, with the real broker stopped and started again: bookings and orders are
//! still answered 201 while Kafka is down, and once it is back the relay publishes each event exactly once.
//!
//! This test stops the shared local broker, so it is a test binary of its own: cargo runs test
//! binaries one after another, and the api tests running beside it in one binary would fail while
//! the broker is down (as they once did in CI). It restarts the broker even when it fails.

#[allow(dead_code, unused_imports)] // The api tests' harness; this binary uses part of it.
#[path = "../api/support.rs"]
mod support;

use chrono::Utc;
use std::collections::BTreeMap;
use support::*;

/// Starts the broker again when dropped, so a failing assertion never leaves the stack broken.
struct BrokerStopped;

impl BrokerStopped {
    fn now() -> Self {
        weelo_testkit::local_stack(&["stop-kafka"]);
        Self
    }
}

impl Drop for BrokerStopped {
    fn drop(&mut self) {
        weelo_testkit::local_stack(&["start-kafka"]);
    }
}

#[tokio::test]
async fn bookings_and_orders_made_while_kafka_is_down_are_published_exactly_once_after_it_returns() {
    // GIVEN the api running as deployed (its publish timeout the stack's) and then the broker stopped
    let app = ApiClient::in_process().await;
    let customer = User::customer();
    let driver = User::transporter();
    let since = Utc::now();
    let broker = BrokerStopped::now();

    // WHEN a customer books three trucks
    let mut booking_ids = Vec::new();
    for _ in 0..3 {
        let response = app.call("POST", "/v1/bookings", Some(&customer), Some(booking_body())).await;
        // THEN each booking is still answered 201
        assert_eq!(response.status, 201, "{}", response.body);
        booking_ids.push(response.body["bookingId"].as_str().unwrap().to_owned());
    }
    // AND orders the same way
    let mut order_ids = Vec::new();
    for _ in 0..2 {
        let response = app.call("POST", "/v1/orders", Some(&customer), Some(order_body())).await;
        assert_eq!(response.status, 201, "{}", response.body);
        order_ids.push(response.body["orderId"].as_str().unwrap().to_owned());
    }
    // AND GPS points, which skip the outbox, are refused with 503 so the app retries them
    let point = serde_json::json!({ "lat": 19.0, "lng": 72.8, "recordedAt": Utc::now().to_rfc3339() });
    let refused = app.call("POST", "/v1/tracking/location", Some(&driver), Some(point)).await;
    assert_eq!(refused.status, 503);
    assert_eq!(refused.headers.get("retry-after").unwrap(), "1");

    // WHEN the broker is back and the outbox-relay function runs on its schedule
    let last_created = Utc::now();
    drop(broker);
    // A broker that has just restarted may take longer than the api's publish limit to answer the
    // first produce; a publish that times out after the broker stored it would be published again
    // by the next pass (consumers deduplicate, but this test counts copies), so the relay waits.
    let mut settings = weelo_outbox_relay::Settings::from_env().unwrap();
    settings.kafka.publish_timeout = std::time::Duration::from_secs(30);
    let relay = weelo_outbox_relay::connect(&settings).await.expect("the relay starts");
    // The relay leaves events younger than its grace to the api: once the last one is older, one
    // pass takes them all, and passes go on until one finds nothing left (or a publish failed).
    let (mut published, mut passes, mut drained) = (0, 0, false);
    while !drained && passes < 30 {
        let wait = (last_created + settings.grace - Utc::now()).to_std().unwrap_or_default();
        tokio::time::sleep(wait.max(std::time::Duration::from_secs(1))).await;
        let pass = relay.run_once().await.unwrap();
        published += pass.published;
        passes += 1;
        drained = pass.published == 0 && pass.failed == 0;
    }
    assert!(drained, "the relay never found the outbox empty: {published} published in {passes} passes");
    assert!(published >= booking_ids.len() + order_ids.len(), "the relay published {published} events");

    // THEN every booking's and order's event is on its topic exactly once per event id
    let created =
        booking_ids.iter().map(|id| ("booking.events", id)).chain(order_ids.iter().map(|id| ("order.events", id)));
    for (topic, aggregate_id) in created {
        let records = records_with_key(topic, aggregate_id, since, 1).await;
        let mut per_event: BTreeMap<String, usize> = BTreeMap::new();
        for record in &records {
            *per_event.entry(event_id(record)).or_default() += 1;
        }
        assert_eq!(per_event.len(), 1, "{topic} {aggregate_id}: {per_event:?}");
        assert!(per_event.values().all(|count| *count == 1), "{topic} {aggregate_id}: {per_event:?}");
    }
}

/// The CloudEvents `id` of a record.
fn event_id(record: &weelo_msk::ConsumedRecord) -> String {
    cloud_event(record)["id"].as_str().expect("an id").to_owned()
}
