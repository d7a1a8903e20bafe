//! A booking's trip through the api: the transporter's steps in order and only in order, release,
//! the customer's cancel, and a transporter busy on one trip.

use crate::support::*;
use chrono::Utc;
use weelo_core::ServiceError;
use weelo_core::model::booking::Booking;
use weelo_core::model::trip::{OfferTimes, TripRef, TripStatus, TripStep};
use weelo_core::model::vehicle::VehicleType;
use weelo_core::ports::{OfferStore, OfferSubject, TransporterStore};
use weelo_core::testing::{MemoryStore, RecordingBus};
use weelo_core::usecases::api::{Bookings, Create};

type TestBookings = Bookings<MemoryStore, RecordingBus>;

/// Asha's booking, offered to `drivers` (who have profiles).
async fn offered_booking(drivers: &[&str]) -> (TestBookings, MemoryStore, RecordingBus, String) {
    let (store, bus) = (MemoryStore::new(), RecordingBus::default());
    let bookings = Bookings::new(store.clone(), bus.clone(), OfferTimes::default());
    on_the_road(&store, drivers).await;
    let booking =
        bookings.create(Create::new(&customer("asha"), new_booking(VehicleType::Tipper), None)).await.unwrap().value;
    let offered: Vec<_> = drivers.iter().map(|d| user(d)).collect();
    store.put_offers(OfferSubject::Booking(booking.booking_id), &offered, Utc::now()).await.unwrap();
    (bookings, store, bus, booking.booking_id.to_string())
}

fn conflict_status(result: Result<Booking, ServiceError>) -> Option<&'static str> {
    match result {
        Err(ServiceError::Conflict { current_status, .. }) => current_status,
        other => panic!("expected 409, got {other:?}"),
    }
}

#[tokio::test]
async fn the_transporter_takes_the_trip_step_by_step_and_each_step_out_of_order_is_refused() {
    // GIVEN Kiran accepted Asha's booking
    let (bookings, store, bus, id) = offered_booking(&["kiran"]).await;
    let kiran = transporter("kiran");
    bookings.accept(&kiran, &id).await.unwrap();
    let trip = TripRef::Booking(weelo_core::model::ids::BookingId::parse(&id).unwrap());
    assert_eq!(store.get_profile(&user("kiran")).await.unwrap().unwrap().active_trip, Some(trip));

    // WHEN he tries to deliver or pick up first THEN 409 with the current status
    assert_eq!(conflict_status(bookings.advance(&kiran, &id, TripStep::Deliver).await), Some("accepted"));
    assert_eq!(conflict_status(bookings.advance(&kiran, &id, TripStep::PickUp).await), Some("accepted"));

    // WHEN he arrives, picks up and delivers, each step sent twice
    for step in [TripStep::Arrive, TripStep::PickUp, TripStep::Deliver] {
        let first = bookings.advance(&kiran, &id, step).await.unwrap();
        let again = bookings.advance(&kiran, &id, step).await.unwrap();
        assert_eq!(first, again, "a repeated {step:?} answers the booking unchanged");
    }

    // THEN it is delivered, one event per step, and Kiran is free again
    let delivered = bookings.get(&caller("asha", weelo_core::model::caller::Role::Customer), &id).await.unwrap();
    assert_eq!(delivered.trip.status, TripStatus::Delivered);
    assert!(delivered.trip.milestones.arrived_at <= delivered.trip.milestones.picked_up_at);
    for ty in ["arrived", "picked-up", "delivered"] {
        assert_eq!(bus.of_type(&format!("com.weelo.booking.{ty}.v1")).len(), 1, "{ty}");
    }
    assert_eq!(store.get_profile(&user("kiran")).await.unwrap().unwrap().active_trip, None);
    // AND nothing can happen to it any more
    assert_eq!(conflict_status(bookings.advance(&kiran, &id, TripStep::Release).await), Some("delivered"));
    assert_eq!(conflict_status(bookings.cancel(&customer("asha"), &id).await), Some("delivered"));
}

#[tokio::test]
async fn only_the_transporter_who_holds_the_trip_moves_it() {
    let (bookings, _, _, id) = offered_booking(&["kiran", "meera"]).await;
    bookings.accept(&transporter("kiran"), &id).await.unwrap();

    // Meera was offered it and lost; Vijay never saw it: both are told it is not theirs
    for who in ["meera", "vijay"] {
        let moved = bookings.advance(&transporter(who), &id, TripStep::Arrive).await;
        assert!(matches!(moved, Err(ServiceError::NotFound { .. })), "{who}: {moved:?}");
    }
}

