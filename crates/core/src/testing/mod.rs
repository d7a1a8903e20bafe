//! In-memory implementations of the ports, for the unit tests of the use cases only (feature
//! `testing`; `crates/core/tests/usecases`). They keep the rules the adapters' conditions enforce,
//! so a use case's own logic is tested in milliseconds; every adapter and every flow is still
//! tested against the real local stack, and these never stand in for it.

mod analytics;
mod delivery;
mod lists;
mod offers;
mod store;
mod tracking;

pub use analytics::{MemoryProgress, RecordingFigures};
pub use store::MemoryStore;

use crate::contract::events::{DomainEvent, EventRecord, FcmNotification};
use crate::model::device::Platform;
use crate::model::ids::{EventId, UserId};
use crate::ports::{EventBus, PublishError, PushError, PushRegistrationError, PushRegistry, PushSender};
use async_trait::async_trait;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// An event bus that keeps what it is given, or refuses it while [`RecordingBus::fail`] is set.
/// Clones share what was published.
#[derive(Clone, Default)]
pub struct RecordingBus {
    published: Arc<Mutex<Vec<EventRecord>>>,
    failing: Arc<AtomicBool>,
}

impl RecordingBus {
    /// From now on every publish fails (as a broker that is down), or succeeds again.
    pub fn fail(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }

    pub fn published(&self) -> Vec<EventRecord> {
        self.published.lock().unwrap().clone()
    }

    /// The records published on `topic`.
    pub fn on(&self, topic: &str) -> Vec<EventRecord> {
        self.published().into_iter().filter(|r| r.topic == topic).collect()
    }

    /// The events published of CloudEvents type `ty` (`com.weelo.booking.accepted.v1`, …), decoded
    /// with their ids, as a consumer receives them.
    pub fn of_type(&self, ty: &str) -> Vec<(EventId, DomainEvent)> {
        let decoded = self.published().into_iter().filter_map(|r| DomainEvent::from_payload(r.payload.as_bytes()).ok());
        decoded.filter(|(_, event)| event.event_type() == ty).collect()
    }
}

#[async_trait]
impl EventBus for RecordingBus {
    async fn publish(&self, records: &[EventRecord]) -> Result<(), PublishError> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(PublishError("the broker is down (test)".into()));
        }
        self.published.lock().unwrap().extend_from_slice(records);
        Ok(())
    }
}

/// What a [`RecordingSender`] does with a push to an endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendBehaviour {
    Deliver,
    Gone,
    Transient,
}

/// A push sender that records every push, and answers for some endpoints as told. Clones share
/// the record.
#[derive(Clone, Default)]
pub struct RecordingSender {
    sent: Arc<Mutex<Vec<(String, EventId, FcmNotification)>>>,
    behaviours: Arc<Mutex<Vec<(String, SendBehaviour)>>>,
}

impl RecordingSender {
    /// Pushes to `endpoint` now behave as `behaviour`.
    pub fn on(&self, endpoint: &str, behaviour: SendBehaviour) {
        self.behaviours.lock().unwrap().push((endpoint.to_owned(), behaviour));
    }

    /// `(endpoint, notification id, notification)` of every push delivered, in order.
    pub fn sent(&self) -> Vec<(String, EventId, FcmNotification)> {
        self.sent.lock().unwrap().clone()
    }
}

#[async_trait]
impl PushSender for RecordingSender {
    async fn send(&self, endpoint: &str, id: EventId, notification: &FcmNotification) -> Result<(), PushError> {
        let behaviours = self.behaviours.lock().unwrap().clone();
        match behaviours.iter().rev().find(|(e, _)| e == endpoint).map(|(_, b)| b.clone()) {
            Some(SendBehaviour::Gone) => Err(PushError::EndpointGone("disabled (test)".into())),
            Some(SendBehaviour::Transient) => Err(PushError::Transient("throttled (test)".into())),
            Some(SendBehaviour::Deliver) | None => {
                self.sent.lock().unwrap().push((endpoint.to_owned(), id, notification.clone()));
                Ok(())
            }
        }
    }
}

/// A push registry that gives each token an endpoint named after it and refuses tokens that
/// start with `bad`.
#[derive(Clone, Copy, Default)]
pub struct FakeRegistry;

#[async_trait]
impl PushRegistry for FakeRegistry {
    async fn register_endpoint(
        &self, _platform: Platform, token: &str, _owner: &UserId,
    ) -> Result<String, PushRegistrationError> {
        if token.starts_with("bad") {
            return Err(PushRegistrationError::InvalidToken("refused (test)".into()));
        }
        Ok(format!("endpoint/{token}"))
    }

    async fn delete_endpoint(&self, _endpoint_arn: &str) -> Result<(), PushRegistrationError> {
        Ok(())
    }
}
