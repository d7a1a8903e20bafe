//! A booking: one customer asking for one truck, offered to nearby transporters, won by the first
//! transporter who accepts, who then takes it through its trip (see [`crate::model::trip`]).

use crate::model::geo::Place;
use crate::model::haul::Haul;
use crate::model::ids::{BookingId, UserId};
use crate::model::trip::{Trip, TripStatus};
use crate::model::vehicle::VehicleType;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A booking's status: the trip lifecycle of [`crate::model::trip`].
pub type BookingStatus = TripStatus;

/// The booking as stored and as returned by `GET /v1/bookings/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Booking {
    pub booking_id: BookingId,
    pub customer_id: UserId,
    pub pickup: Place,
    pub drop: Place,
    pub vehicle_type: VehicleType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// Its status, who holds it and its steps.
    #[serde(flatten)]
    pub trip: Trip,
}

impl Booking {
    pub fn status(&self) -> BookingStatus {
        self.trip.status
    }
}

/// What a booking's card in a list shows (`GET /v1/bookings`); the booking itself has the rest.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BookingSummary {
    pub booking_id: BookingId,
    pub status: BookingStatus,
    #[serde(flatten)]
    pub haul: Haul,
    pub created_at: DateTime<Utc>,
    /// The transporter who holds (or held) it.
    pub accepted_by: Option<UserId>,
}

impl BookingSummary {
    /// The attributes a summary is read from: what the store's list index projects.
    pub const FIELDS: [&'static str; 8] =
        ["bookingId", "status", "pickup", "drop", "vehicleType", "scheduledAt", "createdAt", "acceptedBy"];
}

impl From<&Booking> for BookingSummary {
    fn from(booking: &Booking) -> Self {
        Self {
            booking_id: booking.booking_id,
            status: booking.status(),
            haul: Haul::of_booking(booking),
            created_at: booking.created_at,
            accepted_by: booking.trip.accepted_by.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BookingReceipt {
    pub booking_id: BookingId,
    pub status: BookingStatus,
    pub created_at: DateTime<Utc>,
}
