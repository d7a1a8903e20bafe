//! Offers after the fact: withdrawn once when a booking is accepted (a push, no write), offered
//! again to the others when it is released (an offer made before then no longer stands), widened
//! at once when nobody is near, never offered to a busy transporter.

use crate::support::*;
use crate::world::{World, recipients};
use std::collections::BTreeSet;
use weelo_core::model::transporter::TransporterProfile;
use weelo_core::model::trip::{TripStatus, TripStep};
use weelo_core::ports::{BookingStore, OfferState, OfferStore, OfferSubject, TransporterStore};

#[tokio::test]
async fn an_accepted_booking_is_withdrawn_once_from_every_other_offered_transporter() {
    // GIVEN a booking offered to three drivers
    let world = World::new();
    for (id, metres) in [("kiran", 100.0), ("meera", 200.0), ("vijay", 300.0)] {
        world.driver(id, metres).await;
    }
    let booking = world.book().await;
    assert_eq!(recipients(&world.notifications("booking.offered")).len(), 3);

    // WHEN Kiran accepts, and the accepted event reaches the fan-out twice
    world.bookings.accept(&transporter("kiran"), &booking.to_string()).await.unwrap();
    world.deliver("com.weelo.booking.accepted.v1").await;
    world.deliver("com.weelo.booking.accepted.v1").await;

    // THEN Meera and Vijay get one data-only withdrawal each (the same ids both times), Kiran none
    let withdrawn = world.notifications("booking.withdrawn");
    assert_eq!(recipients(&withdrawn), BTreeSet::from(["meera".to_owned(), "vijay".to_owned()]));
    assert_eq!(withdrawn.iter().map(|(id, _)| *id).collect::<BTreeSet<_>>().len(), 2, "one id per transporter");
    assert!(withdrawn.iter().all(|(_, n)| n.data_only && n.data["reason"] == "accepted"));
    // AND their offers are left in the table as they were (no write a withdrawn offer): the
    // booking no longer searching is what refuses a late accept, with its status
    let mut offered = world.store.offered_to(OfferSubject::Booking(booking)).await.unwrap();
    offered.sort();
    assert_eq!(offered, [user("kiran"), user("meera"), user("vijay")]);
    let meera = world.store.offer_state(OfferSubject::Booking(booking), &user("meera")).await.unwrap();
    assert!(matches!(meera, Some(OfferState::Live(_))), "{meera:?}");
    let late = world.bookings.accept(&transporter("meera"), &booking.to_string()).await;
    assert!(matches!(late, Err(weelo_core::ServiceError::Conflict { current_status: Some("accepted"), .. })));
}

#[tokio::test]
async fn a_released_booking_is_offered_again_to_the_others_and_never_to_the_releaser() {
    // GIVEN Kiran accepted a booking offered to him and Meera
    let world = World::new();
    world.driver("kiran", 100.0).await;
    world.driver("meera", 200.0).await;
    let booking = world.book().await;
    let kiran = transporter("kiran");
    world.bookings.accept(&kiran, &booking.to_string()).await.unwrap();
    world.deliver("com.weelo.booking.accepted.v1").await;

    // WHEN he releases it
    world.bookings.advance(&kiran, &booking.to_string(), TripStep::Release).await.unwrap();
    world.deliver("com.weelo.booking.released.v1").await;

    // THEN Meera is offered it again (a second offer push) and Kiran is not, nor can he accept it
    let offers = world.notifications("booking.offered");
    let to_meera = offers.iter().filter(|(_, n)| n.recipient_id == user("meera")).count();
    let to_kiran = offers.iter().filter(|(_, n)| n.recipient_id == user("kiran")).count();
    assert_eq!((to_meera, to_kiran), (2, 1));
    let offered = world.store.offered_to(OfferSubject::Booking(booking)).await.unwrap();
    assert_eq!(offered, [user("meera")]);
}

