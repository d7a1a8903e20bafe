//! `POST /v1/tracking/location`: one GPS point or a batch.

use super::{decode, decode_naming_the_field, limits, present};
use crate::error::ValidationError;
use crate::model::geo::{GeoPoint, quantize};
use crate::model::location::LocationPoint;
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;

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
        self, now: DateTime<Utc>, field: &dyn Fn(&str) -> String, problems: &mut ValidationError,
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
