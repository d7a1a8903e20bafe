//! A trip's state: the record a booking or truck request carries, its offer clock, and the
//! reference a busy transporter's profile holds.

use super::{TripStatus, TripStep};
use crate::model::ids::{BookingId, OrderId, TruckRequestId, UserId};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
/// How many times a search is widened before the trip expires.
pub const WIDER_SEARCHES: u32 = 1;

/// The clock of an offer: how long each search round lasts, and how early a scheduled trip is offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OfferTimes {
    /// How long a search round lasts before it is widened or the trip expires (default 2 min).
    pub window: Duration,
    /// How long before `scheduledAt` a scheduled trip is offered (default 30 min).
    pub schedule_lead: Duration,
}

impl OfferTimes {
    /// The defaults: a truck is wanted soon, and a driver decides within a couple of minutes.
    pub const WINDOW_SECS: i64 = 120;
    pub const SCHEDULE_LEAD_SECS: i64 = 1800;

    /// How long an offer can stand without being made again: one window per search round (the
    /// first and each wider one), and a window and two minutes more, for the deadlines (a widen,
    /// then the expiry) the sweeper, run every minute, reaches late: 8 min by default. A search
    /// begun again (a release) makes its offers anew, so the transporter's inbox looks no further
    /// back than this.
    pub fn offer_life(&self) -> Duration {
        self.window * (WIDER_SEARCHES as i32 + 2) + Duration::minutes(2)
    }

    pub fn from_secs(window: i64, schedule_lead: i64) -> Self {
        Self { window: Duration::seconds(window), schedule_lead: Duration::seconds(schedule_lead) }
    }

    /// The clock as configured: `OFFER_WINDOW_SECS` and `SCHEDULE_LEAD_SECS`, each read with its
    /// default by `parsed_or(name, default)`, the environment reader of the function that offers or
    /// sweeps (core reads no environment itself). One place names them for every such function.
    // The parameter's name is what infra/checks/test_drift.py sees as reading the two variables.
    pub fn configured<E>(parsed_or: impl Fn(&str, i64) -> Result<i64, E>) -> Result<Self, E> {
        Ok(Self::from_secs(
            parsed_or("OFFER_WINDOW_SECS", Self::WINDOW_SECS)?,
            parsed_or("SCHEDULE_LEAD_SECS", Self::SCHEDULE_LEAD_SECS)?,
        ))
    }
}

impl Default for OfferTimes {
    fn default() -> Self {
        Self::from_secs(Self::WINDOW_SECS, Self::SCHEDULE_LEAD_SECS)
    }
}

/// A trip's state: its status, who holds it, when each step happened and its next deadline.
/// Flattened into the aggregate that has the trip (a booking).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Trip {
    pub status: TripStatus,
    /// When it was first offered (for a scheduled trip, its lead time before `scheduledAt`).
    pub offered_at: Option<DateTime<Utc>>,
    /// When it moves on by itself if nobody acts: a scheduled trip is offered; a searching one
    /// is offered wider, then expires. None while a transporter holds it and once it ended.
    pub due_at: Option<DateTime<Utc>>,
    /// 0 while offered in the first radius, then 1 after the wider search.
    #[serde(default)]
    pub search_round: u32,
    /// The transporter who holds it (from accepted on; kept once delivered).
    pub accepted_by: Option<UserId>,
    pub accepted_at: Option<DateTime<Utc>>,
    #[serde(flatten)]
    pub milestones: Milestones,
    pub expired_at: Option<DateTime<Utc>>,
    /// Transporters who accepted and then released it: it is never offered to them again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub released_by: Vec<UserId>,
    /// When it was last released. The offers made before then stand no more: they were made for
    /// the search its acceptance ended ([`Trip::offer_stands`]).
    pub released_at: Option<DateTime<Utc>>,
    /// Counts the changes since creation. A change is written only if the stored revision is
    /// still the one it was made from, so of two racing changes exactly one wins.
    #[serde(default)]
    pub revision: u32,
}

/// When a trip arrived, was picked up, delivered or cancelled: what its cards show besides the
/// acceptance. A release forgets the arrival.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Milestones {
    pub arrived_at: Option<DateTime<Utc>>,
    pub picked_up_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
}

