//! A transporter's trips: the bookings and order trucks they won and did not release, the one they
//! hold first, then the others, latest accepted first, page by page.

use crate::support::*;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use weelo_core::contract::cursor::CursorKey;
use weelo_core::contract::requests::ListQuery;
use weelo_core::model::ids::OrderId;
use weelo_core::model::order::{Order, OrderStatus, TruckLine};
use weelo_core::model::trip::{OfferTimes, Trip, TripStatus, TripStep};
use weelo_core::model::vehicle::VehicleType;
use weelo_core::ports::Creation;
use weelo_core::ports::{BookingStore, OrderStore};
use weelo_core::testing::MemoryStore;
use weelo_core::usecases::api::Lists;

fn lists(store: &MemoryStore) -> Lists<MemoryStore> {
    let key = CursorKey::from_base64(&base64::engine::general_purpose::STANDARD.encode([5u8; 32])).unwrap();
    Lists::new(store.clone(), key, OfferTimes::default())
}

/// `trip` accepted by `driver` at `at`, then taken through `steps` a minute apart.
fn driven(mut trip: Trip, driver: &str, at: DateTime<Utc>, steps: &[TripStep]) -> Trip {
    let times = OfferTimes::default();
    trip.take(TripStep::Accept, Some(&user(driver)), at, &times).unwrap();
    for (n, step) in steps.iter().enumerate() {
        trip.take(*step, None, at + Duration::minutes(n as i64 + 1), &times).unwrap();
    }
    trip
}

/// A booking of Asha's, driven as [`driven`] says; returns its id.
async fn booking(store: &MemoryStore, driver: &str, at: DateTime<Utc>, steps: &[TripStep]) -> String {
    let mut booking = booking_of("asha");
    booking.trip = driven(booking.trip, driver, at, steps);
    store.create_booking(Creation::alone(&booking)).await.unwrap();
    booking.booking_id.to_string()
}

/// A one-truck order of Asha's whose truck is driven as [`driven`] says; returns the truck's id.
async fn order_truck(store: &MemoryStore, driver: &str, at: DateTime<Utc>, steps: &[TripStep]) -> String {
    let order = Order {
        order_id: OrderId::generate(),
        customer_id: user("asha"),
        status: OrderStatus::Open,
        pickup: place(north_of_pickup(500.0)),
        drop: place((18.52, 73.85)),
        trucks: vec![TruckLine { vehicle_type: VehicleType::Tipper, quantity: 1 }],
        trucks_requested: 1,
        created_at: at,
    };
    store.create_order(Creation::alone(&order)).await.unwrap();
    let mut truck = order.truck_requests(at, &OfferTimes::default()).remove(0);
    truck.trip = driven(truck.trip, driver, at, steps);
    store.put_truck_requests(&[truck.clone()]).await.unwrap();
    truck.truck_request_id.to_string()
}

/// Every page of Kiran's trips, `limit` a page: each trip's id (booking or truck request) and status.
async fn all_trips(lists: &Lists<MemoryStore>, driver: &str, limit: usize) -> Vec<(String, TripStatus)> {
    let (mut trips, mut cursor) = (Vec::new(), None::<String>);
    loop {
        let mut raw = format!("limit={limit}");
        if let Some(c) = &cursor {
            raw.push_str(&format!("&cursor={}", form_urlencoded::byte_serialize(c.as_bytes()).collect::<String>()));
        }
        let page = lists.trips(&transporter(driver), ListQuery::parse(&raw, &[]).unwrap()).await.unwrap();
        assert!(page.items.len() <= limit);
        for trip in page.items {
            let id = trip.booking_id.map(|b| b.to_string()).or(trip.truck_request_id.map(|t| t.to_string()));
            trips.push((id.unwrap(), trip.status));
        }
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return trips,
        }
    }
}

#[tokio::test]
async fn the_trip_held_comes_first_then_the_others_latest_accepted_first_without_released_ones() {
    // GIVEN Kiran delivered a booking, delivered an order's truck, released a booking and now
    // holds another; Ravi drove a booking too
    let store = MemoryStore::new();
    let start = Utc::now() - Duration::days(2);
    let delivered = [TripStep::Arrive, TripStep::PickUp, TripStep::Deliver];
    let first = booking(&store, "kiran", start, &delivered).await;
    let truck = order_truck(&store, "kiran", start + Duration::hours(5), &delivered).await;
    booking(&store, "kiran", start + Duration::hours(9), &[TripStep::Release]).await;
    let held = booking(&store, "kiran", start + Duration::hours(30), &[TripStep::Arrive]).await;
    booking(&store, "ravi", start + Duration::hours(1), &delivered).await;

    // WHEN Kiran reads his trips one a page, and all in one page
    let lists = lists(&store);
    let one_by_one = all_trips(&lists, "kiran", 1).await;
    let at_once = all_trips(&lists, "kiran", 20).await;

    // THEN the held trip comes first, then the truck, then the first booking; not the released one
    let expected = vec![(held, TripStatus::Arrived), (truck, TripStatus::Delivered), (first, TripStatus::Delivered)];
    assert_eq!(one_by_one, expected);
    assert_eq!(at_once, expected);
}

#[tokio::test]
async fn a_trucks_card_carries_its_orders_places_and_a_transporter_without_trips_has_an_empty_list() {
    // GIVEN a truck of an order Kiran holds
    let store = MemoryStore::new();
    order_truck(&store, "kiran", Utc::now(), &[]).await;

    // WHEN Kiran and Ravi read their trips
    let lists = lists(&store);
    let kirans = lists.trips(&transporter("kiran"), ListQuery::parse("", &[]).unwrap()).await.unwrap();
    let ravis = lists.trips(&transporter("ravi"), ListQuery::parse("", &[]).unwrap()).await.unwrap();

    // THEN Kiran's card has the order's pickup and drop and the truck's status; Ravi has none
    let card = &kirans.items[0];
    assert_eq!(
        (card.status, card.haul.pickup.clone(), card.order_id.is_some()),
        (TripStatus::Accepted, place(north_of_pickup(500.0)), true)
    );
    assert!(ravis.items.is_empty() && ravis.next_cursor.is_none());
    // AND a status filter is not a parameter of this list
    assert!(ListQuery::<TripStatus>::parse("status=accepted", &[]).is_err());
}
