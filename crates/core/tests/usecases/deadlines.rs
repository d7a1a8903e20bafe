//! Deadlines: a search is widened once and then expires; a scheduled booking opens at its lead
//! time; a deadline fired twice, missed for a while, or overtaken by an accept changes nothing
//! more than once.

use crate::support::*;
use chrono::{Duration, Utc};
use weelo_core::model::ids::BookingId;
use weelo_core::model::trip::{OfferTimes, TripStatus};
use weelo_core::model::vehicle::VehicleType;
use weelo_core::ports::{BookingStore, OfferStore, OfferSubject};
use weelo_core::testing::{MemoryStore, RecordingBus};
use weelo_core::usecases::api::{Bookings, Create};
use weelo_core::usecases::deadlines::Deadlines;

fn times() -> OfferTimes {
    OfferTimes { window: Duration::minutes(2), schedule_lead: Duration::minutes(30) }
}

/// Asha books a tipper now; the booking's id.
async fn asha_books(bookings: &Bookings<MemoryStore, RecordingBus>) -> BookingId {
    bookings
        .create(Create::new(&customer("asha"), new_booking(VehicleType::Tipper), None))
        .await
        .unwrap()
        .value
        .booking_id
}

fn setup() -> (Bookings<MemoryStore, RecordingBus>, Deadlines<MemoryStore, RecordingBus>, MemoryStore, RecordingBus) {
    let (store, bus) = (MemoryStore::new(), RecordingBus::default());
    let bookings = Bookings::new(store.clone(), bus.clone(), times());
    let deadlines = Deadlines::new(store.clone(), bus.clone(), times(), 2);
    (bookings, deadlines, store, bus)
}

#[tokio::test]
async fn an_unaccepted_booking_is_widened_after_one_window_and_expires_after_the_next() {
    // GIVEN a booking nobody accepts
    let (bookings, deadlines, store, bus) = setup();
    let id = asha_books(&bookings).await;
    let created = Utc::now();

    // WHEN the sweeper runs before the window ends, after it, and after the next
    let early = deadlines.sweep(created + Duration::seconds(90)).await.unwrap();
    let first = deadlines.sweep(created + Duration::seconds(121)).await.unwrap();
    let booking = store.get_booking(id).await.unwrap().unwrap();
    let second = deadlines.sweep(booking.trip.due_at.unwrap()).await.unwrap();

    // THEN nothing, then one wider search, then expired with no deadline left
    assert_eq!((early.fired(), first.widened, second.expired), (0, 1, 1));
    assert_eq!(booking.trip.search_round, 1);
    let expired = store.get_booking(id).await.unwrap().unwrap();
    assert_eq!((expired.trip.status, expired.trip.due_at), (TripStatus::Expired, None));
    assert_eq!(bus.of_type("com.weelo.booking.widened.v1").len(), 1);
    assert_eq!(bus.of_type("com.weelo.booking.expired.v1").len(), 1);
    // AND an accept afterwards is refused with the status
    store.put_offers(OfferSubject::Booking(id), &[user("kiran")], Utc::now()).await.unwrap();
    on_the_road(&store, &["kiran"]).await;
    let late = bookings.accept(&transporter("kiran"), &id.to_string()).await;
    assert!(
        matches!(late, Err(weelo_core::ServiceError::Conflict { current_status: Some("expired"), .. })),
        "{late:?}"
    );
}

#[tokio::test]
async fn a_deadline_fired_twice_or_late_moves_the_booking_once() {
    // GIVEN five bookings whose windows all passed while the sweeper was down (pages of two)
    let (bookings, deadlines, store, bus) = setup();
    for _ in 0..5 {
        bookings.create(Create::new(&customer("asha"), new_booking(VehicleType::Tipper), None)).await.unwrap();
    }
    let late = Utc::now() + Duration::minutes(3);

    // WHEN two sweeps run for the same moment, one after the other
    let first = deadlines.sweep(late).await.unwrap();
    let second = deadlines.sweep(late).await.unwrap();

    // THEN the first widened all five, page after page, and the second changed nothing
    assert_eq!((first.widened, first.failed), (5, 0));
    assert_eq!(second.fired(), 0);
    assert_eq!(bus.of_type("com.weelo.booking.widened.v1").len(), 5);
    assert!(store.due_bookings(late, 10).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_deadline_overtaken_by_an_accept_does_nothing() {
    let (bookings, deadlines, store, bus) = setup();
    on_the_road(&store, &["kiran"]).await;
    let id = asha_books(&bookings).await;
    store.put_offers(OfferSubject::Booking(id), &[user("kiran")], Utc::now()).await.unwrap();
    bookings.accept(&transporter("kiran"), &id.to_string()).await.unwrap();

    let report = deadlines.sweep(Utc::now() + Duration::minutes(10)).await.unwrap();

    assert_eq!(report.fired(), 0);
    assert_eq!(store.get_booking(id).await.unwrap().unwrap().trip.status, TripStatus::Accepted);
    assert!(bus.of_type("com.weelo.booking.widened.v1").is_empty());
}

#[tokio::test]
async fn a_scheduled_booking_waits_until_its_lead_time_and_can_be_cancelled_before() {
    // GIVEN two bookings for three hours from now
    let (bookings, deadlines, store, bus) = setup();
    let at = Utc::now() + Duration::hours(3);
    let mut request = new_booking(VehicleType::Tipper);
    request.scheduled_at = Some(at);
    let asha = customer("asha");
    let kept = bookings.create(Create::new(&asha, request.clone(), None)).await.unwrap().value;
    let dropped = bookings.create(Create::new(&asha, request, None)).await.unwrap().value;
    assert_eq!(kept.status, TripStatus::Scheduled);

    // WHEN one is cancelled, and the sweeper runs before and after 30 minutes before the time
    bookings.cancel(&asha, &dropped.booking_id.to_string()).await.unwrap();
    let before = deadlines.sweep(at - Duration::minutes(31)).await.unwrap();
    let after = deadlines.sweep(at - Duration::minutes(30)).await.unwrap();

    // THEN only the kept one opens, at its lead time, with a fresh window
    assert_eq!((before.fired(), after.opened), (0, 1));
    let opened = store.get_booking(kept.booking_id).await.unwrap().unwrap();
    assert_eq!(opened.trip.status, TripStatus::Searching);
    assert!(opened.trip.due_at.unwrap() > Utc::now() + Duration::seconds(100));
    assert_eq!(bus.of_type("com.weelo.booking.opened.v1").len(), 1);
    let cancelled = store.get_booking(dropped.booking_id).await.unwrap().unwrap();
    assert_eq!(cancelled.trip.status, TripStatus::Cancelled);
}