impl Trip {
    /// A new trip at `now`: offered at once, or scheduled when `scheduled_at` is further away
    /// than the lead time.
    pub fn new(now: DateTime<Utc>, scheduled_at: Option<DateTime<Utc>>, times: &OfferTimes) -> Trip {
        let offer_at = scheduled_at.map(|at| at - times.schedule_lead).filter(|at| *at > now);
        let mut trip = Trip {
            status: TripStatus::Scheduled,
            offered_at: None,
            due_at: offer_at,
            search_round: 0,
            accepted_by: None,
            accepted_at: None,
            milestones: Milestones::default(),
            expired_at: None,
            released_by: Vec::new(),
            released_at: None,
            revision: 0,
        };
        if offer_at.is_none() {
            trip.status = TripStatus::Searching;
            trip.offered_at = Some(now);
            trip.due_at = Some(now + times.window);
        }
        trip
    }

    /// Takes `step` at `at`; `transporter` is who accepts (for the other steps it is the one who
    /// holds the trip, already known). On an illegal step nothing changes and the current status
    /// is the error.
    pub fn take(
        &mut self, step: TripStep, transporter: Option<&UserId>, at: DateTime<Utc>, times: &OfferTimes,
    ) -> Result<(), TripStatus> {
        let to = step.apply(self.status).ok_or(self.status)?;
        match step {
            TripStep::Open => {
                self.offered_at = Some(at);
                self.due_at = Some(at + times.window);
            }
            TripStep::Accept => {
                self.accepted_by = transporter.cloned();
                self.accepted_at = Some(at);
                self.due_at = None;
            }
            TripStep::Arrive => self.milestones.arrived_at = Some(at),
            TripStep::PickUp => self.milestones.picked_up_at = Some(at),
            TripStep::Deliver => self.milestones.delivered_at = Some(at),
            TripStep::Release => {
                self.released_by.extend(self.accepted_by.take());
                self.released_at = Some(at);
                self.accepted_at = None;
                self.milestones.arrived_at = None;
                self.search_round = 0;
                self.due_at = Some(at + times.window);
            }
            TripStep::Cancel => {
                self.milestones.cancelled_at = Some(at);
                self.due_at = None;
            }
            TripStep::Widen => {
                self.search_round += 1;
                self.due_at = Some(at + times.window);
            }
            TripStep::Expire => {
                self.expired_at = Some(at);
                self.due_at = None;
            }
        }
        self.status = to;
        self.revision += 1;
        Ok(())
    }

    /// The step its deadline takes, once `due_at` has passed.
    pub fn due_step(&self) -> Option<TripStep> {
        match self.status {
            TripStatus::Scheduled => Some(TripStep::Open),
            TripStatus::Searching if self.search_round < WIDER_SEARCHES => Some(TripStep::Widen),
            TripStatus::Searching => Some(TripStep::Expire),
            _ => None,
        }
    }

    /// Whether an offer made at `offered_at` can be accepted now: the trip searches, and the
    /// offer was made for this search, not for one an acceptance ended before a release. The
    /// fan-out does not take offers back when a trip stops searching (that would cost two writes
    /// an offer, on every trip); this is what makes them stand no more.
    pub fn offer_stands(&self, offered_at: DateTime<Utc>) -> bool {
        self.status == TripStatus::Searching && self.offer_is_current(offered_at)
    }

    /// Whether an offer made at `offered_at` was made since the trip was last released (or it
    /// never was), whatever the trip's status now. To the millisecond, as offers are stored: the
    /// release is stamped by the api and the new offers by the fan-out after it, a Kafka hop later,
    /// on clocks kept in step far more closely than that.
    pub fn offer_is_current(&self, offered_at: DateTime<Utc>) -> bool {
        self.released_at.is_none_or(|released| offered_at.timestamp_millis() >= released.timestamp_millis())
    }