#[tokio::test]
async fn an_offer_made_before_a_release_no_longer_stands_unless_the_new_search_makes_it_again() {
    // GIVEN a booking offered to Kiran, Meera and Vijay, accepted by Kiran; then Vijay goes off duty
    let world = World::new();
    for (id, metres) in [("kiran", 100.0), ("meera", 200.0), ("vijay", 300.0)] {
        world.driver(id, metres).await;
    }
    let booking = world.book().await;
    let kiran = transporter("kiran");
    world.bookings.accept(&kiran, &booking.to_string()).await.unwrap();
    world.deliver("com.weelo.booking.accepted.v1").await;
    let mut vijay: TransporterProfile = world.store.get_profile(&user("vijay")).await.unwrap().unwrap();
    vijay.available = false;
    world.store.put_profile(&vijay).await.unwrap();

    // WHEN Kiran releases it (a moment later: offers are timed to the millisecond) and the release
    // reaches the fan-out
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    world.bookings.advance(&kiran, &booking.to_string(), TripStep::Release).await.unwrap();
    world.deliver("com.weelo.booking.released.v1").await;

    // THEN Vijay, not matched again, still holds his first offer in the table, but it no longer
    // stands: his accept is refused as a withdrawn offer, while the booking searches
    let subject = OfferSubject::Booking(booking);
    let state = world.store.offer_state(subject, &user("vijay")).await.unwrap();
    assert!(matches!(state, Some(OfferState::Live(_))), "{state:?}");
    let refused = world.bookings.accept(&transporter("vijay"), &booking.to_string()).await;
    assert!(
        matches!(
            &refused,
            Err(weelo_core::ServiceError::Conflict { code: "offer_withdrawn", current_status: Some("searching"), .. })
        ),
        "{refused:?}"
    );
    // AND Meera, matched again, was offered it anew and wins it
    world.bookings.accept(&transporter("meera"), &booking.to_string()).await.unwrap();
}

#[tokio::test]
async fn a_booking_cancelled_after_its_accept_tells_its_transporter_and_nobody_else_again() {
    // GIVEN a booking offered to three drivers, accepted by Kiran: Meera and Vijay told once
    let world = World::new();
    for (id, metres) in [("kiran", 100.0), ("meera", 200.0), ("vijay", 300.0)] {
        world.driver(id, metres).await;
    }
    let booking = world.book().await;
    world.bookings.accept(&transporter("kiran"), &booking.to_string()).await.unwrap();
    world.deliver("com.weelo.booking.accepted.v1").await;
    assert_eq!(world.notifications("booking.withdrawn").len(), 2);

    // WHEN Asha cancels it, and the cancel reaches the fan-out
    world.bookings.cancel(&customer("asha"), &booking.to_string()).await.unwrap();
    world.deliver("com.weelo.booking.cancelled.v1").await;

    // THEN Kiran is told it is cancelled, and nobody gets a second withdrawal
    assert_eq!(recipients(&world.notifications("booking.cancelled")), BTreeSet::from(["kiran".to_owned()]));
    assert_eq!(world.notifications("booking.withdrawn").len(), 2);
}

#[tokio::test]
async fn a_booking_cancelled_while_it_searches_is_withdrawn_from_everyone_offered() {
    // GIVEN a booking offered to two drivers
    let world = World::new();
    for (id, metres) in [("kiran", 100.0), ("meera", 200.0)] {
        world.driver(id, metres).await;
    }
    let booking = world.book().await;

    // WHEN Asha cancels it before anyone accepts
    world.bookings.cancel(&customer("asha"), &booking.to_string()).await.unwrap();
    world.deliver("com.weelo.booking.cancelled.v1").await;

    // THEN both are told to drop it, and nobody is told of a cancelled trip
    let withdrawn = world.notifications("booking.withdrawn");
    assert_eq!(recipients(&withdrawn), BTreeSet::from(["kiran".to_owned(), "meera".to_owned()]));
    assert!(withdrawn.iter().all(|(_, n)| n.data["reason"] == "cancelled"));
    assert!(world.notifications("booking.cancelled").is_empty());
}

#[tokio::test]
async fn nobody_near_widens_the_search_at_once_and_nobody_there_either_expires_it_at_once() {
    // GIVEN one driver beyond the first search's rings but within the wider search's
    let world = World::new();
    world.driver("far", 8_000.0).await;

    // WHEN a booking is made nearby and its events reach the fan-out
    let booking = world.book().await;
    world.deliver("com.weelo.booking.widened.v1").await;

    // THEN it is widened at once and offered to the far driver, and stays searching
    assert_eq!(recipients(&world.notifications("booking.offered")), BTreeSet::from(["far".to_owned()]));
    let widened = world.store.get_booking(booking).await.unwrap().unwrap();
    assert_eq!((widened.trip.status, widened.trip.search_round), (TripStatus::Searching, 1));

    // AND a booking made where nobody is at all expires at once
    let lonely = World::new();
    let nobody = lonely.book().await;
    lonely.deliver("com.weelo.booking.widened.v1").await;
    let expired = lonely.store.get_booking(nobody).await.unwrap().unwrap();
    assert_eq!(expired.trip.status, TripStatus::Expired);
    assert_eq!(lonely.api_bus.of_type("com.weelo.booking.expired.v1").len(), 0, "the fan-out published it");
    assert_eq!(lonely.fanout_bus.of_type("com.weelo.booking.expired.v1").len(), 1);
}

