//! [`Fanout`] (the order-fanout function): offers bookings and order lines to the transporters
//! matched near their pickup, and takes offers back when they are over. A booking (an order line)
//! is offered when it is created (or, if scheduled, opened), offered again to the others when its
//! transporter releases it, and offered in the rings beyond when its first search found nobody in
//! time. When it is accepted, cancelled or expires, every other offered transporter gets one
//! data-only push telling their app to drop the offer. A cancelled order's trucks are cancelled
//! here, one step each. Every write is idempotent and every notification has an id
//! derived from its cause, so a redelivered event creates nothing new and shows no phone anything
//! twice (a withdrawal, data-only, may come again: it names the offer it takes back, `offeredAt`,
//! and never drops a later one).

mod bookings;
pub mod matching;
mod notifications;
mod orders;

use crate::contract::events::DomainEvent;
use crate::model::geo::GeoGrid;
use crate::model::ids::EventId;
use crate::model::trip::OfferTimes;
use crate::ports::{
    BookingStore, EventBus, GeoIndexStore, OfferStore, OrderStore, Outbox, PublishError, StoreError, TransporterStore,
};
use matching::MatchPolicy;

pub const FANOUT_EVENT_SOURCE: &str = "/weelo/order-fanout";

#[derive(Debug, thiserror::Error)]
pub enum FanoutError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Publish(#[from] PublishError),
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, derive_more::AddAssign)]
#[serde(rename_all = "camelCase")]
pub struct FanoutReport {
    pub offers: usize,
    pub truck_requests: usize,
    pub notifications: usize,
    /// Offers taken back (the booking was accepted, cancelled, released or expired).
    pub withdrawn: usize,
}

/// How the fan-out matches: the grid of the geo index, the matching policy, the offer clock,
/// and for orders how many transporters to offer each line per truck it asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct FanoutSettings {
    pub grid: GeoGrid,
    pub policy: MatchPolicy,
    pub times: OfferTimes,
    /// For orders: offer each line to at most this many transporters per truck requested. The
    /// offer is per line, so an order writes at most this × its trucks offers.
    pub candidates_per_truck: usize,
}

/// The fan-out over a store and the event bus.
pub struct Fanout<S, B> {
    store: S,
    bus: B,
    settings: FanoutSettings,
}

/// Everything the fan-out reads and writes.
pub trait FanoutStore: GeoIndexStore + TransporterStore + OfferStore + OrderStore + BookingStore + Outbox {}
impl<T: GeoIndexStore + TransporterStore + OfferStore + OrderStore + BookingStore + Outbox> FanoutStore for T {}

impl<S: FanoutStore, B: EventBus> Fanout<S, B> {
    pub fn new(store: S, bus: B, settings: FanoutSettings) -> Self {
        Self { store, bus, settings }
    }

    /// Handles one consumed event: a booking or an order created, moved on or cancelled.
    pub async fn on_event(&self, cause: EventId, event: &DomainEvent) -> Result<FanoutReport, FanoutError> {
        match event {
            DomainEvent::BookingCreated(booking) => self.on_booking_created(cause, booking).await,
            DomainEvent::BookingChanged(changed) => self.on_booking_changed(cause, changed).await,
            DomainEvent::OrderCreated(order) => self.offer_order(cause, order).await,
            DomainEvent::OrderCancelled(cancelled) => self.cancel_order(cause, cancelled).await,
            DomainEvent::TruckRequestChanged(changed) => self.on_truck_changed(cause, changed).await,
            // Not ours: this function's mappings deliver only the topics of the events above.
            _ => Ok(FanoutReport::default()),
        }
    }
}
