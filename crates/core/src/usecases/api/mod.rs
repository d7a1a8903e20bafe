//! The api's use cases, by aggregate: [`Bookings`], [`Orders`], [`Devices`] and [`Profiles`],
//! [`TrackingIngest`], [`Shares`] (links to a live track), and the read side, [`Lists`] (lists, the offer inbox, and trips' tracks). Each validates
//! nothing itself (the api edge hands it a validated command), writes state and events in one
//! transaction, then publishes the events right away; what cannot be published now is left in the
//! outbox for the relay (`super::outbox_relay`).

mod bookings;
mod devices;
mod idempotency;
mod inbox;
mod lists;
mod orders;
mod refusals;
mod shares;
mod tracking;
pub(crate) mod tracks;

pub use bookings::{Bookings, OfBookings};
pub use devices::{Devices, Profiles};
pub use inbox::{MAX_EXAMINED_OFFERS, MAX_OPEN_OFFERS};
pub use lists::{Listing, Lists};
pub use orders::{OfOrders, Orders};
pub use shares::{ShareCreated, Shares};
pub use tracking::TrackingIngest;

use crate::contract::events::{DomainEvent, EventRecord};
use crate::contract::requests::IdempotencyKey;
use crate::error::ServiceError;
use crate::model::caller::Customer;
use crate::model::ids::EventId;
use crate::model::trip::OfferTimes;
use crate::ports::{CreateError, EventBus, IdempotencyRecord, IdempotencyStore, Outbox, StoreError};
use crate::usecases::outbox_relay::publish_committed;
use chrono::{DateTime, Utc};
use idempotency::{IdempotencyClaim, replay_taken_key};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::marker::PhantomData;

/// CloudEvents `source` of everything the api publishes.
pub const API_EVENT_SOURCE: &str = "/weelo/api";

impl From<StoreError> for ServiceError {
    fn from(error: StoreError) -> Self {
        ServiceError::Internal(error.source.context("store"))
    }
}

/// The use cases of one aggregate, [`Bookings`] (`K` = [`OfBookings`]) or [`Orders`] (`K` =
/// [`OfOrders`]), over a store and an event bus: both hold the same, each has its own methods.
pub struct Aggregate<K, S, B> {
    store: S,
    bus: B,
    times: OfferTimes,
    kind: PhantomData<fn() -> K>,
}

impl<K, S, B> Aggregate<K, S, B> {
    pub fn new(store: S, bus: B, times: OfferTimes) -> Self {
        Self { store, bus, times, kind: PhantomData }
    }
}

/// A customer's request to create something: who asks, the validated command, and the
/// `Idempotency-Key` the request carried, if any.
#[derive(Debug, Clone)]
pub struct Create<'a, T> {
    pub customer: &'a Customer,
    pub command: T,
    pub key: Option<&'a IdempotencyKey>,
}

impl<'a, T: Serialize> Create<'a, T> {
    pub fn new(customer: &'a Customer, command: T, key: Option<&'a IdempotencyKey>) -> Self {
        Self { customer, command, key }
    }

    /// The idempotency claim of this request under `operation` (none without a key).
    fn claim(&self, operation: &str) -> Result<Option<IdempotencyClaim>, ServiceError> {
        IdempotencyClaim::new(self.customer.id(), operation, self.key, &self.command)
    }
}

/// The answer to a create call: whether it created something now or replayed an earlier answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Created<T> {
    pub value: T,
    pub replayed: bool,
}

/// Writes a new aggregate through `write` (one transaction with `event` and, under `claim`, the
/// idempotency record of `receipt`), then publishes the event. An `Idempotency-Key` another request
/// holds answers what that request answered, or 409.
async fn create_and_publish<S, B, R>(
    store: &S, bus: &B, claim: Option<IdempotencyClaim>, receipt: R, event: DomainEvent, now: DateTime<Utc>,
    write: impl AsyncFnOnce(&[EventRecord], Option<&IdempotencyRecord>) -> Result<(), CreateError>,
) -> Result<Created<R>, ServiceError>
where
    S: IdempotencyStore + Outbox,
    B: EventBus,
    R: Serialize + DeserializeOwned,
{
    let events = [event.to_record(EventId::generate(), API_EVENT_SOURCE, now)];
    let record = claim.map(|c| c.record(&receipt, now));
    match write(&events, record.as_ref()).await {
        Ok(()) => {}
        Err(CreateError::IdempotencyKeyTaken) => return replay_taken_key(store, record.as_ref()).await,
        Err(CreateError::Store(e)) => return Err(e.into()),
    }
    publish_committed(store, bus, &events).await;
    Ok(Created { value: receipt, replayed: false })
}

fn not_found(what: &'static str) -> ServiceError {
    ServiceError::NotFound { what }
}
