//! The api's use cases, by aggregate: [`Bookings`], [`Orders`], [`Devices`] and [`Profiles`], and
//! [`TrackingIngest`]. Each validates nothing itself (the api edge hands it a validated command), writes
//! state and events in one transaction, then publishes the events right away; what cannot be
//! published now is left in the outbox for the relay (`super::outbox_relay`).

mod bookings;
mod devices;
mod idempotency;
mod orders;
mod tracking;

pub use bookings::Bookings;
pub use devices::{Devices, Profiles};
pub use orders::Orders;
pub use tracking::TrackingIngest;

use crate::contract::events::EventRecord;
use crate::error::ServiceError;
use crate::model::ids::EventId;
use crate::ports::{EventBus, Outbox, StoreError};

/// CloudEvents `source` of everything the api publishes.
pub const API_EVENT_SOURCE: &str = "/weelo/api";

impl From<StoreError> for ServiceError {
    fn from(error: StoreError) -> Self {
        ServiceError::Internal(error.source.context("store"))
    }
}

/// The answer to a create call: whether it created something now or replayed an earlier answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Created<T> {
    pub value: T,
    pub replayed: bool,
}

/// Publishes events that are already committed to the outbox, and marks them sent. A failure is
/// not the caller's problem: the events stay pending and the relay publishes them later.
async fn publish_committed<S: Outbox, B: EventBus>(store: &S, bus: &B, events: &[EventRecord]) {
    match bus.publish(events).await {
        Ok(()) => {
            let ids: Vec<EventId> = events.iter().map(|e| e.event_id).collect();
            if let Err(error) = store.mark_sent(&ids).await {
                tracing::warn!(%error, "published events not marked sent; the relay will publish them again");
            }
        }
        Err(error) => {
            tracing::warn!(%error, count = events.len(), "events left in the outbox for the relay")
        }
    }
}

fn not_found(what: &'static str) -> ServiceError {
    ServiceError::NotFound { what }
}
