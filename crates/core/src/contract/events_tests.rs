use super::*;
use crate::model::trip::{OfferTimes, Trip};

fn booking() -> Booking {
    Booking {
        booking_id: BookingId::generate(),
        customer_id: UserId::parse("customer-1").unwrap(),
        pickup: Place { lat: 19.0, lng: 72.8, address: Some("Dock 4".into()) },
        drop: Place { lat: 18.5, lng: 73.8, address: None },
        vehicle_type: VehicleType::Tipper,
        scheduled_at: None,
        created_at: Utc::now(),
        trip: Trip::new(Utc::now(), None, &OfferTimes::default()),
    }
}

#[test]
fn a_record_is_a_structured_cloudevent_that_decodes_to_the_same_event() {
    let event = DomainEvent::BookingCreated(booking());
    let id = EventId::generate();
    let record = event.to_record(id, "/weelo/api", Utc::now());
    assert_eq!(record.topic, "booking.events");
    assert_eq!(record.key, event.key());
    let json: serde_json::Value = serde_json::from_str(&record.payload).unwrap();
    assert_eq!(json["specversion"], "1.0");
    assert_eq!(json["type"], "com.weelo.booking.created.v1");
    assert_eq!(json["source"], "/weelo/api");
    assert_eq!(json["subject"], format!("booking/{}", record.key));
    assert_eq!(json["data"]["vehicleType"], "tipper");
    assert_eq!(DomainEvent::from_payload(record.payload.as_bytes()).unwrap(), (id, event));
}

#[test]
fn garbage_unknown_types_and_wrong_data_are_told_apart() {
    assert!(matches!(DomainEvent::from_payload(b"not json"), Err(DecodeError::NotCloudEvent(_))));
    let record = DomainEvent::BookingCreated(booking()).to_record(EventId::generate(), "/t", Utc::now());
    let renamed = record.payload.replace("com.weelo.booking.created.v1", "com.weelo.booking.created.v9");
    assert!(matches!(DomainEvent::from_payload(renamed.as_bytes()), Err(DecodeError::UnknownType(_))));
    let retyped = record.payload.replace("com.weelo.booking.created.v1", "com.weelo.booking.accepted.v1");
    assert!(matches!(DomainEvent::from_payload(retyped.as_bytes()), Err(DecodeError::BadData { .. })));
}

#[test]
fn a_trip_step_travels_under_its_own_type_and_decodes_only_under_it() {
    let mut after = booking();
    let driver = UserId::parse("driver-1").unwrap();
    after.trip.take(TripStep::Accept, Some(&driver), Utc::now(), &OfferTimes::default()).unwrap();
    let changed = BookingChanged {
        step: TripStep::Accept,
        previous_status: BookingStatus::Searching,
        transporter_id: Some(driver),
        booking: after,
    };
    let event = DomainEvent::BookingChanged(changed);
    let id = EventId::generate();
    let record = event.to_record(id, "/weelo/api", Utc::now());
    assert_eq!(record.topic, "booking.events");
    let json: serde_json::Value = serde_json::from_str(&record.payload).unwrap();
    assert_eq!(json["type"], "com.weelo.booking.accepted.v1");
    assert_eq!(
        (json["data"]["status"].as_str(), json["data"]["transporterId"].as_str()),
        (Some("accepted"), Some("driver-1"))
    );
    assert_eq!(DomainEvent::from_payload(record.payload.as_bytes()).unwrap(), (id, event));
    let mislabelled = record.payload.replace("com.weelo.booking.accepted.v1", "com.weelo.booking.delivered.v1");
    assert!(matches!(DomainEvent::from_payload(mislabelled.as_bytes()), Err(DecodeError::BadData { .. })));
}

#[test]
fn topic_names_round_trip() {
    for topic in Topic::ALL {
        assert_eq!(Topic::from_name(topic.name()), Some(topic));
    }
}

#[test]
fn an_offer_travels_with_its_booking_and_keeps_its_time() {
    let booking = booking();
    let offered = DomainEvent::BookingOffered(BookingOffered {
        booking_id: booking.booking_id,
        vehicle_type: booking.vehicle_type,
        pickup: booking.pickup.clone(),
        created_at: booking.created_at,
        scheduled_at: None,
        round: OfferRound::First,
        first_offer: true,
        transporters: 7,
    });
    let at = Utc::now() - chrono::Duration::minutes(5);
    let record = offered.to_record(EventId::generate(), "/weelo/order-fanout", at);
    assert_eq!((record.topic.as_str(), record.key.clone()), ("booking.events", booking.booking_id.to_string()));
    let json: serde_json::Value = serde_json::from_str(&record.payload).unwrap();
    assert_eq!(
        (json["type"].as_str(), json["data"]["round"].as_str()),
        (Some("com.weelo.booking.offered.v1"), Some("first"))
    );
    let timed = DomainEvent::from_payload_timed(record.payload.as_bytes()).unwrap();
    assert_eq!((timed.id, timed.event), (record.event_id, offered));
    assert_eq!(timed.time.timestamp_micros(), at.timestamp_micros());
}

fn point_at(seconds: i64) -> crate::model::location::LocationPoint {
    crate::model::location::LocationPoint {
        lat: 19.0,
        lng: 72.8,
        recorded_at: DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap(),
        speed_kmh: Some(40.0),
        heading_deg: None,
        accuracy_m: None,
    }
}

#[test]
fn a_request_of_points_is_one_record_whose_points_come_back_with_stable_ids_of_their_own() {
    // GIVEN a transporter's request of three points, as the api publishes it
    let transporter = UserId::parse("truck-1").unwrap();
    let points = vec![point_at(0), point_at(5), point_at(10)];
    let event = DomainEvent::LocationsReported(LocationsReported { transporter_id: transporter.clone(), points });
    let id = EventId::generate();
    let record = event.to_record(id, "/weelo/api", Utc::now());
    assert_eq!((record.topic.as_str(), record.key.as_str()), ("location.updated", "truck-1"));

    // WHEN a consumer decodes it into per-point updates, twice (a redelivery)
    let decode = || DomainEvent::from_payload(record.payload.as_bytes()).unwrap();
    let (decoded_id, decoded) = decode();
    let updates = decoded.location_updates(decoded_id).unwrap();
    let again = decode().1.location_updates(decoded_id).unwrap();

    // THEN the three points in order, each with an id of its own that the redelivery repeats
    let times: Vec<i64> = updates.iter().map(|(_, u)| u.point.recorded_at.timestamp() - 1_800_000_000).collect();
    assert_eq!(times, [0, 5, 10]);
    assert!(updates.iter().all(|(_, u)| u.transporter_id == transporter));
    let ids: std::collections::BTreeSet<EventId> = updates.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids.len(), 3);
    assert!(!ids.contains(&id));
    assert_eq!(updates, again);
}

#[test]
fn a_single_point_event_of_before_still_decodes_to_its_point_under_its_own_id() {
    let update = LocationUpdated { transporter_id: UserId::parse("truck-1").unwrap(), point: point_at(0) };
    let id = EventId::generate();
    let record = DomainEvent::LocationUpdated(update.clone()).to_record(id, "/weelo/api", Utc::now());
    let (decoded_id, decoded) = DomainEvent::from_payload(record.payload.as_bytes()).unwrap();
    assert_eq!(decoded.location_updates(decoded_id).unwrap(), vec![(id, update)]);
    assert_eq!(DomainEvent::BookingCreated(booking()).location_updates(id), None);
}
