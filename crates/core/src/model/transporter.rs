//! A transporter's profile: which trucks they run and whether they take work now.

use crate::model::ids::UserId;
use crate::model::vehicle::VehicleType;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransporterProfile {
    pub transporter_id: UserId,
    pub vehicle_types: Vec<VehicleType>,
    pub available: bool,
    pub updated_at: DateTime<Utc>,
}