    /// Who drove the trip and when: from the acceptance by its holder until it was delivered or
    /// cancelled, or until `now` while it runs. `None` while nobody holds it (scheduled, searching
    /// or released, expired): there is no truck to follow.
    pub fn track_window(&self, now: DateTime<Utc>) -> Option<TrackWindow> {
        let (transporter, started) = (self.accepted_by.clone()?, self.accepted_at?);
        let ended = self.milestones.delivered_at.or(self.milestones.cancelled_at).unwrap_or(now);
        Some(TrackWindow { transporter, started, ended })
    }

    /// What a transporter who does not hold the trip may see: that it is taken, not by whom, nor
    /// who released it before.
    pub fn hide_assignee(&mut self) {
        self.accepted_by = None;
        self.accepted_at = None;
        self.released_by.clear();
        self.released_at = None;
    }
}

/// The stretch of a truck's GPS history that is a trip's track.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackWindow {
    pub transporter: UserId,
    pub started: DateTime<Utc>,
    pub ended: DateTime<Utc>,
}

/// What a busy transporter is busy with: the trip they accepted, stored on their profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TripRef {
    Booking(BookingId),
    TruckRequest(OrderId, TruckRequestId),
}

impl fmt::Display for TripRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TripRef::Booking(id) => write!(f, "booking/{id}"),
            TripRef::TruckRequest(order, request) => write!(f, "order/{order}/truck-request/{request}"),
        }
    }
}

impl TripRef {
    pub fn parse(text: &str) -> Option<TripRef> {
        let parts: Vec<&str> = text.split('/').collect();
        match parts.as_slice() {
            ["booking", id] => BookingId::parse(id).ok().map(TripRef::Booking),
            ["order", order, "truck-request", request] => {
                Some(TripRef::TruckRequest(OrderId::parse(order).ok()?, TruckRequestId::parse(request).ok()?))
            }
            _ => None,
        }
    }
}

