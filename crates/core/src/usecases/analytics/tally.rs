//! Adds up events into [`Figures`] per minute and group: the one set of counting rules, used by
//! the analytics consumer on each batch and by `weelo-ops funnel` over the audit archive.

use super::cities::Cities;
use super::metrics::*;
use crate::contract::events::{BookingChanged, BookingOffered, DomainEvent, TimedEvent};
use crate::model::booking::Booking;
use crate::model::trip::TripStep;
use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use std::collections::{BTreeMap, BTreeSet};

/// The figures of some events, and the trucks seen sending points per minute.
#[derive(Debug, Default)]
pub struct Tally {
    pub(super) figures: BTreeMap<(DateTime<Utc>, Group), Figures>,
    pub(super) trucks: BTreeMap<DateTime<Utc>, BTreeSet<String>>,
}

fn minute_of(time: DateTime<Utc>) -> DateTime<Utc> {
    time.duration_trunc(TimeDelta::minutes(1)).unwrap_or(time)
}

fn millis(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    (to - from).num_milliseconds().max(0) as f64
}

impl Tally {
    fn at(&mut self, time: DateTime<Utc>, group: Group) -> &mut Figures {
        let minute = minute_of(time);
        self.figures.entry((minute, group.clone())).or_insert_with(|| Figures::new(minute, group))
    }

    fn booking(&mut self, cities: &Cities, time: DateTime<Utc>, booking: &Booking) -> &mut Figures {
        let group = Group::Booking { vehicle: booking.vehicle_type, city: cities.of(&booking.pickup).to_owned() };
        let figures = self.at(time, group);
        figures.subjects.insert(booking.booking_id.to_string());
        figures
    }

    /// The figures, by minute and group ([`ACTIVE_TRUCKS`] is left to the caller: it needs
    /// what was seen before).
    pub fn into_figures(self) -> Vec<Figures> {
        self.figures.into_values().collect()
    }

    /// Counts one event at its CloudEvents time.
    pub fn add(&mut self, cities: &Cities, timed: &TimedEvent) {
        let time = timed.time;
        match &timed.event {
            DomainEvent::BookingCreated(booking) => bump(self.booking(cities, time, booking), BOOKINGS_CREATED, 1),
            DomainEvent::BookingOffered(offered) => self.offered(cities, time, offered),
            DomainEvent::BookingChanged(changed) => self.booking_changed(cities, time, changed),
            DomainEvent::OrderCreated(order) => {
                for line in &order.trucks {
                    let figures = self.at(time, Group::Truck { vehicle: line.vehicle_type });
                    figures.subjects.insert(order.order_id.to_string());
                    bump(figures, TRUCKS_REQUESTED, u64::from(line.quantity));
                }
            }
            DomainEvent::TruckRequestChanged(changed) => {
                let metric = match changed.step {
                    TripStep::Accept => TRUCKS_ACCEPTED,
                    TripStep::Expire => TRUCKS_EXPIRED,
                    TripStep::Cancel => TRUCKS_CANCELLED,
                    _ => return,
                };
                let figures = self.at(time, Group::Truck { vehicle: changed.request.vehicle_type });
                figures.subjects.insert(format!("{}/line/{}", changed.request.order_id, changed.request.line));
                bump(figures, metric, 1);
            }
            DomainEvent::LocationUpdated(update) => {
                bump(self.at(time, Group::Gps), GPS_POINTS, 1);
                self.trucks.entry(minute_of(time)).or_default().insert(update.transporter_id.to_string());
            }
            DomainEvent::LocationsReported(reported) => {
                bump(self.at(time, Group::Gps), GPS_POINTS, reported.points.len() as u64);
                self.trucks.entry(minute_of(time)).or_default().insert(reported.transporter_id.to_string());
            }
            DomainEvent::OrderCancelled(_) | DomainEvent::NotificationFcm(_) => {}
        }
    }
}

impl Tally {
    fn offered(&mut self, cities: &Cities, time: DateTime<Utc>, offered: &BookingOffered) {
        let city = cities.of(&offered.pickup).to_owned();
        let figures = self.at(time, Group::Booking { vehicle: offered.vehicle_type, city });
        figures.subjects.insert(offered.booking_id.to_string());
        bump(figures, TRANSPORTERS_REACHED, u64::from(offered.transporters));
        if offered.first_offer {
            bump(figures, BOOKINGS_OFFERED, 1);
            // A scheduled booking waits for its time on purpose: not a delay of ours.
            if offered.scheduled_at.is_none() {
                delay(figures, TIME_TO_FIRST_OFFER, millis(offered.created_at, time));
            }
        }
    }

    fn booking_changed(&mut self, cities: &Cities, time: DateTime<Utc>, changed: &BookingChanged) {
        let booking = &changed.booking;
        let metric = match changed.step {
            TripStep::Accept => BOOKINGS_ACCEPTED,
            TripStep::Expire => BOOKINGS_EXPIRED,
            TripStep::Cancel => BOOKINGS_CANCELLED,
            TripStep::Release => BOOKINGS_RELEASED,
            TripStep::Deliver => BOOKINGS_DELIVERED,
            TripStep::Open | TripStep::Arrive | TripStep::PickUp | TripStep::Widen => return,
        };
        let figures = self.booking(cities, time, booking);
        bump(figures, metric, 1);
        // From booking to the first acceptance, for bookings wanted now.
        let first_accept = booking.trip.released_by.is_empty() && booking.scheduled_at.is_none();
        if changed.step == TripStep::Accept && first_accept {
            delay(figures, TIME_TO_ACCEPT, millis(booking.created_at, time));
        }
    }
}

fn bump(figures: &mut Figures, metric: &'static str, by: u64) {
    *figures.counts.entry(metric).or_default() += by;
}

fn delay(figures: &mut Figures, metric: &'static str, ms: f64) {
    figures.delays_ms.entry(metric).or_default().push(ms);
}
