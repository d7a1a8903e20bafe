//! The JSON bodies clients send, and their validation into the use cases' commands.
//!
//! Decoding is strict (unknown fields are rejected) and every problem names its field by JSON path,
//! so a client sees `pickup.lat: must be a number from -90 to 90` rather than a generic 400. The api
//! decodes a body here, at its edge, and hands the use case the command.

mod bookings;
mod devices;
mod location;
mod orders;
mod queries;

pub use bookings::{CreateBookingRequest, NewBooking};
pub use devices::{NewDevice, ProfileUpdate, RegisterDeviceRequest, TransporterProfileRequest};
pub use location::{LocationPointInput, parse_location_body};
pub use orders::{CreateOrderRequest, NewOrder, TruckLineInput};
pub use queries::{ListQuery, MAX_CURSOR_CHARS, OfferQuery, OfferSort, PageLimit, TrackQuery};

use crate::error::ValidationError;
use crate::model::geo::{GeoPoint, Place};
use serde::Deserialize;
use serde::de::DeserializeOwned;

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

pub(crate) fn decode_naming_the_field<T: DeserializeOwned>(body: &[u8]) -> Result<T, ValidationError> {
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
pub(crate) fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
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
    pub(crate) fn validate(&self, field: &str, problems: &mut ValidationError) -> Place {
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

/// The `Idempotency-Key` header: 1–255 printable ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let ok = !raw.is_empty()
            && raw.len() <= limits::MAX_IDEMPOTENCY_KEY_CHARS
            && raw.bytes().all(|b| b.is_ascii_graphic());
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(ValidationError::single("Idempotency-Key", "must be 1 to 255 printable ASCII characters"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests;
