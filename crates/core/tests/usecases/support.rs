//! What the use-case tests share: callers, places, commands and GPS points.

use chrono::{DateTime, Utc};
use weelo_core::contract::events::LocationUpdated;
use weelo_core::contract::requests::{IdempotencyKey, NewBooking};
use weelo_core::model::booking::Booking;
use weelo_core::model::caller::{Caller, Customer, Role, Transporter};
use weelo_core::model::geo::Place;
use weelo_core::model::ids::{BookingId, EventId, UserId};
use weelo_core::model::location::LocationPoint;
use weelo_core::model::transporter::TransporterProfile;
use weelo_core::model::trip::{OfferTimes, Trip};
use weelo_core::model::vehicle::VehicleType;
use weelo_core::ports::TransporterStore;
use weelo_core::testing::MemoryStore;

pub fn caller(id: &str, role: Role) -> Caller {
    Caller { user_id: UserId::parse(id).unwrap(), role }
}

pub fn customer(id: &str) -> Customer {
    caller(id, Role::Customer).customer().unwrap()
}

pub fn transporter(id: &str) -> Transporter {
    caller(id, Role::Transporter).transporter().unwrap()
}

pub fn user(id: &str) -> UserId {
    UserId::parse(id).unwrap()
}

pub fn key(text: &str) -> IdempotencyKey {
    IdempotencyKey::parse(text).unwrap()
}

/// Mumbai, Andheri: where the tests' pickups are.
pub const PICKUP: (f64, f64) = (19.1136, 72.8697);

/// A point `metres` north of the pickup (0.001° of latitude is about 111 m).
pub fn north_of_pickup(metres: f64) -> (f64, f64) {
    (PICKUP.0 + metres / 111_000.0, PICKUP.1)
}

pub fn place(at: (f64, f64)) -> Place {
    Place { lat: at.0, lng: at.1, address: None }
}

/// CloudEvents types the tests look for.
pub const CREATED: &str = "com.weelo.booking.created.v1";
pub const ACCEPTED: &str = "com.weelo.booking.accepted.v1";

/// Transporters with a profile (a tipper, available), as every transporter who accepts has.
pub async fn on_the_road(store: &MemoryStore, transporters: &[&str]) {
    for id in transporters {
        let profile = TransporterProfile {
            transporter_id: user(id),
            vehicle_types: vec![VehicleType::Tipper],
            available: true,
            updated_at: Utc::now(),
            active_trip: None,
        };
        store.put_profile(&profile).await.unwrap();
    }
}

/// A booking of `customer`'s for a tipper, searching since now (not stored).
pub fn booking_of(customer: &str) -> Booking {
    Booking {
        booking_id: BookingId::generate(),
        customer_id: user(customer),
        pickup: place(PICKUP),
        drop: place((18.52, 73.85)),
        vehicle_type: VehicleType::Tipper,
        scheduled_at: None,
        created_at: Utc::now(),
        trip: Trip::new(Utc::now(), None, &OfferTimes::default()),
    }
}

pub fn new_booking(vehicle: VehicleType) -> NewBooking {
    NewBooking { pickup: place(PICKUP), drop: place((18.52, 73.85)), vehicle_type: vehicle, scheduled_at: None }
}

/// A GPS point of `transporter` at `at`, recorded at `recorded_at`.
pub fn point(transporter: &str, at: (f64, f64), recorded_at: DateTime<Utc>) -> (EventId, LocationUpdated) {
    let point =
        LocationPoint { lat: at.0, lng: at.1, recorded_at, speed_kmh: None, heading_deg: None, accuracy_m: None };
    (EventId::generate(), LocationUpdated { transporter_id: user(transporter), point })
}
