//! Pushes: once per (notification, device) whatever the redeliveries; a push a crashed delivery
//! claimed is still sent; a transient failure is retried; a dead phone is forgotten.

use crate::support::*;
use chrono::{Duration, Utc};
use std::collections::BTreeMap;
use weelo_core::contract::events::{BookingChanged, DomainEvent, FcmNotification};
use weelo_core::contract::pushes::conforms;
use weelo_core::model::device::{Device, Platform};
use weelo_core::model::ids::{DeviceId, EventId};
use weelo_core::model::trip::{OfferTimes, TripStatus, TripStep};
use weelo_core::ports::DeviceStore;
use weelo_core::testing::{MemoryStore, RecordingSender, SendBehaviour};
use weelo_core::usecases::push::{DeliveryError, Push};

async fn phone(store: &MemoryStore, owner: &str, token: &str) -> Device {
    let device = Device {
        user_id: user(owner),
        device_id: DeviceId::derive(&user(owner), token),
        platform: Platform::Android,
        token: token.to_owned(),
        endpoint_arn: format!("endpoint/{token}"),
        registered_at: Utc::now(),
    };
    assert!(store.put_device_if_absent(&device).await.unwrap());
    device
}

fn offer_for(recipient: &str) -> FcmNotification {
    FcmNotification {
        recipient_id: user(recipient),
        kind: "booking.offered".into(),
        title: "New booking near you".into(),
        body: "A tipper truck is needed 1.2 km from you".into(),
        data: BTreeMap::new(),
        data_only: false,
    }
}

fn push() -> (Push<MemoryStore, RecordingSender>, MemoryStore, RecordingSender) {
    push_with_lease(Duration::seconds(20))
}

fn push_with_lease(lease: Duration) -> (Push<MemoryStore, RecordingSender>, MemoryStore, RecordingSender) {
    let (store, sender) = (MemoryStore::new(), RecordingSender::default());
    (Push::new(store.clone(), sender.clone(), lease), store, sender)
}

#[tokio::test]
async fn a_notification_delivered_three_times_reaches_each_phone_once() {
    let (push, store, sender) = push();
    phone(&store, "kiran", "phone-a").await;
    phone(&store, "kiran", "phone-b").await;
    let id = EventId::generate();

    for _ in 0..3 {
        push.deliver(id, &offer_for("kiran")).await.unwrap();
    }

    let endpoints: Vec<String> = sender.sent().into_iter().map(|(endpoint, _, _)| endpoint).collect();
    assert_eq!(endpoints.len(), 2);
    assert!(endpoints.contains(&"endpoint/phone-a".to_owned()) && endpoints.contains(&"endpoint/phone-b".to_owned()));
}

#[tokio::test]
async fn a_data_only_push_skips_the_push_log_so_a_redelivery_reaches_the_app_again() {
    // GIVEN Kiran's phone, and the data-only push taking an offer back
    let (push, store, sender) = push();
    phone(&store, "kiran", "phone-a").await;
    let mut withdrawal = offer_for("kiran");
    withdrawal.kind = "booking.withdrawn".into();
    withdrawal.data_only = true;
    let id = EventId::generate();

    // WHEN it is delivered twice (a batch retried)
    for _ in 0..2 {
        push.deliver(id, &withdrawal).await.unwrap();
    }

    // THEN each delivery reached the app, under the same id, and nothing was written to the push log
    let sent: Vec<EventId> = sender.sent().into_iter().map(|(_, id, _)| id).collect();
    assert_eq!(sent, [id, id]);
    assert_eq!(store.push_log_len(), 0);
    // AND a visible push still goes through the log, once
    push.deliver(EventId::generate(), &offer_for("kiran")).await.unwrap();
    assert_eq!((store.push_log_len(), sender.sent().len()), (1, 3));
}

#[tokio::test]
async fn a_push_claimed_by_a_delivery_that_crashed_is_sent_by_the_next_under_the_same_id() {
    // GIVEN a delivery that claimed the push to Kiran's phone 30 s ago and died before sending it
    let (push, store, sender) = push();
    let device = phone(&store, "kiran", "phone-a").await;
    let id = EventId::generate();
    store.unconfirmed_claim(&format!("{id}#{}", device.device_id), Duration::seconds(30));

    // WHEN the notification is delivered again, twice
    push.deliver(id, &offer_for("kiran")).await.unwrap();
    push.deliver(id, &offer_for("kiran")).await.unwrap();

    // THEN it is sent once, under the notification's own id (the phone's collapse key)
    let sent = sender.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].1, id);
}

#[tokio::test]
async fn a_delivery_that_finds_another_pushing_waits_for_it_and_pushes_nothing_twice() {
    // GIVEN another delivery that claimed the push a moment ago and is sending it now
    let (push, store, sender) = push();
    let device = phone(&store, "kiran", "phone-a").await;
    let id = EventId::generate();
    let key = format!("{id}#{}", device.device_id);
    store.unconfirmed_claim(&key, Duration::zero());

    // WHEN this delivery runs while the other confirms its push a moment later
    let other = async {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        store.confirm_claim(&key);
    };
    let notification = offer_for("kiran");
    let (report, ()) = tokio::join!(push.deliver(id, &notification), other);

    // THEN this one pushed nothing: the push was the other's
    assert_eq!(report.unwrap().duplicates, 1);
    assert!(sender.sent().is_empty());
}

