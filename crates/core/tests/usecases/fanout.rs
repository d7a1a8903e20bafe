//! The fan-out: who a booking is offered to (the matching policy), how many each order line is
//! offered to, and that a redelivery offers and notifies nothing new.

use crate::support::*;
use chrono::{Duration, Utc};
use std::collections::BTreeSet;
use weelo_core::contract::events::{DomainEvent, EventRecord};
use weelo_core::model::booking::Booking;
use weelo_core::model::geo::GeoGrid;
use weelo_core::model::ids::{BookingId, EventId, OrderId, UserId};
use weelo_core::model::order::{Order, OrderStatus, TruckLine};
use weelo_core::model::transporter::TransporterProfile;
use weelo_core::model::trip::{OfferTimes, Trip};
use weelo_core::model::vehicle::VehicleType;
use weelo_core::ports::Creation;
use weelo_core::ports::{BookingStore, OfferStore, OfferSubject, TransporterStore};
use weelo_core::testing::{MemoryStore, RecordingBus};
use weelo_core::usecases::fanout::matching::MatchPolicy;
use weelo_core::usecases::fanout::{Fanout, FanoutSettings};
use weelo_core::usecases::locations::LocationProcessing;

fn fanout(
    store: &MemoryStore, bus: &RecordingBus, max_candidates: usize, per_truck: usize,
) -> Fanout<MemoryStore, RecordingBus> {
    let policy = MatchPolicy { max_candidates, ..MatchPolicy::default() };
    let times = OfferTimes::default();
    let settings = FanoutSettings { grid: GeoGrid::default(), policy, times, candidates_per_truck: per_truck };
    Fanout::new(store.clone(), bus.clone(), settings)
}

/// Puts a transporter on the map: profile, and a point `age` old at `at`.
async fn driver(store: &MemoryStore, id: &str, vehicle: VehicleType, available: bool, at: (f64, f64), age: Duration) {
    let profile = TransporterProfile {
        transporter_id: user(id),
        vehicle_types: vec![vehicle],
        available,
        updated_at: Utc::now(),
        active_trip: None,
    };
    store.put_profile(&profile).await.unwrap();
    let locations = LocationProcessing::new(store.clone(), GeoGrid::default(), Duration::seconds(60));
    locations.on_batch(&[point(id, at, Utc::now() - age)]).await.unwrap();
}

/// A new booking, stored as the api stores it, and its `created` event.
async fn booking_created(store: &MemoryStore, vehicle: VehicleType) -> (EventId, DomainEvent) {
    let booking = Booking {
        booking_id: BookingId::generate(),
        customer_id: user("asha"),
        pickup: place(PICKUP),
        drop: place((18.52, 73.85)),
        vehicle_type: vehicle,
        scheduled_at: None,
        created_at: Utc::now(),
        trip: Trip::new(Utc::now(), None, &OfferTimes::default()),
    };
    store.create_booking(Creation::alone(&booking)).await.unwrap();
    (EventId::generate(), DomainEvent::BookingCreated(booking))
}

fn recipients(records: &[EventRecord]) -> Vec<String> {
    records.iter().map(|r| r.key.clone()).collect()
}

