//! The JSON bodies clients send, and their validation into domain commands.
//!
//! Decoding is strict (unknown fields are rejected) and every problem names its field by JSON path,
//! so a client sees `pickup.lat: must be a number from -90 to 90` rather than a generic 400.

use crate::device::Platform;
use crate::error::ValidationError;
use crate::geo::{GeoPoint, Place, quantize};
use crate::location::LocationPoint;
use crate::order::TruckLine;
use crate::vehicle::VehicleType;
use chrono::{DateTime, Duration, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// Limits of the API contract (also stated in `docs/openapi.yaml`).
pub mod limits {
    pub const MAX_BODY_BYTES: usize = 64 * 1024;
    pub const MAX_POINTS_PER_REQUEST: usize = 100;
    pub const MAX_ORDER_LINES: usize = 10;
    pub const MAX_TRUCKS_PER_LINE: u32 = 50;
    pub const MAX_TRUCKS_PER_ORDER: u32 = 100;
    pub const MAX_PUSH_TOKEN_CHARS: usize = 4096;
    pub const MAX_IDEMPOTENCY_KEY_CHARS: usize = 255;
    /// GPS clocks drift; a point from further in the future than this is a bug or a lie.
    pub const MAX_POINT_FUTURE_SKEW_SECS: i64 = 120;
    /// Points older than this are useless for dispatch and would outlive the history's TTL budget.
    pub const MAX_POINT_AGE_SECS: i64 = 24 * 3600;
    pub const MAX_SCHEDULE_AHEAD_DAYS: i64 = 30;
    pub const MAX_SCHEDULE_PAST_SECS: i64 = 300;
}

/// Decodes a JSON body into `T`, naming the offending field on failure.
pub fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, ValidationError> {
    // Tracking the path costs on every field; only a refused body needs it, to name the field, so
    // a body is decoded plainly first and again with the path only when that fails.
    match serde_json::from_slice(body) {
        Ok(value) => Ok(value),
        Err(_) => decode_naming_the_field(body),
    }
}

fn decode_naming_the_field<T: DeserializeOwned>(body: &[u8]) -> Result<T, ValidationError> {
    let mut json = serde_json::Deserializer::from_slice(body);
    let value: T = serde_path_to_error::deserialize(&mut json).map_err(|error| {
        let path = error.path().to_string();
        let problem = describe_json_error(error.inner());
        // serde reports a missing field at its parent; name the field itself.
        let missing = problem.strip_prefix("missing field `").and_then(|rest| rest.split('`').next());
        let field = match (path.as_str(), missing) {
            ("." | "?", None) => "body".to_owned(),
            ("." | "?", Some(name)) => name.to_owned(),
            (parent, Some(name)) => format!("{parent}.{name}"),
            (path, None) => path.to_owned(),
        };
        let problem = if missing.is_some() { "is required".to_owned() } else { problem };
        ValidationError::single(field, problem)
    })?;
    json.end().map_err(|error| ValidationError::single("body", describe_json_error(&error)))?;
    Ok(value)
}

/// serde_json's message without the "at line 1 column 7" suffix, which means nothing to an app developer
/// once the field is named.
fn describe_json_error(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.find(" at line ") {
        Some(cut) => text[..cut].to_owned(),
        None => text,
    }
}

/// An optional field that, when present, must hold a value: `null` is refused like any other
/// wrong type (the contract lists no nullable input), while a missing field stays `None`.
fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(deserializer: D) -> Result<Option<T>, D::Error> {
    T::deserialize(deserializer).map(Some)
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PlaceInput {
    pub lat: f64,
    pub lng: f64,
    #[serde(default, deserialize_with = "present")]
    pub address: Option<String>,
}

impl PlaceInput {
    fn validate(&self, field: &str, problems: &mut ValidationError) -> Place {
        let point = GeoPoint::parse(self.lat, self.lng).unwrap_or_else(|errors| {
            for (name, problem) in errors {
                problems.push(format!("{field}.{name}"), problem);
            }
            GeoPoint { lat: self.lat, lng: self.lng }
        });
        let address = self.address.as_ref().map(|a| a.trim().to_owned());
        if let Some(address) = &address {
            if address.chars().count() > Place::MAX_ADDRESS_CHARS {
                problems.push(
                    format!("{field}.address"),
                    format!("must be at most {} characters", Place::MAX_ADDRESS_CHARS),
                );
            }
            if address.chars().any(char::is_control) {
                problems.push(format!("{field}.address"), "must not contain control characters");
            }
        }
        Place { lat: point.lat, lng: point.lng, address: address.filter(|a| !a.is_empty()) }
    }
}

/// `POST /v1/bookings`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CreateBookingRequest {
    pub pickup: PlaceInput,
    pub drop: PlaceInput,
    pub vehicle_type: VehicleType,
    #[serde(default, deserialize_with = "present")]
    pub scheduled_at: Option<DateTime<Utc>>,
}

/// A booking request that passed validation. Serialised to fingerprint idempotent retries.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewBooking {
    pub pickup: Place,
    pub drop: Place,
    pub vehicle_type: VehicleType,
    pub scheduled_at: Option<DateTime<Utc>>,
}

