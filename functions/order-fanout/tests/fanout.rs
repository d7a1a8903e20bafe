//! The order-fanout handler on MSK batches, against the DynamoDB emulator and the real broker.

use chrono::Utc;
use lambda_runtime::{Context, LambdaEvent};
use std::collections::{BTreeMap, BTreeSet};
use weelo_core::contract::events::{BookingChanged, DomainEvent, EventRecord, LocationUpdated};
use weelo_core::model::booking::{Booking, BookingStatus};
use weelo_core::model::geo::{GeoGrid, Place};
use weelo_core::model::ids::{BookingId, EventId, OrderId, UserId};
use weelo_core::model::location::LocationPoint;
use weelo_core::model::order::{Order, OrderStatus, TruckLine};
use weelo_core::model::transporter::TransporterProfile;
use weelo_core::model::trip::{OfferTimes, Trip, TripStep};
use weelo_core::model::vehicle::VehicleType;
use weelo_core::ports::{BookingStore, Creation, OfferStore, OfferSubject, OrderStore, TransporterStore};
use weelo_core::usecases::locations::LocationProcessing;
use weelo_order_fanout::OrderFanout;
use weelo_testkit::{cloud_event, msk_event, private_city, records_matching, unique};

/// An order from `centre` to a place about 30 km north, with these lines.
fn order_at(centre: (f64, f64), lines: &[(VehicleType, u32)]) -> Order {
    Order {
        order_id: OrderId::generate(),
        customer_id: UserId::parse(&unique("customer")).unwrap(),
        status: OrderStatus::Processing,
        pickup: Place { lat: centre.0, lng: centre.1, address: None },
        drop: Place { lat: centre.0 + 0.3, lng: centre.1, address: None },
        trucks: lines.iter().map(|&(vehicle_type, quantity)| TruckLine { vehicle_type, quantity }).collect(),
        trucks_requested: lines.iter().map(|(_, quantity)| quantity).sum(),
        created_at: Utc::now(),
    }
}

/// A transporter to seed: id, position, the one vehicle type they drive, available or not.
type Seeded = (UserId, (f64, f64), VehicleType, bool);

/// Puts transporters on the map through the location-consumer's own use case, with profiles.
async fn seed(people: &[Seeded]) {
    let store = weelo_testkit::store().await;
    for (id, _, vehicle, available) in people {
        let profile = TransporterProfile {
            transporter_id: id.clone(),
            vehicle_types: vec![*vehicle],
            available: *available,
            updated_at: Utc::now(),
            active_trip: None,
        };
        store.put_profile(&profile).await.unwrap();
    }
    let updates: Vec<(EventId, LocationUpdated)> = people
        .iter()
        .map(|(id, (lat, lng), _, _)| {
            let point = LocationPoint {
                lat: *lat,
                lng: *lng,
                recorded_at: Utc::now(),
                speed_kmh: None,
                heading_deg: None,
                accuracy_m: None,
            };
            (EventId::generate(), LocationUpdated { transporter_id: id.clone(), point })
        })
        .collect();
    let locations =
        LocationProcessing::new(weelo_testkit::store().await, GeoGrid::default(), chrono::Duration::seconds(60));
    locations.on_batch(&updates).await.unwrap();
}

fn people(n: usize, centre: (f64, f64), spread_deg: f64, vehicle: VehicleType, available: bool) -> Vec<Seeded> {
    (0..n)
        .map(|i| {
            let angle = i as f64 * 2.399;
            let radius = spread_deg * ((i % 10) as f64 + 1.0) / 10.0;
            let at = (centre.0 + radius * angle.sin(), centre.1 + radius * angle.cos());
            (UserId::parse(&unique("transporter")).unwrap(), at, vehicle, available)
        })
        .collect()
}

async fn handle(fanout: &OrderFanout, records: &[EventRecord]) {
    let response =
        weelo_order_fanout::handle(fanout, LambdaEvent::new(msk_event(records, 0), Context::default())).await.unwrap();
    assert!(response.is_success(), "{response:?}");
}

