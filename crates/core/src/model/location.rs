//! GPS points streamed by truck apps, and a transporter's latest known position.

use crate::model::ids::UserId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How long every GPS point is kept (the history store's retention): a trip's track can be read
/// back for this long.
pub const HISTORY_RETENTION_DAYS: i64 = 7;

/// One validated GPS fix.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LocationPoint {
    pub lat: f64,
    pub lng: f64,
    pub recorded_at: DateTime<Utc>,
    pub speed_kmh: Option<f64>,
    pub heading_deg: Option<f64>,
    pub accuracy_m: Option<f64>,
}

/// A transporter's newest point: what `GET /v1/bookings/{id}/location` answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Position {
    pub transporter_id: UserId,
    #[serde(flatten)]
    pub point: LocationPoint,
}