#[tokio::test]
async fn a_claim_held_past_its_lease_is_taken_over_and_pushed() {
    // GIVEN a claim made a moment ago by a delivery that then died, and a lease of one second
    let (push, store, sender) = push_with_lease(Duration::seconds(1));
    let device = phone(&store, "kiran", "phone-a").await;
    let id = EventId::generate();
    store.unconfirmed_claim(&format!("{id}#{}", device.device_id), Duration::milliseconds(500));

    // WHEN the notification is delivered again
    let report = push.deliver(id, &offer_for("kiran")).await.unwrap();

    // THEN it waited out the lease, took the claim over and pushed once
    assert_eq!(report.delivered, 1);
    assert_eq!(sender.sent().len(), 1);
}

#[tokio::test]
async fn a_transient_failure_fails_the_delivery_and_the_retry_sends_it_once() {
    let (push, store, sender) = push();
    phone(&store, "kiran", "phone-a").await;
    let id = EventId::generate();
    sender.on("endpoint/phone-a", SendBehaviour::Transient);

    let first = push.deliver(id, &offer_for("kiran")).await;
    sender.on("endpoint/phone-a", SendBehaviour::Deliver);
    push.deliver(id, &offer_for("kiran")).await.unwrap();
    push.deliver(id, &offer_for("kiran")).await.unwrap();

    assert!(matches!(first, Err(DeliveryError::Transient { failed: 1 })), "{first:?}");
    assert_eq!(sender.sent().len(), 1);
}

#[tokio::test]
async fn a_phone_whose_endpoint_is_gone_is_forgotten_and_the_others_still_get_theirs() {
    let (push, store, sender) = push();
    phone(&store, "kiran", "dead").await;
    let alive = phone(&store, "kiran", "alive").await;
    sender.on("endpoint/dead", SendBehaviour::Gone);

    let report = push.deliver(EventId::generate(), &offer_for("kiran")).await.unwrap();

    assert_eq!((report.delivered, report.pruned), (1, 1));
    let left: Vec<DeviceId> =
        store.list_devices(&user("kiran")).await.unwrap().into_iter().map(|d| d.device_id).collect();
    assert_eq!(left, [alive.device_id]);
    assert_eq!(sender.sent().len(), 1);
}

#[tokio::test]
async fn the_customer_hears_each_step_of_their_trip_once_and_nothing_of_their_own_cancel() {
    // GIVEN Asha's phone, and her booking taken through its whole trip by Kiran
    let (push, store, sender) = push();
    phone(&store, "asha", "phone-a").await;
    let times = OfferTimes::default();
    let mut booking = booking_of("asha");
    let steps = [TripStep::Accept, TripStep::Arrive, TripStep::PickUp, TripStep::Deliver];
    let mut events = Vec::new();
    for step in steps {
        let previous_status = booking.trip.status;
        booking.trip.take(step, Some(&user("kiran")), Utc::now(), &times).unwrap();
        let changed =
            BookingChanged { step, previous_status, transporter_id: Some(user("kiran")), booking: booking.clone() };
        events.push((EventId::generate(), DomainEvent::BookingChanged(changed)));
    }

    // WHEN each step's event is delivered twice
    for (id, event) in events.iter().chain(events.iter()) {
        push.on_event(*id, event).await.unwrap();
    }

    // THEN she got one push per step, in order, each naming the booking and the transporter
    let kinds: Vec<String> = sender.sent().into_iter().map(|(_, _, n)| n.kind).collect();
    assert_eq!(kinds, ["booking.accepted", "booking.arrived", "booking.picked-up", "booking.delivered"]);
    assert!(sender.sent().iter().all(|(_, _, n)| n.data["transporterId"] == "kiran" && !n.data_only));
    for (_, _, notification) in sender.sent() {
        assert_eq!(conforms(&notification), Ok(()));
    }

    // AND her own cancel of another booking pushes her nothing
    let mut other = booking_of("asha");
    other.trip.take(TripStep::Cancel, None, Utc::now(), &times).unwrap();
    let cancelled = BookingChanged {
        step: TripStep::Cancel,
        previous_status: TripStatus::Searching,
        transporter_id: None,
        booking: other,
    };
    push.on_event(EventId::generate(), &DomainEvent::BookingChanged(cancelled)).await.unwrap();
    assert_eq!(sender.sent().len(), 4);
}

#[tokio::test]
async fn the_customer_hears_when_their_transporter_backs_out_and_when_no_truck_was_found() {
    let (push, store, sender) = push();
    phone(&store, "asha", "phone-a").await;
    let times = OfferTimes::default();
    let mut booking = booking_of("asha");
    booking.trip.take(TripStep::Accept, Some(&user("kiran")), Utc::now(), &times).unwrap();
    let mut events = Vec::new();
    for step in [TripStep::Release, TripStep::Widen, TripStep::Expire] {
        let previous_status = booking.trip.status;
        let transporter_id = booking.trip.accepted_by.clone();
        booking.trip.take(step, None, Utc::now(), &times).unwrap();
        events.push(DomainEvent::BookingChanged(BookingChanged {
            step,
            previous_status,
            transporter_id,
            booking: booking.clone(),
        }));
    }

    for event in &events {
        push.on_event(EventId::generate(), event).await.unwrap();
    }

    // The wider search is not the customer's business; the release names who backed out
    let sent: Vec<FcmNotification> = sender.sent().into_iter().map(|(_, _, n)| n).collect();
    let kinds: Vec<&str> = sent.iter().map(|n| n.kind.as_str()).collect();
    assert_eq!(kinds, ["booking.released", "booking.expired"]);
    assert_eq!(sent[0].data["transporterId"], "kiran");
    assert_eq!(sent[1].title, "No truck found");
    for notification in &sent {
        assert_eq!(conforms(notification), Ok(()));
    }
}
