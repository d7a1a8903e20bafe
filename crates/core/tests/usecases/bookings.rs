//! Bookings: idempotent creates, who may see a booking, the accept race, and the outbox when the
//! broker is down.

use crate::support::*;
use chrono::{Duration, Utc};
use weelo_core::ServiceError;
use weelo_core::model::caller::Role;
use weelo_core::model::trip::OfferTimes;
use weelo_core::model::vehicle::VehicleType;
use weelo_core::ports::{IdempotencyRecord, OfferStore, OfferSubject};
use weelo_core::testing::{MemoryStore, RecordingBus};
use weelo_core::usecases::api::{Bookings, Create};
use weelo_core::usecases::outbox_relay::OutboxRelay;

fn bookings() -> (Bookings<MemoryStore, RecordingBus>, MemoryStore, RecordingBus) {
    let (store, bus) = (MemoryStore::new(), RecordingBus::default());
    (Bookings::new(store.clone(), bus.clone(), OfferTimes::default()), store, bus)
}

#[tokio::test]
async fn the_same_idempotency_key_and_request_replays_the_first_answer_and_writes_once() {
    // GIVEN a booking made with an Idempotency-Key
    let (bookings, store, bus) = bookings();
    let asha = customer("asha");
    let first = bookings.create(Create::new(&asha, new_booking(VehicleType::Tipper), Some(&key("k-1")))).await.unwrap();

    // WHEN the same request comes again with the same key
    let again = bookings.create(Create::new(&asha, new_booking(VehicleType::Tipper), Some(&key("k-1")))).await.unwrap();

    // THEN the first answer is replayed, and one booking and one event exist
    assert!(!first.replayed && again.replayed);
    assert_eq!(again.value, first.value);
    assert_eq!(store.outbox().len(), 1);
    assert_eq!(bus.of_type(CREATED).len(), 1);
}

#[tokio::test]
async fn the_same_key_with_another_request_is_a_conflict_and_writes_nothing() {
    let (bookings, store, _) = bookings();
    let asha = customer("asha");
    bookings.create(Create::new(&asha, new_booking(VehicleType::Tipper), Some(&key("k-1")))).await.unwrap();

    let other = bookings.create(Create::new(&asha, new_booking(VehicleType::Open), Some(&key("k-1")))).await;

    assert!(matches!(other, Err(ServiceError::Conflict { code: "idempotency_key_reused", .. })), "{other:?}");
    assert_eq!(store.outbox().len(), 1);
}

#[tokio::test]
async fn a_key_is_private_to_its_user_and_forgotten_after_a_day() {
    // GIVEN a key Asha used 25 hours ago
    let (bookings, store, _) = bookings();
    let asha = customer("asha");
    let first = bookings.create(Create::new(&asha, new_booking(VehicleType::Tipper), Some(&key("k-1")))).await.unwrap();
    store.put_idempotency(IdempotencyRecord {
        scoped_key: "asha#create-booking#k-old".into(),
        request_hash: "whatever".into(),
        receipt: serde_json::to_string(&first.value).unwrap(),
        created_at: Utc::now() - Duration::hours(25),
    });

    // WHEN Asha uses it again, and Ravi uses Asha's fresh key
    let old = bookings.create(Create::new(&asha, new_booking(VehicleType::Tipper), Some(&key("k-old")))).await.unwrap();
    let ravis = bookings
        .create(Create::new(&customer("ravi"), new_booking(VehicleType::Tipper), Some(&key("k-1"))))
        .await
        .unwrap();

    // THEN both make new bookings
    assert!(!old.replayed && !ravis.replayed);
    assert_ne!(old.value.booking_id, first.value.booking_id);
    assert_ne!(ravis.value.booking_id, first.value.booking_id);
    assert_eq!(store.outbox().len(), 3);
}

#[tokio::test]
async fn a_booking_is_visible_to_its_owner_and_offered_transporters_and_only_the_winner_sees_who_won() {
    // GIVEN Asha's booking offered to two transporters, one of whom accepted it
    let (bookings, store, _) = bookings();
    on_the_road(&store, &["kiran", "meera"]).await;
    let booking =
        bookings.create(Create::new(&customer("asha"), new_booking(VehicleType::Tipper), None)).await.unwrap().value;
    let id = booking.booking_id.to_string();
    let offered = [user("kiran"), user("meera")];
    store.put_offers(OfferSubject::Booking(booking.booking_id), &offered, Utc::now()).await.unwrap();
    bookings.accept(&transporter("kiran"), &id).await.unwrap();

    // THEN the owner and both offered transporters see it; only the owner and the winner see who won
    let seen_by = |who: &str, role| {
        let bookings = &bookings;
        let id = id.clone();
        let who = who.to_owned();
        async move { bookings.get(&caller(&who, role), &id).await }
    };
    assert_eq!(seen_by("asha", Role::Customer).await.unwrap().trip.accepted_by, Some(user("kiran")));
    assert_eq!(seen_by("kiran", Role::Transporter).await.unwrap().trip.accepted_by, Some(user("kiran")));
    assert_eq!(seen_by("meera", Role::Transporter).await.unwrap().trip.accepted_by, None);
    // AND anyone else is told it does not exist
    for (who, role) in [("ravi", Role::Customer), ("vijay", Role::Transporter)] {
        assert!(matches!(seen_by(who, role).await, Err(ServiceError::NotFound { .. })), "{who}");
    }
}

#[tokio::test]
async fn a_second_accept_is_refused_with_the_current_status_and_publishes_nothing() {
    let (bookings, store, bus) = bookings();
    on_the_road(&store, &["kiran", "meera"]).await;
    let booking =
        bookings.create(Create::new(&customer("asha"), new_booking(VehicleType::Tipper), None)).await.unwrap().value;
    let offered = [user("kiran"), user("meera")];
    store.put_offers(OfferSubject::Booking(booking.booking_id), &offered, Utc::now()).await.unwrap();
    let id = booking.booking_id.to_string();

    bookings.accept(&transporter("kiran"), &id).await.unwrap();
    let late = bookings.accept(&transporter("meera"), &id).await;

    match late {
        Err(ServiceError::Conflict { code, message, current_status }) => {
            assert_eq!((code, message.as_str()), ("booking_unavailable", "the booking is accepted"));
            assert_eq!(current_status, Some("accepted"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(bus.of_type(ACCEPTED).len(), 1);
}

#[tokio::test]
async fn a_booking_made_while_the_broker_is_down_is_answered_and_published_later_by_the_relay() {
    // GIVEN the broker is down
    let (bookings, store, bus) = bookings();
    bus.fail(true);

    // WHEN a customer books
    let created = bookings.create(Create::new(&customer("asha"), new_booking(VehicleType::Tipper), None)).await;

    // THEN the booking is made and its event waits in the outbox
    assert!(created.is_ok());
    assert_eq!((store.unsent().len(), bus.published().len()), (1, 0));

    // AND once the broker is back, the relay publishes it exactly once
    bus.fail(false);
    let relay = OutboxRelay::new(store.clone(), bus.clone(), Duration::zero(), 10);
    assert_eq!(relay.run_once().await.unwrap().published, 1);
    assert_eq!(relay.run_once().await.unwrap().published, 0);
    assert_eq!(bus.of_type(CREATED).len(), 1);
    assert!(store.unsent().is_empty());
}