impl CreateBookingRequest {
    pub fn validate(self, now: DateTime<Utc>) -> Result<NewBooking, ValidationError> {
        let mut problems = ValidationError::default();
        let pickup = self.pickup.validate("pickup", &mut problems);
        let drop = self.drop.validate("drop", &mut problems);
        if let Some(at) = self.scheduled_at {
            validate_schedule(at, now, "scheduledAt", &mut problems);
        }
        problems.into_result(|| NewBooking {
            pickup,
            drop,
            vehicle_type: self.vehicle_type,
            scheduled_at: self.scheduled_at,
        })
    }
}

fn validate_schedule(at: DateTime<Utc>, now: DateTime<Utc>, field: &str, problems: &mut ValidationError) {
    if at < now - Duration::seconds(limits::MAX_SCHEDULE_PAST_SECS) {
        problems.push(field, "must not be in the past");
    } else if at > now + Duration::days(limits::MAX_SCHEDULE_AHEAD_DAYS) {
        problems.push(field, format!("must be at most {} days ahead", limits::MAX_SCHEDULE_AHEAD_DAYS));
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TruckLineInput {
    pub vehicle_type: VehicleType,
    pub quantity: u32,
}

/// `POST /v1/orders`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CreateOrderRequest {
    pub pickup: PlaceInput,
    pub drop: PlaceInput,
    pub trucks: Vec<TruckLineInput>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewOrder {
    pub pickup: Place,
    pub drop: Place,
    pub trucks: Vec<TruckLine>,
}

impl NewOrder {
    pub fn trucks_requested(&self) -> u32 {
        self.trucks.iter().map(|t| t.quantity).sum()
    }
}

impl CreateOrderRequest {
    pub fn validate(self) -> Result<NewOrder, ValidationError> {
        use limits::*;
        let mut problems = ValidationError::default();
        let pickup = self.pickup.validate("pickup", &mut problems);
        let drop = self.drop.validate("drop", &mut problems);
        if self.trucks.is_empty() || self.trucks.len() > MAX_ORDER_LINES {
            problems.push("trucks", format!("must have 1 to {MAX_ORDER_LINES} lines"));
        }
        for (i, line) in self.trucks.iter().enumerate() {
            if !(1..=MAX_TRUCKS_PER_LINE).contains(&line.quantity) {
                problems.push(format!("trucks[{i}].quantity"), format!("must be from 1 to {MAX_TRUCKS_PER_LINE}"));
            }
        }
        let total: u64 = self.trucks.iter().map(|t| u64::from(t.quantity)).sum();
        if total > u64::from(MAX_TRUCKS_PER_ORDER) {
            problems.push("trucks", format!("must request at most {MAX_TRUCKS_PER_ORDER} trucks in total"));
        }
        let trucks =
            self.trucks.iter().map(|t| TruckLine { vehicle_type: t.vehicle_type, quantity: t.quantity }).collect();
        problems.into_result(|| NewOrder { pickup, drop, trucks })
    }
}

/// `POST /v1/devices`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RegisterDeviceRequest {
    pub platform: Platform,
    pub token: String,
}

impl RegisterDeviceRequest {
    pub fn validate(self) -> Result<RegisterDeviceRequest, ValidationError> {
        let length = self.token.chars().count();
        let mut problems = ValidationError::default();
        if length == 0 || length > limits::MAX_PUSH_TOKEN_CHARS {
            problems.push("token", format!("must be 1 to {} characters", limits::MAX_PUSH_TOKEN_CHARS));
        } else if !self.token.chars().all(|c| c.is_ascii_graphic()) {
            problems.push("token", "must be printable ASCII without spaces");
        }
        problems.into_result(|| self)
    }
}

/// `PUT /v1/transporters/me`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TransporterProfileRequest {
    pub vehicle_types: Vec<VehicleType>,
    pub available: bool,
}

impl TransporterProfileRequest {
    pub fn validate(self) -> Result<TransporterProfileRequest, ValidationError> {
        let mut problems = ValidationError::default();
        if self.vehicle_types.is_empty() {
            problems.push("vehicleTypes", "must name at least one vehicle type");
        }
        let mut seen = std::collections::BTreeSet::new();
        for (i, vehicle) in self.vehicle_types.iter().enumerate() {
            if !seen.insert(*vehicle) {
                problems.push(format!("vehicleTypes[{i}]"), "is listed twice");
            }
        }
        problems.into_result(|| self)
    }
}

/// One GPS fix as sent by a truck app.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LocationPointInput {
    pub lat: f64,
    pub lng: f64,
    pub recorded_at: DateTime<Utc>,
    #[serde(default, deserialize_with = "present")]
    pub speed_kmh: Option<f64>,
    #[serde(default, deserialize_with = "present")]
    pub heading_deg: Option<f64>,
    #[serde(default, deserialize_with = "present")]
    pub accuracy_m: Option<f64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct LocationBatchInput {
    points: Vec<LocationPointInput>,
}

