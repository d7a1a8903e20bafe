//! `POST /v1/bookings`.

use super::{PlaceInput, limits, present};
use crate::error::ValidationError;
use crate::model::geo::Place;
use crate::model::vehicle::VehicleType;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// The body of `POST /v1/bookings`.
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
