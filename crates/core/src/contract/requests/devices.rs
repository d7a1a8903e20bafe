//! `POST /v1/devices` and `PUT /v1/transporters/me`.

use super::limits;
use crate::error::ValidationError;
use crate::model::device::Platform;
use crate::model::vehicle::VehicleType;
use serde::Deserialize;

/// The body of `POST /v1/devices`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RegisterDeviceRequest {
    pub platform: Platform,
    pub token: String,
}

/// A phone to register for pushes: its platform and its FCM token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDevice {
    pub platform: Platform,
    pub token: String,
}

impl RegisterDeviceRequest {
    pub fn validate(self) -> Result<NewDevice, ValidationError> {
        let length = self.token.chars().count();
        let mut problems = ValidationError::default();
        if length == 0 || length > limits::MAX_PUSH_TOKEN_CHARS {
            problems.push("token", format!("must be 1 to {} characters", limits::MAX_PUSH_TOKEN_CHARS));
        } else if !self.token.chars().all(|c| c.is_ascii_graphic()) {
            problems.push("token", "must be printable ASCII without spaces");
        }
        problems.into_result(|| NewDevice { platform: self.platform, token: self.token })
    }
}

/// The body of `PUT /v1/transporters/me`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TransporterProfileRequest {
    pub vehicle_types: Vec<VehicleType>,
    pub available: bool,
}

/// What a transporter says of themself: the trucks they run, whether they take work now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileUpdate {
    pub vehicle_types: Vec<VehicleType>,
    pub available: bool,
}

impl TransporterProfileRequest {
    pub fn validate(self) -> Result<ProfileUpdate, ValidationError> {
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
        problems.into_result(|| ProfileUpdate { vehicle_types: self.vehicle_types, available: self.available })
    }
}
