//! The offer inbox: the offers a transporter can still accept, newest or nearest first, page by
//! page, with everything the push carried; taken, cancelled and withdrawn offers drop out.

use crate::support::*;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use weelo_core::contract::cursor::CursorKey;
use weelo_core::contract::requests::OfferQuery;
use weelo_core::model::ids::OrderId;
use weelo_core::model::offer::{Offered, OpenOffer};
use weelo_core::model::order::{Order, OrderStatus, TruckLine};
use weelo_core::model::trip::{OfferTimes, TripStep};
use weelo_core::model::vehicle::VehicleType;
use weelo_core::ports::Creation;
use weelo_core::ports::{BookingStore, LocationHistoryStore, OfferStore, OfferSubject, OrderStore};
use weelo_core::testing::MemoryStore;
use weelo_core::usecases::api::{Lists, MAX_OPEN_OFFERS};

fn lists(store: &MemoryStore) -> Lists<MemoryStore> {
    let key = CursorKey::from_base64(&base64::engine::general_purpose::STANDARD.encode([3u8; 32])).unwrap();
    Lists::new(store.clone(), key, OfferTimes::default())
}

/// Kiran's latest position (the newest point of the GPS history): at the pickup.
async fn kiran_at_the_pickup(store: &MemoryStore) {
    store.append_points(&[point("kiran", PICKUP, Utc::now())]).await.unwrap();
}

/// A booking of Asha's picked up `metres` north of the pickup, offered to `to` at `at`; its id.
async fn offered_booking(store: &MemoryStore, metres: f64, to: &[&str], at: DateTime<Utc>) -> String {
    let mut booking = booking_of("asha");
    booking.pickup = place(north_of_pickup(metres));
    store.create_booking(Creation::alone(&booking)).await.unwrap();
    let to: Vec<_> = to.iter().map(|t| user(t)).collect();
    store.put_offers(OfferSubject::Booking(booking.booking_id), &to, at).await.unwrap();
    booking.booking_id.to_string()
}

/// An order of Asha's, 3 tippers picked up `metres` north, its line offered to Kiran at `at`.
async fn offered_line(store: &MemoryStore, metres: f64, at: DateTime<Utc>) -> OrderId {
    let order = Order {
        order_id: OrderId::generate(),
        customer_id: user("asha"),
        status: OrderStatus::Open,
        pickup: place(north_of_pickup(metres)),
        drop: place((18.52, 73.85)),
        trucks: vec![TruckLine { vehicle_type: VehicleType::Tipper, quantity: 3 }],
        trucks_requested: 3,
        created_at: at,
    };
    store.create_order(Creation::alone(&order)).await.unwrap();
    let mut trucks = order.truck_requests(at, &OfferTimes::default());
    // One of the three is taken already: two still search.
    trucks[0].trip.take(TripStep::Accept, Some(&user("ravi")), at, &OfferTimes::default()).unwrap();
    store.put_truck_requests(&trucks).await.unwrap();
    store.put_offers(OfferSubject::OrderLine(order.order_id, 0), &[user("kiran")], at).await.unwrap();
    order.order_id
}

/// Every page of Kiran's inbox, `limit` a page, as what each offer is.
async fn inbox(lists: &Lists<MemoryStore>, query: &str, limit: usize) -> Vec<OpenOffer> {
    let (mut offers, mut cursor) = (Vec::new(), None::<String>);
    loop {
        let mut raw = format!("{query}&limit={limit}");
        if let Some(c) = &cursor {
            raw.push_str(&format!("&cursor={}", form_urlencoded::byte_serialize(c.as_bytes()).collect::<String>()));
        }
        let page = lists.offers(&transporter("kiran"), OfferQuery::parse(&raw).unwrap()).await.unwrap();
        assert!(page.items.len() <= limit);
        offers.extend(page.items);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return offers,
        }
    }
}

fn subjects(offers: &[OpenOffer]) -> Vec<String> {
    offers.iter().map(OpenOffer::subject_key).collect()
}

