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

mod state;
mod summary;

pub use state::{Milestones, OfferTimes, TrackWindow, Trip, TripRef, WIDER_SEARCHES};
pub use summary::TripSummary;

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
    /// The steps the transporter who holds a trip takes (`POST …/{arrive|pickup|deliver|release}`).
    pub const BY_HOLDER: [TripStep; 4] = [TripStep::Arrive, TripStep::PickUp, TripStep::Deliver, TripStep::Release];

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

    #[test]
    fn the_docs_diagram_is_the_transition_table() {
        let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/lifecycle.md")).unwrap();
        let diagram = format!("```mermaid\n{}```", mermaid(&[]));
        assert!(doc.contains(&diagram), "docs/lifecycle.md's booking diagram differs; it should read:\n{diagram}");
        let trucks = format!("```mermaid\n{}```", mermaid(&[TripStatus::Scheduled]));
        assert!(doc.contains(&trucks), "docs/lifecycle.md's truck request diagram differs; it should read:\n{trucks}");
    }
}
