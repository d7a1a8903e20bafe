//! The decoding and validation rules of the request bodies.

use super::*;
use chrono::{Duration, Utc};

fn fields(error: ValidationError) -> Vec<String> {
    error.details.into_iter().map(|d| d.field).collect()
}

#[test]
fn booking_problems_name_each_field() {
    let body = br#"{"pickup":{"lat":91,"lng":0},"drop":{"lat":0,"lng":-181},"vehicleType":"open"}"#;
    let request: CreateBookingRequest = decode(body).unwrap();
    assert_eq!(fields(request.validate(Utc::now()).unwrap_err()), ["pickup.lat", "drop.lng"]);
}

#[test]
fn decoding_names_the_path_of_a_wrong_type_or_unknown_value() {
    let wrong_type = decode::<CreateBookingRequest>(
        br#"{"pickup":{"lat":"x","lng":0},"drop":{"lat":0,"lng":0},"vehicleType":"open"}"#,
    );
    assert_eq!(fields(wrong_type.unwrap_err()), ["pickup.lat"]);
    let unknown_vehicle = decode::<CreateBookingRequest>(
        br#"{"pickup":{"lat":1,"lng":0},"drop":{"lat":0,"lng":0},"vehicleType":"boat"}"#,
    );
    assert_eq!(fields(unknown_vehicle.unwrap_err()), ["vehicleType"]);
    assert_eq!(fields(decode::<CreateBookingRequest>(b"{").unwrap_err()), ["body"]);
    let missing =
        decode::<CreateBookingRequest>(br#"{"pickup":{"lat":1,"lng":0},"drop":{"lat":0},"vehicleType":"open"}"#);
    assert_eq!(missing.unwrap_err().details, [crate::FieldProblem::new("drop.lng", "is required")]);
    assert_eq!(fields(decode::<CreateBookingRequest>(br#"{"drop":{"lat":0,"lng":0}}"#).unwrap_err()), ["pickup"]);
    let trailing = br#"{"pickup":{"lat":1,"lng":0},"drop":{"lat":0,"lng":0},"vehicleType":"open"} x"#;
    assert_eq!(fields(decode::<CreateBookingRequest>(trailing).unwrap_err()), ["body"]);
}

#[test]
fn null_is_refused_where_a_value_may_only_be_left_out() {
    let booking = |extra: &str| {
        let body =
            format!(r#"{{"pickup":{{"lat":1,"lng":0{extra}}},"drop":{{"lat":0,"lng":0}},"vehicleType":"open"}}"#);
        decode::<CreateBookingRequest>(body.as_bytes())
    };
    assert!(booking("").unwrap().pickup.address.is_none());
    assert_eq!(fields(booking(r#","address":null"#).unwrap_err()), ["pickup.address"]);
    let now = Utc::now();
    let point = format!(r#"{{"lat":1,"lng":1,"recordedAt":"{}","speedKmh":null}}"#, now.to_rfc3339());
    assert_eq!(fields(parse_location_body(point.as_bytes(), now).unwrap_err()), ["speedKmh"]);
}

#[test]
fn numbers_too_small_to_store_become_zero_and_precision_stops_at_a_centimetre() {
    // GIVEN values DynamoDB cannot hold (|x| < 1e-130) and more digits than GPS measures
    let now = Utc::now();
    let body = format!(
        r#"{{"lat":4.3e-131,"lng":-19.07601234567,"recordedAt":"{}","accuracyM":5e-324,"headingDeg":359.999}}"#,
        now.to_rfc3339()
    );
    // WHEN parsed
    let result = parse_location_body(body.as_bytes(), now);
    // THEN tiny numbers are zero, coordinates keep 7 decimals, and a heading that rounds to 360 is refused
    assert_eq!(fields(result.unwrap_err()), ["headingDeg"]);
    let body = body.replace("359.999", "12.345");
    let point = &parse_location_body(body.as_bytes(), now).unwrap()[0];
    assert_eq!((point.lat, point.lng, point.accuracy_m), (0.0, -19.0760123, Some(0.0)));
    assert!(point.lat.is_sign_positive());
    assert!((point.heading_deg.unwrap() - 12.35).abs() < 1e-9);
}

#[test]
fn orders_enforce_line_quantity_and_total_limits() {
    let order = |trucks: &str| {
        let body = format!(r#"{{"pickup":{{"lat":1,"lng":1}},"drop":{{"lat":2,"lng":2}},"trucks":{trucks}}}"#);
        decode::<CreateOrderRequest>(body.as_bytes()).unwrap().validate()
    };
    assert_eq!(order(r#"[{"vehicleType":"tipper","quantity":50}]"#).unwrap().trucks_requested(), 50);
    assert_eq!(fields(order("[]").unwrap_err()), ["trucks"]);
    assert_eq!(fields(order(r#"[{"vehicleType":"open","quantity":0}]"#).unwrap_err()), ["trucks[0].quantity"]);
    let three_fifties = r#"[{"vehicleType":"open","quantity":50},{"vehicleType":"mini","quantity":50},{"vehicleType":"tanker","quantity":1}]"#;
    assert_eq!(fields(order(three_fifties).unwrap_err()), ["trucks"]);
}

#[test]
fn location_accepts_one_point_or_a_bounded_batch() {
    let now = Utc::now();
    let point = format!(r#"{{"lat":19.1,"lng":72.9,"recordedAt":"{}"}}"#, now.to_rfc3339());
    assert_eq!(parse_location_body(point.as_bytes(), now).unwrap().len(), 1);
    let batch = format!(r#"{{"points":[{point},{point}]}}"#);
    assert_eq!(parse_location_body(batch.as_bytes(), now).unwrap().len(), 2);
    let too_many = format!(r#"{{"points":[{}]}}"#, vec![point.as_str(); 101].join(","));
    assert_eq!(fields(parse_location_body(too_many.as_bytes(), now).unwrap_err()), ["points"]);
    let future = format!(
        r#"{{"points":[{point},{{"lat":1,"lng":1,"recordedAt":"{}","headingDeg":360}}]}}"#,
        (now + Duration::hours(1)).to_rfc3339()
    );
    assert_eq!(
        fields(parse_location_body(future.as_bytes(), now).unwrap_err()),
        ["points[1].recordedAt", "points[1].headingDeg"]
    );
}

#[test]
fn a_location_body_that_does_not_decode_names_its_field_in_the_form_it_meant() {
    let now = Utc::now();
    let at = now.to_rfc3339();
    let refused = |body: String| fields(parse_location_body(body.as_bytes(), now).unwrap_err());
    let point = format!(r#"{{"lat":19.1,"lng":72.9,"recordedAt":"{at}"}}"#);
    assert_eq!(
        refused(format!(r#"{{"points":[{point},{{"lat":"north","lng":1,"recordedAt":"{at}"}}]}}"#)),
        ["points[1].lat"]
    );
    assert_eq!(refused(format!(r#"{{"points":[{point},{{"lat":1,"lng":1}}]}}"#)), ["points[1].recordedAt"]);
    assert_eq!(refused(format!(r#"{{"points":[{point}],"truck":"x"}}"#)), ["truck"]);
    assert_eq!(refused(r#"{"lat":1,"lng":1}"#.to_owned()), ["recordedAt"]);
    assert_eq!(refused(format!(r#"{{"lat":1,"lng":1,"recordedAt":"{at}","speedKmh":null}}"#)), ["speedKmh"]);
    assert_eq!(refused(format!("{point} trailing")), ["body"]);
    assert_eq!(refused("[1, 2]".to_owned()), ["body"]);
}

#[test]
fn transporter_profiles_reject_duplicates_and_empty_lists() {
    let profile = |body: &str| decode::<TransporterProfileRequest>(body.as_bytes()).unwrap().validate();
    assert!(profile(r#"{"vehicleTypes":["open","tipper"],"available":true}"#).is_ok());
    assert_eq!(fields(profile(r#"{"vehicleTypes":[],"available":true}"#).unwrap_err()), ["vehicleTypes"]);
    assert_eq!(
        fields(profile(r#"{"vehicleTypes":["open","open"],"available":true}"#).unwrap_err()),
        ["vehicleTypes[1]"]
    );
}

#[test]
fn idempotency_keys_are_bounded_printable_ascii() {
    assert!(IdempotencyKey::parse("abc-123").is_ok());
    assert!(IdempotencyKey::parse("").is_err());
    assert!(IdempotencyKey::parse("has space").is_err());
    assert!(IdempotencyKey::parse(&"k".repeat(256)).is_err());
}
