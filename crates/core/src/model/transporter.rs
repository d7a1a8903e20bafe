//! A transporter's profile: which trucks they run, whether they take work now, and the trip they
//! are on.

use crate::model::ids::UserId;
use crate::model::trip::TripRef;
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
    /// The trip they hold (accepted up to delivered): while set, they are offered nothing new.
    /// Set and cleared by the trip's own transitions, never by a profile update.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_trip: Option<TripRef>,
}
