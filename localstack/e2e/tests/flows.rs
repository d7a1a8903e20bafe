//! End to end over HTTP: api under `cargo lambda watch` → Kafka → the local MSK bridge →
//! location-consumer, order-fanout, fcm-consumer → SNS (moto). Run by `localstack/e2e.sh` (part of
//! `make test`), one test at a time: each test runs a bridge of its own.

use futures::future::join_all;
use serde_json::json;
use std::collections::{BTreeSet, HashMap};
use weelo_core::events::{DomainEvent, FcmNotification};
use weelo_core::ids::{EventId, UserId};
use weelo_core::ports::{EventBus, TransporterStore};
use weelo_e2e::*;
use weelo_testkit::unique;

/// Waits until the location-consumer has stored a position for every one of `people`.
async fn wait_until_located(people: &[Person]) {
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let store = weelo_dynamo::DynamoStore::from_env(&aws).unwrap();
    let ids: Vec<UserId> = people.iter().map(|p| UserId::parse(&p.id).unwrap()).collect();
    let located = eventually(180, async || {
        let lookups = ids.iter().map(|id| store.latest_position(id));
        join_all(lookups).await.iter().all(|r| matches!(r, Ok(Some(_))))
    })
    .await;
    assert!(located, "not every GPS point reached the positions table");
}

fn booking_at(at: (f64, f64), vehicle: &str) -> serde_json::Value {
    json!({"pickup": {"lat": at.0, "lng": at.1}, "drop": {"lat": at.0 + 0.3, "lng": at.1}, "vehicleType": vehicle})
}

#[tokio::test]
async fn a_booking_pushes_once_to_every_matching_transporters_phone_and_to_nobody_else() {
    // GIVEN 200 transporters with phones around one city: 80 near with a tipper and available,
    // 40 far away, 40 near with the wrong truck, 40 near but unavailable
    let api = Api::from_env();
    let _bridge = Bridge::start(&unique("-e2e"));
    settle().await;
    let centre = private_city();
    let far_centre = (centre.0 + 1.5, centre.1);
    let groups: [(usize, (f64, f64), &str, bool); 4] = [
        (80, centre, "tipper", true),
        (40, far_centre, "tipper", true),
        (40, centre, "container", true),
        (40, centre, "tipper", false),
    ];
    let mut everyone: Vec<(Person, bool)> = Vec::new();
    for (n, place, vehicle, available) in groups {
        let people = join_all((0..n).map(|_| Person::new(&api, "transporter"))).await;
        join_all(people.iter().zip(around(place, 0.04, n)).map(|(p, at)| p.drive(&api, vehicle, available, at))).await;
        let matching = place == centre && vehicle == "tipper" && available;
        everyone.extend(people.into_iter().map(|p| (p, matching)));
    }
    wait_until_located(&everyone.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>()).await;

    // WHEN a customer books a tipper in the city centre
    let customer = Person::new(&api, "customer").await;
    let booked = api.call("POST", "/v1/bookings", &customer.token, Some(booking_at(centre, "tipper"))).await;
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
    let api = Api::from_env();
    let _bridge = Bridge::start(&unique("-e2e"));
    settle().await;
    let centre = private_city();
    let drivers = join_all((0..20).map(|_| Person::new(&api, "transporter"))).await;
    join_all(drivers.iter().zip(around(centre, 0.03, 20)).map(|(p, at)| p.drive(&api, "open", true, at))).await;
    wait_until_located(&drivers).await;
    let customer = Person::new(&api, "customer").await;
    let booked = api.call("POST", "/v1/bookings", &customer.token, Some(booking_at(centre, "open"))).await;
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
    let answers = join_all(drivers.iter().map(|d| api.call("POST", &path, &d.token, None))).await;

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
async fn killing_the_bridge_mid_batch_loses_nothing_and_pushes_nothing_twice() {
    // GIVEN a user with a phone, a bridge running, and 400 notifications for them on the topic
    let api = Api::from_env();
    let groups = unique("-e2e");
    let bridge = Bridge::start(&groups);
    settle().await;
    let user = Person::new(&api, "customer").await;
    let run = unique("run");
    let bus = weelo_kafka::KafkaEventBus::connect(&weelo_kafka::KafkaConfig::from_env().unwrap()).await.unwrap();
    let records: Vec<_> = (0..400)
        .map(|n| {
            DomainEvent::NotificationFcm(FcmNotification {
                recipient_id: UserId::parse(&user.id).unwrap(),
                kind: "test".into(),
                title: "t".into(),
                body: format!("{run} #{n}"),
                data: HashMap::<String, String>::new().into_iter().collect(),
            })
            .to_record(EventId::generate(), "/e2e", chrono::Utc::now())
        })
        .collect();
    bus.publish(&records).await.unwrap();

    // WHEN the bridge is killed once the first pushes arrive, and started again
    let started =
        eventually(120, async || pushes_by_phone(&run).await.get(&user.phone_token).copied().unwrap_or(0) > 0).await;
    assert!(started, "no push arrived");
    bridge.kill();
    let _restarted = Bridge::start(&groups);

    // THEN all 400 arrive, each exactly once
    let all =
        eventually(180, async || pushes_by_phone(&run).await.get(&user.phone_token).copied().unwrap_or(0) >= 400).await;
    assert!(all, "not every notification was pushed after the restart");
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    assert_eq!(pushes_by_phone(&run).await.get(&user.phone_token), Some(&400));
}
