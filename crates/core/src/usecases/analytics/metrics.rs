//! The analytics metrics: their names (CloudWatch metric names, which the dashboard and alarms in
//! `infra/terraform` use; a drift test reads this file) and the figures one batch adds up to.
//!
//! Every series costs money each month, so the dimensions are bounded (docs/analytics.md):
//! booking metrics by `City` (the configured cities and `other`), by `VehicleType` (six) and in
//! total; truck-request metrics by `VehicleType` and in total; GPS metrics in total only.
//! Booking ids ride along as a property, never as a dimension.

use crate::model::vehicle::VehicleType;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet};

pub const BOOKINGS_CREATED: &str = "BookingsCreated";
pub const BOOKINGS_OFFERED: &str = "BookingsOffered";
pub const TRANSPORTERS_REACHED: &str = "TransportersReached";
pub const BOOKINGS_ACCEPTED: &str = "BookingsAccepted";
pub const BOOKINGS_EXPIRED: &str = "BookingsExpired";
pub const BOOKINGS_CANCELLED: &str = "BookingsCancelled";
pub const BOOKINGS_RELEASED: &str = "BookingsReleased";
pub const BOOKINGS_DELIVERED: &str = "BookingsDelivered";
pub const TIME_TO_FIRST_OFFER: &str = "TimeToFirstOffer";
pub const TIME_TO_ACCEPT: &str = "TimeToAccept";
pub const TRUCKS_REQUESTED: &str = "TrucksRequested";
pub const TRUCKS_ACCEPTED: &str = "TrucksAccepted";
pub const TRUCKS_EXPIRED: &str = "TrucksExpired";
pub const TRUCKS_CANCELLED: &str = "TrucksCancelled";
pub const GPS_POINTS: &str = "GpsPoints";
pub const ACTIVE_TRUCKS: &str = "ActiveTrucks";

/// Counted metrics of bookings, in funnel order.
pub const BOOKING_COUNTS: [&str; 8] = [
    BOOKINGS_CREATED,
    BOOKINGS_OFFERED,
    TRANSPORTERS_REACHED,
    BOOKINGS_ACCEPTED,
    BOOKINGS_EXPIRED,
    BOOKINGS_CANCELLED,
    BOOKINGS_RELEASED,
    BOOKINGS_DELIVERED,
];
/// Delays of bookings, in milliseconds (CloudWatch gives their p50, p90 and maximum per minute).
pub const BOOKING_DELAYS: [&str; 2] = [TIME_TO_FIRST_OFFER, TIME_TO_ACCEPT];
pub const TRUCK_COUNTS: [&str; 4] = [TRUCKS_REQUESTED, TRUCKS_ACCEPTED, TRUCKS_EXPIRED, TRUCKS_CANCELLED];
pub const GPS_COUNTS: [&str; 2] = [GPS_POINTS, ACTIVE_TRUCKS];

/// What a set of figures is about, which decides its dimensions.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Group {
    /// Bookings of one vehicle type picked up in one city (`other` outside the configured ones).
    Booking { vehicle: VehicleType, city: String },
    /// Truck requests of orders' lines of one vehicle type.
    Truck { vehicle: VehicleType },
    /// GPS points and the trucks sending them.
    Gps,
}

/// The figures of one group in one minute, from one batch of one partition. CloudWatch adds up
/// the figures of every batch of the same minute.
#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    /// The minute the events happened in (their CloudEvents `time`), not when they were counted.
    pub minute: DateTime<Utc>,
    pub group: Group,
    pub counts: BTreeMap<&'static str, u64>,
    /// Delay samples in milliseconds.
    pub delays_ms: BTreeMap<&'static str, Vec<f64>>,
    /// The bookings (or orders) these figures count, to find them from a metric.
    pub subjects: BTreeSet<String>,
}

impl Figures {
    pub fn new(minute: DateTime<Utc>, group: Group) -> Self {
        Self { minute, group, counts: BTreeMap::new(), delays_ms: BTreeMap::new(), subjects: BTreeSet::new() }
    }

    pub fn count(&self, metric: &str) -> u64 {
        self.counts.get(metric).copied().unwrap_or_default()
    }
}