#[tokio::test]
async fn a_release_before_pickup_reopens_the_search_without_the_releaser_and_after_pickup_is_refused() {
    // GIVEN Kiran accepted and arrived
    let (bookings, store, bus, id) = offered_booking(&["kiran", "meera"]).await;
    let kiran = transporter("kiran");
    bookings.accept(&kiran, &id).await.unwrap();
    bookings.advance(&kiran, &id, TripStep::Arrive).await.unwrap();

    // WHEN he releases it (twice: a retry), a moment later (offers are timed to the millisecond)
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let released = bookings.advance(&kiran, &id, TripStep::Release).await.unwrap();
    let retried = bookings.advance(&kiran, &id, TripStep::Release).await.unwrap();

    // THEN it searches again, remembers him, frees him, and he cannot take it back
    assert_eq!(released.trip.status, TripStatus::Searching);
    assert_eq!((released.trip.accepted_by.clone(), released.trip.released_by.clone()), (None, vec![user("kiran")]));
    assert_eq!(retried, released);
    assert_eq!(bus.of_type("com.weelo.booking.released.v1").len(), 1);
    assert_eq!(store.get_profile(&user("kiran")).await.unwrap().unwrap().active_trip, None);
    assert!(matches!(bookings.accept(&kiran, &id).await, Err(ServiceError::NotFound { .. })));

    // AND Meera's offer, made for the search Kiran's acceptance ended, no longer stands; once the
    // new search offers it to her again (the fan-out's part), she takes it, picks it up, and can
    // no longer release it
    let meera = transporter("meera");
    let stale = bookings.accept(&meera, &id).await;
    assert!(matches!(stale, Err(ServiceError::Conflict { code: "offer_withdrawn", .. })), "{stale:?}");
    let subject = OfferSubject::Booking(weelo_core::model::ids::BookingId::parse(&id).unwrap());
    store.put_offers(subject, &[user("meera")], Utc::now() + chrono::Duration::milliseconds(1)).await.unwrap();
    bookings.accept(&meera, &id).await.unwrap();
    bookings.advance(&meera, &id, TripStep::Arrive).await.unwrap();
    bookings.advance(&meera, &id, TripStep::PickUp).await.unwrap();
    assert_eq!(conflict_status(bookings.advance(&meera, &id, TripStep::Release).await), Some("picked_up"));
}

#[tokio::test]
async fn a_transporter_on_a_trip_cannot_accept_another_until_it_is_over() {
    // GIVEN Kiran is offered two bookings and accepted the first
    let (bookings, store, _, first) = offered_booking(&["kiran"]).await;
    let second =
        bookings.create(Create::new(&customer("ravi"), new_booking(VehicleType::Tipper), None)).await.unwrap().value;
    store.put_offers(OfferSubject::Booking(second.booking_id), &[user("kiran")], Utc::now()).await.unwrap();
    let second = second.booking_id.to_string();
    let kiran = transporter("kiran");
    bookings.accept(&kiran, &first).await.unwrap();

    // WHEN he accepts the second THEN 409 transporter_busy, and the second is still searching
    match bookings.accept(&kiran, &second).await {
        Err(ServiceError::Conflict { code, .. }) => assert_eq!(code, "transporter_busy"),
        other => panic!("{other:?}"),
    }
    let ravi = caller("ravi", weelo_core::model::caller::Role::Customer);
    assert_eq!(bookings.get(&ravi, &second).await.unwrap().trip.status, TripStatus::Searching);

    // AND once the first is cancelled by its customer, he may
    bookings.cancel(&customer("asha"), &first).await.unwrap();
    assert_eq!(bookings.accept(&kiran, &second).await.unwrap().trip.status, TripStatus::Accepted);
}

#[tokio::test]
async fn a_transporter_without_a_profile_is_asked_to_set_one_before_accepting() {
    let (bookings, store, _, id) = offered_booking(&[]).await;
    let booking = weelo_core::model::ids::BookingId::parse(&id).unwrap();
    store.put_offers(OfferSubject::Booking(booking), &[user("newbie")], Utc::now()).await.unwrap();

    match bookings.accept(&transporter("newbie"), &id).await {
        Err(ServiceError::Conflict { code, .. }) => assert_eq!(code, "profile_required"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn the_customer_cancels_until_pickup_and_a_cancel_racing_a_pickup_has_one_winner() {
    // GIVEN Kiran arrived at Asha's pickup
    let (bookings, _, _, id) = offered_booking(&["kiran"]).await;
    let kiran = transporter("kiran");
    bookings.accept(&kiran, &id).await.unwrap();
    bookings.advance(&kiran, &id, TripStep::Arrive).await.unwrap();

    // WHEN Asha cancels while Kiran marks it picked up
    let asha = customer("asha");
    let (cancel, pickup) = tokio::join!(bookings.cancel(&asha, &id), bookings.advance(&kiran, &id, TripStep::PickUp));

    // THEN exactly one of them wins, and the other is told the status that won
    match (cancel, pickup) {
        (Ok(cancelled), Err(ServiceError::Conflict { current_status, .. })) => {
            assert_eq!((cancelled.trip.status, current_status), (TripStatus::Cancelled, Some("cancelled")))
        }
        (Err(ServiceError::Conflict { current_status, .. }), Ok(picked)) => {
            assert_eq!((picked.trip.status, current_status), (TripStatus::PickedUp, Some("picked_up")))
        }
        other => panic!("not exactly one winner: {other:?}"),
    }
}