/// `POST /v1/tracking/location`: one point, or `{"points": [...]}` with up to 100.
pub fn parse_location_body(body: &[u8], now: DateTime<Utc>) -> Result<Vec<LocationPoint>, ValidationError> {
    let (inputs, batch) = decode_location_inputs(body)?;
    if batch && (inputs.is_empty() || inputs.len() > limits::MAX_POINTS_PER_REQUEST) {
        return Err(ValidationError::single(
            "points",
            format!("must hold 1 to {} points", limits::MAX_POINTS_PER_REQUEST),
        ));
    }
    let prefix = if batch { "points" } else { "" };
    let mut problems = ValidationError::default();
    let single = !batch;
    let points = inputs
        .into_iter()
        .enumerate()
        .map(|(i, input)| {
            let field = |name: &str| {
                if single { name.to_owned() } else { format!("{prefix}[{i}].{name}") }
            };
            input.validate(now, &field, &mut problems)
        })
        .collect();
    problems.into_result(|| points)
}

/// The points of a location body, and whether it was the `{"points": [...]}` form. Most bodies
/// are valid, so each form is first tried plainly; only a refused body is looked into, to know
/// which form it meant and name its wrong field against that form.
fn decode_location_inputs(body: &[u8]) -> Result<(Vec<LocationPointInput>, bool), ValidationError> {
    if let Ok(batch) = serde_json::from_slice::<LocationBatchInput>(body) {
        return Ok((batch.points, true));
    }
    if let Ok(point) = serde_json::from_slice::<LocationPointInput>(body) {
        return Ok((vec![point], false));
    }
    let value: serde_json::Value = decode(body)?;
    if value.get("points").is_some() {
        Ok((decode_naming_the_field::<LocationBatchInput>(body)?.points, true))
    } else {
        Ok((vec![decode_naming_the_field(body)?], false))
    }
}

impl LocationPointInput {
    fn validate(
        self,
        now: DateTime<Utc>,
        field: &dyn Fn(&str) -> String,
        problems: &mut ValidationError,
    ) -> LocationPoint {
        let point = GeoPoint::parse(self.lat, self.lng).unwrap_or_else(|errors| {
            for (name, problem) in errors {
                problems.push(field(name), problem);
            }
            GeoPoint { lat: self.lat, lng: self.lng }
        });
        if self.recorded_at > now + Duration::seconds(limits::MAX_POINT_FUTURE_SKEW_SECS) {
            problems.push(field("recordedAt"), "must not be in the future");
        } else if self.recorded_at < now - Duration::seconds(limits::MAX_POINT_AGE_SECS) {
            problems.push(field("recordedAt"), "must be within the last 24 hours");
        }
        let mut range = |name: &str, value: Option<f64>, min: f64, max: f64, max_inclusive: bool| {
            if let Some(v) = value {
                let ok = v.is_finite() && v >= min && if max_inclusive { v <= max } else { v < max };
                if !ok {
                    let upper = if max_inclusive { "to" } else { "up to but excluding" };
                    problems.push(field(name), format!("must be from {min} {upper} {max}"));
                }
            }
        };
        // Hundredths are finer than any phone reports, and keep the numbers storable (see
        // `quantize`); the ranges are checked on what will be stored (359.999° would be 360°).
        let hundredths = |value: Option<f64>| value.map(|v| quantize(v, 0.01));
        let (speed_kmh, heading_deg, accuracy_m) =
            (hundredths(self.speed_kmh), hundredths(self.heading_deg), hundredths(self.accuracy_m));
        range("speedKmh", speed_kmh, 0.0, 300.0, true);
        range("headingDeg", heading_deg, 0.0, 360.0, false);
        range("accuracyM", accuracy_m, 0.0, 10_000.0, true);
        LocationPoint {
            lat: point.lat,
            lng: point.lng,
            recorded_at: self.recorded_at,
            speed_kmh,
            heading_deg,
            accuracy_m,
        }
    }
}

/// The `Idempotency-Key` header: 1–255 printable ASCII characters.
pub fn parse_idempotency_key(raw: &str) -> Result<&str, ValidationError> {
    let ok =
        !raw.is_empty() && raw.len() <= limits::MAX_IDEMPOTENCY_KEY_CHARS && raw.bytes().all(|b| b.is_ascii_graphic());
    if ok {
        Ok(raw)
    } else {
        Err(ValidationError::single("Idempotency-Key", "must be 1 to 255 printable ASCII characters"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(parse_idempotency_key("abc-123").is_ok());
        assert!(parse_idempotency_key("").is_err());
        assert!(parse_idempotency_key("has space").is_err());
        assert!(parse_idempotency_key(&"k".repeat(256)).is_err());
    }
}
