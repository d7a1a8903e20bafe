//! [`OutboxRelay`] (the outbox-relay function, on a schedule): publishes the events the api
//! committed but could not publish (the broker was down, or the api crashed before it could), oldest
//! first, and marks them sent.

use crate::contract::events::EventRecord;
use crate::model::ids::EventId;
use crate::ports::{EventBus, Outbox, StoreError};
use chrono::Utc;
use serde::Serialize;

/// What one relay pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RelayReport {
    pub published: usize,
    pub failed: usize,
}

/// The relay over the outbox and the event bus.
pub struct OutboxRelay<S, B> {
    store: S,
    bus: B,
    /// Events younger than this are left to the api, which is still publishing them.
    grace: chrono::Duration,
    page_size: usize,
}

impl<S: Outbox, B: EventBus> OutboxRelay<S, B> {
    pub fn new(store: S, bus: B, grace: chrono::Duration, page_size: usize) -> Self {
        Self { store, bus, grace, page_size: page_size.max(1) }
    }

    /// One pass: publishes outbox events older than the grace period that are still unsent, page
    /// by page, and marks them sent. A broker failure ends the pass (reported, retried next run).
    pub async fn run_once(&self) -> Result<RelayReport, StoreError> {
        let cutoff = Utc::now() - self.grace;
        let mut report = RelayReport::default();
        loop {
            let page = self.store.pending(cutoff, self.page_size).await?;
            if page.is_empty() {
                return Ok(report);
            }
            match self.bus.publish(&page).await {
                Ok(()) => {
                    let ids: Vec<EventId> = page.iter().map(|e| e.event_id).collect();
                    self.store.mark_sent(&ids).await?;
                    report.published += page.len();
                }
                Err(error) => {
                    tracing::warn!(%error, pending = page.len(), "relay could not publish; will retry on the next run");
                    report.failed += page.len();
                    return Ok(report);
                }
            }
            if page.len() < self.page_size {
                return Ok(report);
            }
        }
    }
}

/// Publishes events that are already committed to the outbox, and marks them sent. A failure is
/// not the caller's problem: the events stay pending and the relay publishes them later.
pub(crate) async fn publish_committed<S: Outbox, B: EventBus>(store: &S, bus: &B, events: &[EventRecord]) {
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