#[tokio::test]
async fn the_inbox_holds_only_what_can_still_be_accepted_newest_or_nearest_first() {
    // GIVEN Kiran at the pickup, offered three bookings and an order line at different distances
    // and times within the last few minutes; and offers that can no longer be accepted: one
    // withdrawn, one whose booking another transporter took (the fan-out leaves that offer in the
    // table), one of a cancelled booking; and one offered to Ravi only
    let store = MemoryStore::new();
    kiran_at_the_pickup(&store).await;
    let start = Utc::now() - Duration::minutes(5);
    // (half-minute steps, called minutes: every offer is within the inbox's reach)
    let minutes = |n: i64| start + Duration::seconds(30 * n);
    let near = offered_booking(&store, 500.0, &["kiran"], minutes(1)).await;
    let far = offered_booking(&store, 3000.0, &["kiran"], minutes(2)).await;
    let line = offered_line(&store, 1500.0, minutes(3)).await;
    let middle = offered_booking(&store, 2000.0, &["kiran"], minutes(4)).await;
    let withdrawn = offered_booking(&store, 100.0, &["kiran"], minutes(5)).await;
    let subject = OfferSubject::Booking(weelo_core::model::ids::BookingId::parse(&withdrawn).unwrap());
    store.withdraw_offers(subject, &[user("kiran")]).await.unwrap();
    let taken_id = offered_booking(&store, 200.0, &["kiran", "ravi"], minutes(6)).await;
    let mut taken =
        store.get_booking(weelo_core::model::ids::BookingId::parse(&taken_id).unwrap()).await.unwrap().unwrap();
    let revision = taken.trip.revision;
    taken.trip.take(TripStep::Accept, Some(&user("ravi")), minutes(7), &OfferTimes::default()).unwrap();
    let keep = weelo_core::ports::Assignment::Keep;
    let change = weelo_core::ports::Change { to: &taken, expected: revision, events: &[], assignment: &keep };
    store.transition_booking(change).await.unwrap();
    offered_booking(&store, 300.0, &["ravi"], minutes(8)).await;

    // WHEN Kiran reads the inbox newest first and nearest first, one offer a page and all at once
    let lists = lists(&store);
    let newest = inbox(&lists, "sort=newest", 1).await;
    let nearest = inbox(&lists, "sort=nearest", 1).await;

    // THEN newest first: the middle booking, the order line, the far one, the near one
    let line_key = format!("order/{line}/line/0");
    let booking_key = |id: &str| format!("booking/{id}");
    assert_eq!(subjects(&newest), [booking_key(&middle), line_key.clone(), booking_key(&far), booking_key(&near)]);
    assert_eq!(subjects(&inbox(&lists, "sort=newest", 20).await), subjects(&newest));
    // AND nearest first by the distance from where Kiran is
    assert_eq!(subjects(&nearest), [booking_key(&near), line_key, booking_key(&middle), booking_key(&far)]);
    // AND the cards carry what the pushes carried: the line's trucks, the distance, the vehicle
    let card = nearest.iter().find(|o| matches!(o.offered, Offered::OrderLine { order_id, .. } if order_id == line));
    let card = card.unwrap();
    let Offered::OrderLine { line: index, trucks, open_trucks, .. } = card.offered else { unreachable!() };
    assert_eq!((index, trucks, open_trucks, card.haul.vehicle_type), (0, 3, 2, VehicleType::Tipper));
    assert!((1450..=1550).contains(&card.distance_m.unwrap()), "{card:?}");
    assert_eq!(nearest[0].offered_at, minutes(1));
}

#[tokio::test]
async fn a_transporter_without_a_position_sees_their_offers_without_distances_and_a_cursor_is_bound_to_its_sort() {
    // GIVEN Kiran, who never sent a position, offered two bookings
    let store = MemoryStore::new();
    offered_booking(&store, 500.0, &["kiran"], Utc::now() - Duration::minutes(2)).await;
    offered_booking(&store, 900.0, &["kiran"], Utc::now() - Duration::minutes(1)).await;
    let lists = lists(&store);

    // WHEN he reads the nearest first
    let first = lists.offers(&transporter("kiran"), OfferQuery::parse("sort=nearest&limit=1").unwrap()).await.unwrap();

    // THEN there are no distances (such offers sort after any with one, in a fixed order)
    assert!(first.items.iter().all(|o| o.distance_m.is_none()));
    // AND the first page's cursor is refused with the other sort, and to Ravi
    let cursor: String = form_urlencoded::byte_serialize(first.next_cursor.unwrap().as_bytes()).collect();
    let other_sort = OfferQuery::parse(&format!("sort=newest&cursor={cursor}")).unwrap();
    assert!(matches!(
        lists.offers(&transporter("kiran"), other_sort).await,
        Err(weelo_core::ServiceError::Validation(_))
    ));
    let by_ravi = OfferQuery::parse(&format!("sort=nearest&cursor={cursor}")).unwrap();
    assert!(matches!(lists.offers(&transporter("ravi"), by_ravi).await, Err(weelo_core::ServiceError::Validation(_))));
}