fn booking(centre: (f64, f64), vehicle: VehicleType) -> Booking {
    Booking {
        booking_id: BookingId::generate(),
        customer_id: UserId::parse(&unique("customer")).unwrap(),
        pickup: Place { lat: centre.0, lng: centre.1, address: None },
        drop: Place { lat: centre.0 + 0.5, lng: centre.1, address: None },
        vehicle_type: vehicle,
        scheduled_at: None,
        created_at: Utc::now(),
        trip: Trip::new(Utc::now(), None, &OfferTimes::default()),
    }
}

#[tokio::test]
async fn a_booking_is_offered_to_near_available_transporters_of_its_type_only() {
    // GIVEN 200 transporters around one city: 80 near tipper drivers who are available, 40 far away,
    // 40 near with the wrong truck, 40 near but unavailable
    weelo_testkit::init();
    let fanout = weelo_order_fanout::from_env().await.unwrap();
    let centre = private_city();
    let matching = people(80, centre, 0.04, VehicleType::Tipper, true);
    let far = people(40, (centre.0 + 1.5, centre.1), 0.04, VehicleType::Tipper, true);
    let wrong_type = people(40, centre, 0.04, VehicleType::Container, true);
    let unavailable = people(40, centre, 0.04, VehicleType::Tipper, false);
    for group in [&matching, &far, &wrong_type, &unavailable] {
        seed(group).await;
    }
    let since = Utc::now();
    let booking = booking(centre, VehicleType::Tipper);
    weelo_testkit::store().await.create_booking(Creation::alone(&booking)).await.unwrap();
    let created = DomainEvent::BookingCreated(booking.clone()).to_record(EventId::generate(), "/weelo/api", Utc::now());

    // WHEN booking.created is handled, and then delivered a second time
    handle(&fanout, std::slice::from_ref(&created)).await;
    handle(&fanout, std::slice::from_ref(&created)).await;

    // THEN exactly the 80 matching transporters hold an offer
    let expected: BTreeSet<UserId> = matching.iter().map(|p| p.0.clone()).collect();
    let offered: BTreeSet<UserId> = weelo_testkit::store()
        .await
        .offered_to(OfferSubject::Booking(booking.booking_id))
        .await
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(offered, expected);

    // AND one notification id per recipient was published (the redelivery reused the same ids)
    let booking_id = booking.booking_id.to_string();
    let records = records_matching("notification.fcm", since, 160, move |r| r.value_text().contains(&booking_id)).await;
    let recipients: BTreeSet<String> = records.iter().map(|r| r.key_text().unwrap()).collect();
    let ids: BTreeSet<String> = records.iter().map(|r| cloud_event(r)["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(recipients, expected.iter().map(|u| u.to_string()).collect());
    assert_eq!(ids.len(), 80);
    let first = cloud_event(&records[0]);
    assert_eq!(first["type"], "com.weelo.notification.fcm.v1");
    assert_eq!(first["data"]["kind"], "booking.offered");
    assert_eq!(first["data"]["data"]["bookingId"], booking.booking_id.to_string());
}

#[tokio::test]
async fn each_order_line_goes_to_its_nearest_drivers_up_to_its_limit_with_one_push_per_line() {
    // GIVEN one candidate per truck, 3 tipper drivers within 300 m of the pickup, 2 at about
    // 800 m, 3 more 6 km away, and an order for 3 tippers, 1 open truck (nobody drives one) and
    // 2 more tippers
    weelo_testkit::init();
    let mut settings = weelo_order_fanout::Settings::from_env().unwrap();
    settings.fanout.candidates_per_truck = 1;
    let fanout = weelo_order_fanout::connect(&settings).await.unwrap();
    let centre = private_city();
    let at = |km: f64| (centre.0 + km / 111.0, centre.1);
    let driver = |km: f64| (UserId::parse(&unique("transporter")).unwrap(), at(km), VehicleType::Tipper, true);
    let nearest: Vec<Seeded> = [0.1, 0.2, 0.3].map(driver).to_vec();
    let next: Vec<Seeded> = [0.8, 0.9].map(driver).to_vec();
    let far: Vec<Seeded> = [6.0, 6.1, 6.2].map(driver).to_vec();
    for group in [&nearest, &next, &far] {
        seed(group).await;
    }
    let order = order_at(centre, &[(VehicleType::Tipper, 3), (VehicleType::Open, 1), (VehicleType::Tipper, 2)]);
    weelo_testkit::store().await.create_order(Creation::alone(&order)).await.unwrap();
    let since = Utc::now();
    let record = DomainEvent::OrderCreated(order.clone()).to_record(EventId::generate(), "/weelo/api", Utc::now());

    // WHEN order.created is handled twice
    handle(&fanout, std::slice::from_ref(&record)).await;
    handle(&fanout, std::slice::from_ref(&record)).await;

    // THEN the 3-truck line is offered to the 3 nearest, the 2-truck line to the 2 nearest, the
    // open line to nobody
    let ids = |people: &[Seeded]| -> BTreeSet<UserId> { people.iter().map(|p| p.0.clone()).collect() };
    let offered = async |line: u32| -> BTreeSet<UserId> {
        weelo_testkit::store()
            .await
            .offered_to(OfferSubject::OrderLine(order.order_id, line))
            .await
            .unwrap()
            .into_iter()
            .collect()
    };
    assert_eq!(offered(0).await, ids(&nearest));
    assert_eq!(offered(1).await, BTreeSet::new());
    assert_eq!(offered(2).await, ids(&nearest[..2]));

    // AND each offer was pushed once, naming its line: two pushes for the two nearest, one for the
    // third, none for anyone else, and the redelivery added no new notification
    let order_id = order.order_id.to_string();
    let records = records_matching("notification.fcm", since, 10, move |r| r.value_text().contains(&order_id)).await;
    let mut lines_by_driver: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut notification_ids = BTreeSet::new();
    for record in &records {
        let event = cloud_event(record);
        notification_ids.insert(event["id"].as_str().unwrap().to_owned());
        let line = event["data"]["data"]["line"].as_str().unwrap().to_owned();
        lines_by_driver.entry(record.key_text().unwrap()).or_default().insert(line);
    }
    assert_eq!(notification_ids.len(), 5, "{lines_by_driver:?}");
    let expected: BTreeMap<String, BTreeSet<String>> = [
        (nearest[0].0.to_string(), BTreeSet::from(["0".to_owned(), "2".to_owned()])),
        (nearest[1].0.to_string(), BTreeSet::from(["0".to_owned(), "2".to_owned()])),
        (nearest[2].0.to_string(), BTreeSet::from(["0".to_owned()])),
    ]
    .into();
    assert_eq!(lines_by_driver, expected);
}

#[tokio::test]
async fn an_order_becomes_fifty_truck_requests_offered_by_type() {
    // GIVEN 30 available transporters of each type near the pickup, and 5 who drive both a tipper
    // and a container
    weelo_testkit::init();
    let fanout = weelo_order_fanout::from_env().await.unwrap();
    let centre = private_city();
    let tippers = people(30, centre, 0.03, VehicleType::Tipper, true);
    let containers = people(30, centre, 0.03, VehicleType::Container, true);
    let opens = people(30, centre, 0.03, VehicleType::Open, true);
    let both = people(5, centre, 0.03, VehicleType::Tipper, true);
    for group in [&tippers, &containers, &opens, &both] {
        seed(group).await;
    }
    for (id, ..) in &both {
        let profile = TransporterProfile {
            transporter_id: id.clone(),
            vehicle_types: vec![VehicleType::Tipper, VehicleType::Container],
            available: true,
            updated_at: Utc::now(),
            active_trip: None,
        };
        weelo_testkit::store().await.put_profile(&profile).await.unwrap();
    }
    let order = order_at(
        centre,
        &[(VehicleType::Tipper, 10), (VehicleType::Container, 20), (VehicleType::Open, 15), (VehicleType::Tipper, 5)],
    );
    // The order is stored by the api before its event is published.
    let record = DomainEvent::OrderCreated(order.clone()).to_record(EventId::generate(), "/weelo/api", Utc::now());
    weelo_testkit::store().await.create_order(Creation::alone(&order)).await.unwrap();

    // WHEN order.created is handled twice
    handle(&fanout, std::slice::from_ref(&record)).await;
    handle(&fanout, std::slice::from_ref(&record)).await;

    // THEN the order is open with exactly 50 truck requests: 10 + 5 tipper, 20 container, 15 open,
    // each on its line
    let view = weelo_testkit::store().await.get_order(order.order_id).await.unwrap().unwrap();
    assert_eq!(view.order.status, OrderStatus::Open);
    assert_eq!(view.truck_requests.len(), 50);
    let count = |v: VehicleType| view.truck_requests.iter().filter(|r| r.vehicle_type == v).count();
    assert_eq!((count(VehicleType::Tipper), count(VehicleType::Container), count(VehicleType::Open)), (15, 20, 15));
    let on_line = |line: u32| view.truck_requests.iter().filter(|r| r.line == line).count();
    assert_eq!((on_line(0), on_line(1), on_line(2), on_line(3)), (10, 20, 15, 5));

    // AND each line is offered once to each transporter of its type, and only to them (those who
    // drive both types are on the tipper and container lines; both tipper lines go to the tippers)
    let ids = |groups: &[&Vec<Seeded>]| -> Vec<UserId> {
        let mut ids: Vec<UserId> = groups.iter().flat_map(|g| g.iter().map(|p| p.0.clone())).collect();
        ids.sort();
        ids
    };
    for (line, expected) in [
        (0, ids(&[&tippers, &both])),
        (1, ids(&[&containers, &both])),
        (2, ids(&[&opens])),
        (3, ids(&[&tippers, &both])),
    ] {
        let mut offered =
            weelo_testkit::store().await.offered_to(OfferSubject::OrderLine(order.order_id, line)).await.unwrap();
        offered.sort();
        assert_eq!(offered, expected, "line {line}");
    }
}

#[tokio::test]
async fn offered_transporters_are_told_to_drop_a_cancelled_booking_and_nothing_is_written_for_it() {
    // GIVEN a booking offered to five transporters
    weelo_testkit::init();
    let fanout = weelo_order_fanout::from_env().await.unwrap();
    let offered: Vec<UserId> = (0..5).map(|_| UserId::parse(&unique("transporter")).unwrap()).collect();
    let mut booking = booking(private_city(), VehicleType::Tipper);
    let subject = OfferSubject::Booking(booking.booking_id);
    let offered_at = Utc::now();
    weelo_testkit::store().await.put_offers(subject, &offered, offered_at).await.unwrap();
    let since = Utc::now();
    // (each open offer reads back with the time it was written, to the millisecond)
    let mut open = weelo_testkit::store().await.open_offers(subject).await.unwrap();
    open.sort();
    let millis = offered_at.timestamp_millis();
    let mut expected: Vec<_> = offered.iter().map(|u| (u.clone(), millis)).collect();
    expected.sort();
    assert_eq!(open.into_iter().map(|(u, at)| (u, at.timestamp_millis())).collect::<Vec<_>>(), expected);

    // WHEN its customer cancels it and the event reaches the fan-out
    booking.trip.take(TripStep::Cancel, None, Utc::now(), &OfferTimes::default()).unwrap();
    let changed = BookingChanged {
        step: TripStep::Cancel,
        previous_status: BookingStatus::Searching,
        transporter_id: None,
        booking: booking.clone(),
    };
    let record = DomainEvent::BookingChanged(changed).to_record(EventId::generate(), "/weelo/api", Utc::now());
    handle(&fanout, &[record]).await;

    // THEN each of them gets one data-only withdrawal, and none holds the offer any more
    let id = booking.booking_id.to_string();
    let records = records_matching("notification.fcm", since, 5, move |r| r.value_text().contains(&id)).await;
    let recipients: BTreeSet<String> = records.iter().map(|r| r.key_text().unwrap()).collect();
    assert_eq!(recipients, offered.iter().map(|u| u.to_string()).collect());
    for record in &records {
        let data = &cloud_event(record)["data"];
        assert_eq!((data["kind"].as_str(), data["dataOnly"].as_bool()), (Some("booking.withdrawn"), Some(true)));
        assert_eq!(data["data"]["reason"], "cancelled");
        // AND names the offer it drops by its time, so the app drops that offer and no newer one
        let named = chrono::DateTime::parse_from_rfc3339(data["data"]["offeredAt"].as_str().unwrap()).unwrap();
        assert_eq!(named.timestamp_millis(), millis, "{data}");
    }
    // AND their offers are left in the table as they were (the cancelled booking is what makes
    // them stand no more): a withdrawal costs a push, not two writes an offer
    let mut left = weelo_testkit::store().await.offered_to(subject).await.unwrap();
    left.sort();
    let mut expected = offered.clone();
    expected.sort();
    assert_eq!(left, expected);
}