#[tokio::test]
async fn a_transporter_on_a_trip_is_not_offered_a_second_booking_until_it_is_delivered() {
    // GIVEN Kiran on a trip, and Meera free, both near
    let world = World::new();
    world.driver("kiran", 100.0).await;
    world.driver("meera", 200.0).await;
    let mut profile: TransporterProfile = world.store.get_profile(&user("kiran")).await.unwrap().unwrap();
    let first = world.book().await;
    let kiran = transporter("kiran");
    world.bookings.accept(&kiran, &first.to_string()).await.unwrap();

    // WHEN a second booking is made nearby THEN only Meera is offered it
    let before = world.notifications("booking.offered").len();
    let second = world.book().await;
    let offered_second: Vec<_> = world.notifications("booking.offered").split_off(before);
    assert_eq!(recipients(&offered_second), BTreeSet::from(["meera".to_owned()]));
    assert_eq!(world.store.offer_state(OfferSubject::Booking(second), &user("kiran")).await.unwrap(), None);

    // AND a profile update while on the trip keeps him busy; after delivery a third booking reaches him
    profile.available = true;
    assert!(world.store.put_profile(&profile).await.unwrap().active_trip.is_some());
    for step in [TripStep::Arrive, TripStep::PickUp, TripStep::Deliver] {
        world.bookings.advance(&kiran, &first.to_string(), step).await.unwrap();
    }
    let third = world.book().await;
    let offer = world.store.offer_state(OfferSubject::Booking(third), &user("kiran")).await.unwrap();
    assert!(matches!(offer, Some(OfferState::Live(_))), "{offer:?}");
}

#[tokio::test]
async fn a_withdrawal_names_the_offer_it_takes_back_so_a_late_copy_never_drops_a_later_offer() {
    // GIVEN a booking offered to Kiran and Meera
    let world = World::new();
    world.driver("kiran", 100.0).await;
    world.driver("meera", 200.0).await;
    let booking = world.book().await;
    let kiran = transporter("kiran");
    let offered_at = |kind: &str| -> Vec<String> {
        let to_meera = world.notifications(kind).into_iter().filter(|(_, n)| n.recipient_id == user("meera"));
        to_meera.map(|(_, n)| n.data["offeredAt"].clone()).collect()
    };
    let first = offered_at("booking.offered");

    // WHEN Kiran accepts it, then releases it (a moment later), and Meera is offered it again
    world.bookings.accept(&kiran, &booking.to_string()).await.unwrap();
    world.deliver("com.weelo.booking.accepted.v1").await;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    world.bookings.advance(&kiran, &booking.to_string(), TripStep::Release).await.unwrap();
    world.deliver("com.weelo.booking.released.v1").await;

    // THEN her withdrawal carries the time of the offer it took back, and her new offer a later one:
    // a copy of the withdrawal arriving after the new offer is older than it, and the app keeps it
    let offers = offered_at("booking.offered");
    assert_eq!(offered_at("booking.withdrawn"), first);
    assert_eq!((offers.len(), &offers[0]), (2, &first[0]));
    let parse = |at: &str| chrono::DateTime::parse_from_rfc3339(at).expect("an RFC 3339 time");
    assert!(parse(&offers[1]) > parse(&first[0]), "{offers:?}");

    // AND when the acceptance reaches the fan-out again (a retried batch), her new offer stands:
    // no withdrawal names it, and the table still has it live
    world.deliver("com.weelo.booking.accepted.v1").await;
    assert!(offered_at("booking.withdrawn").iter().all(|at| parse(at) < parse(&offers[1])));
    let meera = world.store.offer_state(OfferSubject::Booking(booking), &user("meera")).await.unwrap();
    assert!(matches!(meera, Some(OfferState::Live(_))), "{meera:?}");
}