#[tokio::test]
async fn a_booking_is_offered_to_fresh_available_drivers_of_its_type_nearby_nearest_first() {
    // GIVEN tipper drivers 300 m, 100 m and 200 m from the pickup, and others who do not qualify:
    // too far (50 km), the wrong truck, not available, and seen last 20 minutes ago
    let (store, bus) = (MemoryStore::new(), RecordingBus::default());
    let near = Duration::seconds(10);
    for (id, metres) in [("d300", 300.0), ("d100", 100.0), ("d200", 200.0)] {
        driver(&store, id, VehicleType::Tipper, true, north_of_pickup(metres), near).await;
    }
    driver(&store, "far", VehicleType::Tipper, true, north_of_pickup(50_000.0), near).await;
    driver(&store, "wrong-truck", VehicleType::Tanker, true, north_of_pickup(50.0), near).await;
    driver(&store, "off-duty", VehicleType::Tipper, false, north_of_pickup(50.0), near).await;
    driver(&store, "silent", VehicleType::Tipper, true, north_of_pickup(50.0), Duration::minutes(20)).await;

    // WHEN a tipper booking is fanned out, once with room for all and once for two
    let (cause, event) = booking_created(&store, VehicleType::Tipper).await;
    fanout(&store, &bus, 1000, 20).on_event(cause, &event).await.unwrap();
    let (cause_two, event_two) = booking_created(&store, VehicleType::Tipper).await;
    fanout(&store, &bus, 2, 20).on_event(cause_two, &event_two).await.unwrap();

    // THEN the three near tipper drivers are offered it and told, nearest first; the two-seat
    // booking goes to the two nearest
    let told = recipients(&bus.on("notification.fcm"));
    assert_eq!(told, ["d100", "d200", "d300", "d100", "d200"]);
    let DomainEvent::BookingCreated(booking) = &event else { unreachable!() };
    let offered: BTreeSet<UserId> =
        store.offered_to(OfferSubject::Booking(booking.booking_id)).await.unwrap().into_iter().collect();
    assert_eq!(offered, ["d100", "d200", "d300"].map(user).into_iter().collect());
}

#[tokio::test]
async fn each_order_line_is_offered_to_at_most_its_trucks_times_the_candidates_per_truck() {
    // GIVEN five tipper drivers near the pickup, and an order for 2 tippers and then 1 more
    let (store, bus) = (MemoryStore::new(), RecordingBus::default());
    for n in 1..=5 {
        driver(
            &store,
            &format!("t{n}"),
            VehicleType::Tipper,
            true,
            north_of_pickup(n as f64 * 100.0),
            Duration::zero(),
        )
        .await;
    }
    let order = Order {
        order_id: OrderId::generate(),
        customer_id: user("asha"),
        status: OrderStatus::Processing,
        pickup: place(PICKUP),
        drop: place((18.52, 73.85)),
        trucks: vec![
            TruckLine { vehicle_type: VehicleType::Tipper, quantity: 2 },
            TruckLine { vehicle_type: VehicleType::Tipper, quantity: 1 },
        ],
        trucks_requested: 3,
        created_at: Utc::now(),
    };

    // WHEN it is fanned out with one candidate per truck
    let report = fanout(&store, &bus, 1000, 1)
        .on_event(EventId::generate(), &DomainEvent::OrderCreated(order.clone()))
        .await
        .unwrap();

    // THEN line 0 goes to the 2 nearest, line 1 to the nearest, each told once per line
    let offered = |line| {
        let store = store.clone();
        async move { store.offered_to(OfferSubject::OrderLine(order.order_id, line)).await.unwrap() }
    };
    assert_eq!(offered(0).await.into_iter().collect::<BTreeSet<_>>(), ["t1", "t2"].map(user).into_iter().collect());
    assert_eq!(offered(1).await, [user("t1")]);
    assert_eq!((report.truck_requests, report.offers, report.notifications), (3, 3, 3));
    assert_eq!(recipients(&bus.on("notification.fcm")).len(), 3);
}

#[tokio::test]
async fn a_redelivered_booking_offers_no_one_new_and_repeats_the_same_notification_ids() {
    let (store, bus) = (MemoryStore::new(), RecordingBus::default());
    driver(&store, "d1", VehicleType::Open, true, north_of_pickup(100.0), Duration::zero()).await;
    let (cause, event) = booking_created(&store, VehicleType::Open).await;
    let fanout = fanout(&store, &bus, 1000, 20);

    fanout.on_event(cause, &event).await.unwrap();
    fanout.on_event(cause, &event).await.unwrap();

    let ids: Vec<EventId> = bus.on("notification.fcm").iter().map(|r| r.event_id).collect();
    assert_eq!(ids.len(), 2);
    assert_eq!(ids[0], ids[1], "the push a redelivery asks for is the same push");
}