impl Serialize for TripRef {
    fn serialize<Se: serde::Serializer>(&self, serializer: Se) -> Result<Se::Ok, Se::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TripRef {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        TripRef::parse(&text).ok_or_else(|| serde::de::Error::custom(format!("not a trip reference: {text}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str) -> UserId {
        UserId::parse(name).unwrap()
    }

    #[test]
    fn a_trip_scheduled_beyond_the_lead_time_waits_and_one_within_it_is_offered_at_once() {
        let (now, times) = (Utc::now(), OfferTimes::default());
        let later = Trip::new(now, Some(now + Duration::hours(2)), &times);
        assert_eq!((later.status, later.due_at), (TripStatus::Scheduled, Some(now + Duration::minutes(90))));
        let soon = Trip::new(now, Some(now + Duration::minutes(10)), &times);
        assert_eq!(
            (soon.status, soon.offered_at, soon.due_at),
            (TripStatus::Searching, Some(now), Some(now + times.window))
        );
    }

    #[test]
    fn a_search_is_widened_once_and_then_expires() {
        let (now, times) = (Utc::now(), OfferTimes::default());
        let mut trip = Trip::new(now, None, &times);
        assert_eq!(trip.due_step(), Some(TripStep::Widen));
        trip.take(TripStep::Widen, None, now, &times).unwrap();
        assert_eq!((trip.status, trip.search_round, trip.revision), (TripStatus::Searching, 1, 1));
        assert_eq!(trip.due_step(), Some(TripStep::Expire));
        trip.take(TripStep::Expire, None, now, &times).unwrap();
        assert_eq!((trip.status, trip.due_at, trip.due_step()), (TripStatus::Expired, None, None));
        assert_eq!(trip.take(TripStep::Accept, Some(&user("late")), now, &times), Err(TripStatus::Expired));
        assert_eq!(trip.revision, 2, "an illegal step changes nothing");
    }

    #[test]
    fn a_release_puts_the_trip_back_in_the_first_search_without_its_releaser() {
        let (now, times) = (Utc::now(), OfferTimes::default());
        let mut trip = Trip::new(now, None, &times);
        trip.take(TripStep::Widen, None, now, &times).unwrap();
        trip.take(TripStep::Accept, Some(&user("ravi")), now, &times).unwrap();
        trip.take(TripStep::Arrive, None, now, &times).unwrap();
        trip.take(TripStep::Release, None, now, &times).unwrap();
        assert_eq!((trip.status, trip.search_round, trip.accepted_by.clone()), (TripStatus::Searching, 0, None));
        assert_eq!(trip.released_by, vec![user("ravi")]);
        assert_eq!(trip.milestones.arrived_at, None);
        assert_eq!(trip.due_at, Some(now + times.window));
    }

    #[test]
    fn an_offer_stands_while_the_trip_searches_and_only_if_made_since_its_last_release() {
        let (start, times) = (Utc::now(), OfferTimes::default());
        let minutes = |n| start + Duration::minutes(n);
        let mut trip = Trip::new(start, None, &times);
        assert!(trip.offer_stands(minutes(0)), "searching: the first offers stand");
        trip.take(TripStep::Accept, Some(&user("ravi")), minutes(1), &times).unwrap();
        assert!(!trip.offer_stands(minutes(0)), "taken: no offer stands");
        assert!(trip.offer_is_current(minutes(0)), "but it was made for this search");
        trip.take(TripStep::Release, None, minutes(2), &times).unwrap();
        assert_eq!(trip.released_at, Some(minutes(2)));
        assert!(!trip.offer_stands(minutes(0)), "made for the search the acceptance ended");
        assert!(trip.offer_stands(minutes(2)) && trip.offer_stands(minutes(3)), "made anew since the release");
        trip.hide_assignee();
        assert_eq!(trip.released_at, None, "hidden from other transporters with who released it");
    }

    #[test]
    fn an_offer_lives_a_window_a_round_a_window_more_and_two_sweeper_minutes() {
        assert_eq!(OfferTimes::default().offer_life(), Duration::minutes(8));
        assert_eq!(OfferTimes::from_secs(4, 1800).offer_life(), Duration::seconds(132));
    }

    #[test]
    fn a_track_runs_from_the_holders_acceptance_to_delivery_and_a_released_trip_has_none() {
        let (start, times) = (Utc::now(), OfferTimes::default());
        let minutes = |n| start + Duration::minutes(n);
        let mut trip = Trip::new(start, None, &times);
        assert_eq!(trip.track_window(minutes(1)), None, "searching: no truck yet");
        trip.take(TripStep::Accept, Some(&user("ravi")), minutes(1), &times).unwrap();
        trip.take(TripStep::Release, None, minutes(2), &times).unwrap();
        assert_eq!(trip.track_window(minutes(3)), None, "released: not ravi's trip any more");
        trip.take(TripStep::Accept, Some(&user("asha")), minutes(3), &times).unwrap();
        let running = TrackWindow { transporter: user("asha"), started: minutes(3), ended: minutes(9) };
        assert_eq!(trip.track_window(minutes(9)), Some(running), "running: until now");
        trip.take(TripStep::PickUp, None, minutes(10), &times).unwrap_err();
        trip.take(TripStep::Arrive, None, minutes(10), &times).unwrap();
        trip.take(TripStep::PickUp, None, minutes(11), &times).unwrap();
        trip.take(TripStep::Deliver, None, minutes(40), &times).unwrap();
        assert_eq!(trip.track_window(minutes(90)).map(|w| (w.started, w.ended)), Some((minutes(3), minutes(40))));
    }

    #[test]
    fn a_trip_cancelled_on_the_way_to_the_pickup_ends_its_track_at_the_cancel() {
        let (start, times) = (Utc::now(), OfferTimes::default());
        let mut trip = Trip::new(start, None, &times);
        trip.take(TripStep::Accept, Some(&user("ravi")), start, &times).unwrap();
        trip.take(TripStep::Cancel, None, start + Duration::minutes(5), &times).unwrap();
        let window = trip.track_window(start + Duration::hours(1)).unwrap();
        assert_eq!((window.started, window.ended), (start, start + Duration::minutes(5)));
    }

    #[test]
    fn a_trip_reference_reads_back_from_its_text() {
        let booking = TripRef::Booking(BookingId::generate());
        let truck = TripRef::TruckRequest(OrderId::generate(), TruckRequestId::derive(OrderId::generate(), 1, 2));
        for trip in [booking, truck] {
            assert_eq!(TripRef::parse(&trip.to_string()), Some(trip));
        }
        assert_eq!(TripRef::parse("booking/not-a-uuid"), None);
    }
}
