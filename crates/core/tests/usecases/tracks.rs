//! A trip's track: the holder's points from acceptance to delivery, page by page, for the owner and
//! the holder only, within the history's retention, with a cursor bound to the trip and the window.

use crate::support::*;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use weelo_core::ServiceError;
use weelo_core::contract::cursor::CursorKey;
use weelo_core::contract::requests::TrackQuery;
use weelo_core::model::booking::Booking;
use weelo_core::model::caller::{Caller, Role};
use weelo_core::model::trip::{OfferTimes, TripStep};
use weelo_core::ports::Creation;
use weelo_core::ports::{BookingStore, LocationHistoryStore};
use weelo_core::testing::MemoryStore;
use weelo_core::usecases::api::Lists;

fn lists(store: &MemoryStore) -> Lists<MemoryStore> {
    let key = CursorKey::from_base64(&base64::engine::general_purpose::STANDARD.encode([7u8; 32])).unwrap();
    Lists::new(store.clone(), key, OfferTimes::default())
}

/// Asha's booking, accepted by Kiran at `accepted` and delivered `minutes` later (if given).
async fn driven_booking(store: &MemoryStore, accepted: DateTime<Utc>, minutes: Option<i64>) -> Booking {
    let times = OfferTimes::default();
    let mut booking = booking_of("asha");
    booking.trip.take(TripStep::Accept, Some(&user("kiran")), accepted, &times).unwrap();
    if let Some(minutes) = minutes {
        let end = accepted + Duration::minutes(minutes);
        for step in [TripStep::Arrive, TripStep::PickUp, TripStep::Deliver] {
            booking.trip.take(step, None, end, &times).unwrap();
        }
    }
    store.create_booking(Creation::alone(&booking)).await.unwrap();
    booking
}

/// `who`'s points, one at each of these minutes after `start`.
async fn drive(store: &MemoryStore, who: &str, start: DateTime<Utc>, minutes: &[i64]) {
    let points: Vec<_> =
        minutes.iter().map(|m| point(who, north_of_pickup(*m as f64 * 100.0), start + Duration::minutes(*m))).collect();
    store.append_points(&points).await.unwrap();
}

/// Every page of the track as `who`, `limit` points at a time: the minutes after `start` of each point.
async fn read_all(
    lists: &Lists<MemoryStore>, who: &Caller, booking: &Booking, query: &str, start: DateTime<Utc>,
) -> Result<Vec<i64>, ServiceError> {
    let (mut minutes, mut cursor) = (Vec::new(), None::<String>);
    loop {
        let raw = match &cursor {
            Some(c) => format!("{query}&cursor={}", form_urlencoded::byte_serialize(c.as_bytes()).collect::<String>()),
            None => query.to_owned(),
        };
        let page = lists.booking_track(who, &booking.booking_id.to_string(), TrackQuery::parse(&raw).unwrap()).await?;
        minutes.extend(page.items.iter().map(|p| (p.recorded_at - start).num_minutes()));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(minutes),
        }
    }
}

#[tokio::test]
async fn the_track_is_the_holders_points_from_acceptance_to_delivery_in_time_order() {
    // GIVEN Kiran accepted Asha's booking two hours ago and delivered it 30 minutes later, and sent
    // points before, during and after; another truck drove at the same time
    let store = MemoryStore::new();
    let start = Utc::now() - Duration::hours(2);
    let booking = driven_booking(&store, start, Some(30)).await;
    drive(&store, "kiran", start, &[-10, -1, 0, 1, 5, 12, 29, 30, 31, 45]).await;
    drive(&store, "other-truck", start, &[2, 3]).await;

    // WHEN the owner and the driver read it three points a page
    let lists = lists(&store);
    let asha = caller("asha", Role::Customer);
    let by_owner = read_all(&lists, &asha, &booking, "limit=3", start).await.unwrap();
    let by_driver = read_all(&lists, &caller("kiran", Role::Transporter), &booking, "limit=3", start).await.unwrap();

    // THEN both get Kiran's points from the acceptance to the delivery, each once, in order
    assert_eq!(by_owner, [0, 1, 5, 12, 29, 30]);
    assert_eq!(by_driver, by_owner);
}

