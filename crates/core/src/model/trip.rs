//! The trip lifecycle every truck goes through, a booking's or an order's truck request: the
//! statuses, the steps between them, who may take each step, and the transition table the use
//! cases, the docs' state diagram and the OpenAPI enums are all checked against.
//!
//! ```text
//! scheduled ─open─▶ searching ─accept─▶ accepted ─arrive─▶ arrived ─pick up─▶ picked_up ─deliver─▶ delivered
//!                   │  ▲ ▲ widen           │                   │
//!                   │  │ └──── release ────┴───────────────────┘
//!                   └─expire─▶ expired          cancel (customer, until picked up) ─▶ cancelled
//! ```

use crate::model::ids::{BookingId, OrderId, TruckRequestId, UserId};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Where a trip is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TripStatus {
    /// Booked for later: offered at its scheduled time minus the lead time.
    Scheduled,
    /// Offered to transporters, nobody has accepted yet.
    Searching,
    /// A transporter accepted and is on the way to the pickup.
    Accepted,
    /// The truck is at the pickup.
    Arrived,
    /// Loaded and in transit.
    PickedUp,
    Delivered,
    /// Cancelled by the customer (until picked up).
    Cancelled,
    /// Nobody accepted in time, not even after the wider search.
    Expired,
}

impl TripStatus {
    pub const ALL: [TripStatus; 8] = [
        TripStatus::Scheduled,
        TripStatus::Searching,
        TripStatus::Accepted,
        TripStatus::Arrived,
        TripStatus::PickedUp,
        TripStatus::Delivered,
        TripStatus::Cancelled,
        TripStatus::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TripStatus::Scheduled => "scheduled",
            TripStatus::Searching => "searching",
            TripStatus::Accepted => "accepted",
            TripStatus::Arrived => "arrived",
            TripStatus::PickedUp => "picked_up",
            TripStatus::Delivered => "delivered",
            TripStatus::Cancelled => "cancelled",
            TripStatus::Expired => "expired",
        }
    }

    /// A transporter holds the trip: they are busy and not offered other work.
    pub fn is_assigned(self) -> bool {
        matches!(self, TripStatus::Accepted | TripStatus::Arrived | TripStatus::PickedUp)
    }

    /// Nothing more can happen to it.
    pub fn is_final(self) -> bool {
        matches!(self, TripStatus::Delivered | TripStatus::Cancelled | TripStatus::Expired)
    }
}

impl fmt::Display for TripStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who takes a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// The customer who owns the trip.
    Customer,
    /// A transporter it is offered to.
    OfferedTransporter,
    /// The transporter who accepted it.
    AssignedTransporter,
    /// Its deadline (the deadline sweeper) or the fan-out.
    Deadline,
}

/// One move of a trip from a status to another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TripStep {
    /// A scheduled booking's lead time began: it is offered now.
    Open,
    Accept,
    Arrive,
    PickUp,
    Deliver,
    /// The assigned transporter backs out before pickup: offered again to the others.
    Release,
    Cancel,
    /// The offer window passed: offered to the next ring of transporters, once.
    Widen,
    /// The offer window passed after the wider search, or nobody matched at all.
    Expire,
}

impl TripStep {
    pub const ALL: [TripStep; 9] = [
        TripStep::Open,
        TripStep::Accept,
        TripStep::Arrive,
        TripStep::PickUp,
        TripStep::Deliver,
        TripStep::Release,
        TripStep::Cancel,
        TripStep::Widen,
        TripStep::Expire,
    ];
}

/// One row of the transition table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    pub step: TripStep,
    pub from: &'static [TripStatus],
    pub to: TripStatus,
    pub by: Actor,
}

use TripStatus as S;

/// Every legal step. Anything not listed answers 409 with the current status.
pub const TRANSITIONS: [Transition; 9] = [
    Transition { step: TripStep::Open, from: &[S::Scheduled], to: S::Searching, by: Actor::Deadline },
    Transition { step: TripStep::Accept, from: &[S::Searching], to: S::Accepted, by: Actor::OfferedTransporter },
    Transition { step: TripStep::Arrive, from: &[S::Accepted], to: S::Arrived, by: Actor::AssignedTransporter },
    Transition { step: TripStep::PickUp, from: &[S::Arrived], to: S::PickedUp, by: Actor::AssignedTransporter },
    Transition { step: TripStep::Deliver, from: &[S::PickedUp], to: S::Delivered, by: Actor::AssignedTransporter },
    Transition {
        step: TripStep::Release,
        from: &[S::Accepted, S::Arrived],
        to: S::Searching,
        by: Actor::AssignedTransporter,
    },
    Transition {
        step: TripStep::Cancel,
        from: &[S::Scheduled, S::Searching, S::Accepted, S::Arrived],
        to: S::Cancelled,
        by: Actor::Customer,
    },
    Transition { step: TripStep::Widen, from: &[S::Searching], to: S::Searching, by: Actor::Deadline },
    Transition { step: TripStep::Expire, from: &[S::Searching], to: S::Expired, by: Actor::Deadline },
];