#[tokio::test]
async fn the_inbox_looks_back_as_long_as_an_offer_can_stand_and_drops_one_made_before_a_release() {
    // GIVEN Kiran offered three searching bookings: one just now, one as long ago as an offer can
    // stand (a search's rounds and a window more), and one just before that
    let store = MemoryStore::new();
    let life = OfferTimes::default().offer_life();
    let fresh = offered_booking(&store, 100.0, &["kiran"], Utc::now()).await;
    let oldest = offered_booking(&store, 200.0, &["kiran"], Utc::now() - life + Duration::seconds(5)).await;
    offered_booking(&store, 300.0, &["kiran"], Utc::now() - life - Duration::seconds(5)).await;
    // AND a fourth offered to him, then accepted by Ravi and released: searching again
    let released_id = offered_booking(&store, 400.0, &["kiran", "ravi"], Utc::now() - Duration::seconds(30)).await;
    let id = weelo_core::model::ids::BookingId::parse(&released_id).unwrap();
    let mut released = store.get_booking(id).await.unwrap().unwrap();
    for (step, by) in [(TripStep::Accept, Some(user("ravi"))), (TripStep::Release, None)] {
        let revision = released.trip.revision;
        released.trip.take(step, by.as_ref(), Utc::now(), &OfferTimes::default()).unwrap();
        let keep = weelo_core::ports::Assignment::Keep;
        let change = weelo_core::ports::Change { to: &released, expected: revision, events: &[], assignment: &keep };
        store.transition_booking(change).await.unwrap();
    }

    // WHEN he reads his inbox
    let listed = inbox(&lists(&store), "sort=newest", 10).await;

    // THEN it holds the two offers that can stand, not the older one, nor the one made before the
    // release (that search ended when Ravi took it; it is offered anew only if Kiran is matched)
    assert_eq!(subjects(&listed), [format!("booking/{fresh}"), format!("booking/{oldest}")]);
}

/// Ravi accepts booking `id`: its offers to the others no longer stand (they stay in the table).
async fn taken_by_ravi(store: &MemoryStore, id: &str) {
    let id = weelo_core::model::ids::BookingId::parse(id).unwrap();
    let mut booking = store.get_booking(id).await.unwrap().unwrap();
    let revision = booking.trip.revision;
    booking.trip.take(TripStep::Accept, Some(&user("ravi")), Utc::now(), &OfferTimes::default()).unwrap();
    let keep = weelo_core::ports::Assignment::Keep;
    let change = weelo_core::ports::Change { to: &booking, expected: revision, events: &[], assignment: &keep };
    store.transition_booking(change).await.unwrap();
}

#[tokio::test]
async fn offers_that_no_longer_stand_never_hide_an_older_one_that_does() {
    // GIVEN Kiran offered a booking that still searches, then 150 newer ones that Ravi took
    let store = MemoryStore::new();
    let start = Utc::now() - Duration::minutes(3);
    let searching = offered_booking(&store, 100.0, &["kiran", "ravi"], start).await;
    for n in 1..=150 {
        let id = offered_booking(&store, 200.0, &["kiran", "ravi"], start + Duration::milliseconds(n * 100)).await;
        taken_by_ravi(&store, &id).await;
    }

    // WHEN he reads his inbox
    let listed = inbox(&lists(&store), "sort=newest", 10).await;

    // THEN it holds the one that searches, behind the 150 that do not
    assert_eq!(subjects(&listed), [format!("booking/{searching}")]);
}

#[tokio::test]
async fn the_inbox_shows_at_most_its_newest_hundred_standing_offers() {
    // GIVEN Kiran offered 120 bookings that all still search, a tenth of a second apart
    let store = MemoryStore::new();
    let start = Utc::now() - Duration::minutes(3);
    let mut ids = Vec::new();
    for n in 0..120 {
        ids.push(offered_booking(&store, 100.0, &["kiran"], start + Duration::milliseconds(n * 100)).await);
    }

    // WHEN he reads every page of his inbox
    let listed = inbox(&lists(&store), "sort=newest", 50).await;

    // THEN it holds the newest hundred, newest first
    let newest: Vec<String> = ids.iter().rev().take(MAX_OPEN_OFFERS).map(|id| format!("booking/{id}")).collect();
    assert_eq!(subjects(&listed), newest);
}