#[tokio::test]
async fn since_and_until_narrow_the_track_and_never_widen_it_beyond_the_trip() {
    // GIVEN a delivered trip with points around it
    let store = MemoryStore::new();
    let start = Utc::now() - Duration::hours(2);
    let booking = driven_booking(&store, start, Some(30)).await;
    drive(&store, "kiran", start, &[-10, 0, 10, 20, 30, 40]).await;
    let (lists, asha) = (lists(&store), caller("asha", Role::Customer));
    let at = |m: i64| {
        form_urlencoded::byte_serialize((start + Duration::minutes(m)).to_rfc3339().as_bytes()).collect::<String>()
    };

    // WHEN the owner asks for narrower and for wider windows
    let narrower =
        read_all(&lists, &asha, &booking, &format!("since={}&until={}", at(5), at(20)), start).await.unwrap();
    let wider = read_all(&lists, &asha, &booking, &format!("since={}&until={}", at(-60), at(60)), start).await.unwrap();
    let after_it = read_all(&lists, &asha, &booking, &format!("since={}", at(35)), start).await.unwrap();

    // THEN the narrower is within it, the wider is the trip, and after the trip there is nothing
    assert_eq!(narrower, [10, 20]);
    assert_eq!(wider, [0, 10, 20, 30]);
    assert!(after_it.is_empty());
}

#[tokio::test]
async fn a_running_trip_is_tracked_until_now_and_points_older_than_the_history_keeps_are_left_out() {
    // GIVEN a trip accepted eight days ago and still running, with points every day since
    let store = MemoryStore::new();
    let start = Utc::now() - Duration::days(8);
    let booking = driven_booking(&store, start, None).await;
    let days: Vec<i64> = (0..8).map(|d| d * 24 * 60 + 60).collect();
    drive(&store, "kiran", start, &days).await;

    // WHEN the owner reads the track
    let read = read_all(&lists(&store), &caller("asha", Role::Customer), &booking, "", start).await.unwrap();

    // THEN only the points of the last seven days come back
    assert_eq!(read, days[1..].to_vec());
}

#[tokio::test]
async fn only_the_owner_and_the_holder_may_read_a_track_and_a_trip_nobody_holds_has_none() {
    // GIVEN a driven trip, and another booking still searching
    let store = MemoryStore::new();
    let start = Utc::now() - Duration::hours(1);
    let booking = driven_booking(&store, start, None).await;
    drive(&store, "kiran", start, &[1, 2]).await;
    let searching = booking_of("asha");
    store.create_booking(Creation::alone(&searching)).await.unwrap();
    let lists = lists(&store);

    // WHEN others ask for it THEN it does not exist for them
    for stranger in [caller("ravi", Role::Customer), caller("other-truck", Role::Transporter)] {
        let refused = read_all(&lists, &stranger, &booking, "", start).await;
        assert!(matches!(refused, Err(ServiceError::NotFound { what: "booking" })), "{refused:?}");
    }
    // AND a booking nobody holds has an empty track
    assert_eq!(
        read_all(&lists, &caller("asha", Role::Customer), &searching, "", start).await.unwrap(),
        Vec::<i64>::new()
    );
}

#[tokio::test]
async fn a_cursor_is_refused_for_another_window_another_reader_or_after_the_trip_changed_hands() {
    // GIVEN a cursor from the first page of a running trip's track
    let store = MemoryStore::new();
    let start = Utc::now() - Duration::hours(1);
    let mut booking = driven_booking(&store, start, None).await;
    drive(&store, "kiran", start, &[1, 2, 3]).await;
    let (lists, asha) = (lists(&store), caller("asha", Role::Customer));
    let id = booking.booking_id.to_string();
    let first = lists.booking_track(&asha, &id, TrackQuery::parse("limit=1").unwrap()).await.unwrap();
    let cursor: String = form_urlencoded::byte_serialize(first.next_cursor.unwrap().as_bytes()).collect();
    let with = |query: &str| TrackQuery::parse(&format!("{query}cursor={cursor}")).unwrap();

    // WHEN it is used with another window, or by the driver THEN each is a 400
    let another_window = lists.booking_track(&asha, &id, with("since=2026-01-01T00:00:00Z&")).await;
    assert!(matches!(another_window, Err(ServiceError::Validation(_))), "{another_window:?}");
    let by_driver = lists.booking_track(&caller("kiran", Role::Transporter), &id, with("")).await;
    assert!(matches!(by_driver, Err(ServiceError::Validation(_))), "{by_driver:?}");

    // AND once Kiran released it and Ravi took it, the old cursor is a 400 too
    let times = OfferTimes::default();
    let revision = booking.trip.revision;
    booking.trip.take(TripStep::Release, None, Utc::now(), &times).unwrap();
    booking.trip.take(TripStep::Accept, Some(&user("ravi")), Utc::now(), &times).unwrap();
    let keep = weelo_core::ports::Assignment::Keep;
    let change = weelo_core::ports::Change { to: &booking, expected: revision, events: &[], assignment: &keep };
    store.transition_booking(change).await.unwrap();
    let changed_hands = lists.booking_track(&asha, &id, with("")).await;
    assert!(matches!(changed_hands, Err(ServiceError::Validation(_))), "{changed_hands:?}");
    // AND reading again from the start works: the new holder's track (none yet)
    let fresh = lists.booking_track(&asha, &id, TrackQuery::parse("limit=1").unwrap()).await.unwrap();
    assert!(fresh.items.is_empty());
}