impl TripStep {
    pub fn transition(self) -> &'static Transition {
        TRANSITIONS.iter().find(|t| t.step == self).expect("every step has a row in TRANSITIONS")
    }

    /// The status after this step from `from`, or `None` if the step is illegal there.
    pub fn apply(self, from: TripStatus) -> Option<TripStatus> {
        let row = self.transition();
        row.from.contains(&from).then_some(row.to)
    }

    /// The name in events and pushes: what happened (`picked-up`).
    pub fn name(self) -> &'static str {
        match self {
            TripStep::Open => "opened",
            TripStep::Accept => "accepted",
            TripStep::Arrive => "arrived",
            TripStep::PickUp => "picked-up",
            TripStep::Deliver => "delivered",
            TripStep::Release => "released",
            TripStep::Cancel => "cancelled",
            TripStep::Widen => "widened",
            TripStep::Expire => "expired",
        }
    }

    /// The diagram's label: the step and who takes it.
    fn label(self) -> String {
        let by = match self.transition().by {
            Actor::Customer => "customer",
            Actor::OfferedTransporter => "offered transporter",
            Actor::AssignedTransporter => "assigned transporter",
            Actor::Deadline => "deadline",
        };
        format!("{} ({by})", self.verb())
    }

    /// The route segment and the diagram's verb (`pickup`).
    pub fn verb(self) -> &'static str {
        match self {
            TripStep::Open => "open",
            TripStep::Accept => "accept",
            TripStep::Arrive => "arrive",
            TripStep::PickUp => "pickup",
            TripStep::Deliver => "deliver",
            TripStep::Release => "release",
            TripStep::Cancel => "cancel",
            TripStep::Widen => "widen",
            TripStep::Expire => "expire",
        }
    }
}

/// The Mermaid state diagram of the transition table, leaving out `omit` (truck requests have no
/// `scheduled`). `docs/lifecycle.md` holds its output, and a test keeps the two equal.
pub fn mermaid(omit: &[TripStatus]) -> String {
    let mut out = String::from("stateDiagram-v2\n");
    for entry in [S::Scheduled, S::Searching].into_iter().filter(|s| !omit.contains(s)) {
        out.push_str(&format!("    [*] --> {entry}\n"));
    }
    for row in TRANSITIONS {
        for from in row.from.iter().filter(|s| !omit.contains(s)) {
            out.push_str(&format!("    {from} --> {}: {}\n", row.to, row.step.label()));
        }
    }
    for status in TripStatus::ALL.into_iter().filter(|s| s.is_final()) {
        out.push_str(&format!("    {status} --> [*]\n"));
    }
    out
}

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

    pub fn from_secs(window: i64, schedule_lead: i64) -> Self {
        Self { window: Duration::seconds(window), schedule_lead: Duration::seconds(schedule_lead) }
    }
}

impl Default for OfferTimes {
    fn default() -> Self {
        Self::from_secs(Self::WINDOW_SECS, Self::SCHEDULE_LEAD_SECS)
    }
}

/// A trip's state: its status, who holds it, when each step happened and its next deadline.
/// Flattened into the aggregate that has the trip (a booking).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Trip {
    pub status: TripStatus,
    /// When it was first offered (for a scheduled trip, its lead time before `scheduledAt`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offered_at: Option<DateTime<Utc>>,
    /// When it moves on by itself if nobody acts: a scheduled trip is offered; a searching one
    /// is offered wider, then expires. None while a transporter holds it and once it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_at: Option<DateTime<Utc>>,
    /// 0 while offered in the first radius, then 1 after the wider search.
    #[serde(default)]
    pub search_round: u32,
    /// The transporter who holds it (from accepted on; kept once delivered).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted_by: Option<UserId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arrived_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub picked_up_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancelled_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expired_at: Option<DateTime<Utc>>,
    /// Transporters who accepted and then released it: it is never offered to them again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub released_by: Vec<UserId>,
    /// Counts the changes since creation. A change is written only if the stored revision is
    /// still the one it was made from, so of two racing changes exactly one wins.
    #[serde(default)]
    pub revision: u32,
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
            arrived_at: None,
            picked_up_at: None,
            delivered_at: None,
            cancelled_at: None,
            expired_at: None,
            released_by: Vec::new(),
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
        &mut self,
        step: TripStep,
        transporter: Option<&UserId>,
        at: DateTime<Utc>,
        times: &OfferTimes,
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
            TripStep::Arrive => self.arrived_at = Some(at),
            TripStep::PickUp => self.picked_up_at = Some(at),
            TripStep::Deliver => self.delivered_at = Some(at),
            TripStep::Release => {
                self.released_by.extend(self.accepted_by.take());
                self.accepted_at = None;
                self.arrived_at = None;
                self.search_round = 0;
                self.due_at = Some(at + times.window);
            }
            TripStep::Cancel => {
                self.cancelled_at = Some(at);
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

    /// What a transporter who does not hold the trip may see: that it is taken, not by whom, nor
    /// who released it before.
    pub fn hide_assignee(&mut self) {
        self.accepted_by = None;
        self.accepted_at = None;
        self.released_by.clear();
    }
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

    #[test]
    fn every_step_is_legal_only_from_its_listed_statuses() {
        for row in TRANSITIONS {
            for status in TripStatus::ALL {
                let expected = row.from.contains(&status).then_some(row.to);
                assert_eq!(row.step.apply(status), expected, "{:?} from {status}", row.step);
            }
        }
    }

    #[test]
    fn a_final_status_has_no_way_out_and_every_other_status_has_one() {
        for status in TripStatus::ALL {
            let exits = TRANSITIONS.iter().filter(|t| t.from.contains(&status)).count();
            assert_eq!(exits == 0, status.is_final(), "{status}");
        }
    }

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
        assert_eq!(trip.arrived_at, None);
        assert_eq!(trip.due_at, Some(now + times.window));
    }

    #[test]
    fn the_docs_diagram_is_the_transition_table() {
        let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/lifecycle.md")).unwrap();
        let diagram = format!("```mermaid\n{}```", mermaid(&[]));
        assert!(doc.contains(&diagram), "docs/lifecycle.md's booking diagram differs; it should read:\n{diagram}");
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
