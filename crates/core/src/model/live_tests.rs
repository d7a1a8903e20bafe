use super::*;

#[test]
fn connection_ids_are_what_api_gateway_hands_out_and_nothing_that_breaks_a_key() {
    assert!(ConnectionId::parse("L0SM9cOFvHcCIhw=").is_ok());
    assert!(ConnectionId::parse("").is_err());
    assert!(ConnectionId::parse("a#b").is_err());
    assert!(ConnectionId::parse(&"a".repeat(129)).is_err());
}

#[test]
fn a_position_message_carries_the_trip_and_the_point_flat() {
    let trip = TripRef::Booking(BookingId::generate());
    let at = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
    let point =
        LocationPoint { lat: 1.5, lng: 2.5, recorded_at: at, speed_kmh: None, heading_deg: None, accuracy_m: None };
    let json: serde_json::Value = serde_json::from_str(&LiveMessage::Position { trip, point }.to_json()).unwrap();
    assert_eq!(json["type"], "position");
    assert_eq!(json["trip"], trip.to_string());
    assert_eq!((json["lat"].as_f64(), json["lng"].as_f64()), (Some(1.5), Some(2.5)));
    assert_eq!(json["recordedAt"], "2027-01-15T08:00:00Z");
}
