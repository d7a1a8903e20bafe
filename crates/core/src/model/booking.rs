//! A booking: one customer asking for one truck, offered to nearby transporters, won by the first
//! transporter who accepts.

use crate::model::geo::Place;
use crate::model::ids::{BookingId, UserId};
use crate::model::vehicle::VehicleType;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BookingStatus {
    /// Offered to transporters, nobody has accepted yet.
    Searching,
    Accepted,
    Cancelled,
}

impl BookingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            BookingStatus::Searching => "searching",
            BookingStatus::Accepted => "accepted",
            BookingStatus::Cancelled => "cancelled",
        }
    }
}

/// The booking as stored and as returned by `GET /v1/bookings/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Booking {
    pub booking_id: BookingId,
    pub customer_id: UserId,
    pub status: BookingStatus,
    pub pickup: Place,
    pub drop: Place,
    pub vehicle_type: VehicleType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted_by: Option<UserId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancelled_at: Option<DateTime<Utc>>,
}

/// The answer to `POST /v1/bookings`; replayed as-is for a repeated idempotency key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BookingReceipt {
    pub booking_id: BookingId,
    pub status: BookingStatus,
    pub created_at: DateTime<Utc>,
}
