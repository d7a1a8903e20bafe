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
