//! Ports: what the use cases need from the outside world. The DynamoDB, Kafka and SNS adapters
//! implement these; every state change is written together with the events it causes (the
//! transactional outbox), so the store and the stream can never disagree.
//!
//! Here: the errors and values every port shares. `aggregates.rs`: bookings, orders, offers, trips,
//! idempotency, devices and the outbox. `tracking.rs`: profiles, positions, the geo index and the
//! GPS history. `messaging.rs`: the event bus, the push log and push delivery. `live.rs`: live
//! tracking's connections, shared links and posts to connections. `analytics.rs`: the
//! counted-once mark and the figures' sink.

mod aggregates;
mod analytics;
mod live;
mod messaging;
mod tracking;

pub use aggregates::*;
pub use analytics::*;
pub use live::*;
pub use messaging::*;
pub use tracking::*;

use crate::contract::events::EventRecord;
use crate::model::booking::{Booking, BookingStatus, BookingSummary};
use crate::model::device::{Device, Platform};
use crate::model::ids::{BookingId, DeviceId, EventId, OrderId, UserId};
use crate::model::location::Position;
use crate::model::order::{Order, OrderStatus, OrderSummary, OrderView, TruckRequest};
use crate::model::transporter::TransporterProfile;
use crate::model::trip::{TripRef, TripSummary};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// The store failed for a reason of its own (network, throttling, emulator down).
#[derive(Debug, thiserror::Error)]
#[error("store failure: {source:#}")]
pub struct StoreError {
    /// Throttling, timeouts and transport faults: the same call may succeed if repeated.
    pub retryable: bool,
    #[source]
    pub source: anyhow::Error,
}

impl StoreError {
    pub fn new(retryable: bool, source: impl Into<anyhow::Error>) -> Self {
        Self { retryable, source: source.into() }
    }
}

/// Creating an aggregate under an idempotency key.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    /// Another request holds this idempotency key (it may have committed a moment ago).
    #[error("idempotency key already used")]
    IdempotencyKeyTaken,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Moving an aggregate from one state to another under a condition.
#[derive(Debug, thiserror::Error)]
pub enum TransitionError {
    #[error("not found")]
    NotFound,
    /// The condition no longer held: someone else changed the state first.
    #[error("state changed concurrently")]
    Conflict,
    /// The transporter to be assigned holds another trip, or has no profile.
    #[error("transporter busy or without a profile")]
    TransporterUnavailable,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A remembered `Idempotency-Key`: which request body it was first used with and what it answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    /// `<user>#<operation>#<client key>`: keys are private to a user and an operation.
    pub scoped_key: String,
    /// SHA-256 of the validated request, hex.
    pub request_hash: String,
    /// The original answer (JSON), replayed verbatim.
    pub receipt: String,
    pub created_at: DateTime<Utc>,
}

/// Who may accept what: an offer exists per (booking or order line, transporter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OfferSubject {
    Booking(BookingId),
    /// A line of an order (its index in `trucks`): its transporters may accept any of the line's
    /// truck requests. An offer per truck request would grow with the square of the line's size
    /// (trucks × candidates per truck).
    OrderLine(OrderId, u32),
}

/// What a transition does to the transporter's profile, in the same transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Assignment {
    /// Nothing.
    Keep,
    /// They start `trip`: written only if they have a profile and hold no other trip (else
    /// [`TransitionError::TransporterUnavailable`]).
    Start { transporter: UserId, trip: TripRef },
    /// They are done with `trip` (delivered, released or cancelled): matchable again.
    End { transporter: UserId, trip: TripRef },
}

/// A new booking or order (`new`) with its `events` and, when the request carried a key, its
/// `idempotency` record: written in one transaction, or not at all.
#[derive(Debug, Clone, Copy)]
pub struct Creation<'a, T> {
    pub new: &'a T,
    pub events: &'a [EventRecord],
    pub idempotency: Option<&'a IdempotencyRecord>,
}

impl<'a, T> Creation<'a, T> {
    /// `new` alone: no events, no idempotency record (how tests seed a store).
    pub fn alone(new: &'a T) -> Self {
        Self { new, events: &[], idempotency: None }
    }
}

/// A booking or truck request moved to its new state (`to`), stored only if the stored one is
/// still at revision `expected`, together with `events` and `assignment`, in one transaction.
#[derive(Debug, Clone, Copy)]
pub struct Change<'a, T> {
    pub to: &'a T,
    pub expected: u32,
    pub events: &'a [EventRecord],
    pub assignment: &'a Assignment,
}

/// Which page of a customer's list to read: up to `limit` of `customer`'s items in one of
/// `statuses` (any when empty), newest first, starting after `after`.
#[derive(Debug, Clone, Copy)]
pub struct ListPage<'a, S> {
    pub customer: &'a UserId,
    pub statuses: &'a [S],
    pub limit: usize,
    pub after: Option<&'a PagePosition>,
}

/// Where a page of a list ended, in the store's own terms (for DynamoDB, the index key of the
/// last item): opaque to everyone else, and handed to clients only sealed (`contract::cursor`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PagePosition(String);

impl PagePosition {
    pub fn new(position: String) -> Self {
        Self(position)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One page of a list, and where the next one starts (`None`: this was the last).
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<PagePosition>,
}
