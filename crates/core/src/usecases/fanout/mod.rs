//! [`Fanout`] (the order-fanout function): match and offer bookings, expand orders into truck
//! requests and offer each line, tell offered transporters when a booking is cancelled. Every
//! write is idempotent and every notification has an id derived from its cause, so a redelivered
//! event creates nothing new and pushes nothing twice.

pub mod matching;
mod notifications;

use crate::contract::events::{BookingCancelled, DomainEvent, EventRecord};
use crate::model::booking::Booking;
use crate::model::geo::GeoGrid;
use crate::model::ids::{EventId, UserId};
use crate::model::order::{Order, OrderStatus, TruckLine};
use crate::model::vehicle::VehicleType;
use crate::ports::{
    EventBus, GeoIndexStore, OfferStore, OfferSubject, OrderStore, PublishError, StoreError, TransporterStore,
};
use chrono::Utc;
use matching::{MatchPolicy, find_candidates, find_candidates_by_type};
use notifications::{notification, notification_keyed};
use std::collections::BTreeMap;

pub const FANOUT_EVENT_SOURCE: &str = "/weelo/order-fanout";

#[derive(Debug, thiserror::Error)]
pub enum FanoutError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Publish(#[from] PublishError),
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FanoutReport {
    pub offers: usize,
    pub truck_requests: usize,
    pub notifications: usize,
}

/// How the fan-out matches: the grid of the geo index, the matching policy, and for orders how
/// many transporters to offer each line per truck it asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct FanoutSettings {
    pub grid: GeoGrid,
    pub policy: MatchPolicy,
    /// For orders: offer each line to at most this many transporters per truck requested. The
    /// offer is per line, so an order writes at most this × its trucks offers.
    pub candidates_per_truck: usize,
}

/// The fan-out over a store and the event bus.
pub struct Fanout<S, B> {
    store: S,
    bus: B,
    grid: GeoGrid,
    policy: MatchPolicy,
    candidates_per_truck: usize,
}

impl<S, B> Fanout<S, B>
where
    S: GeoIndexStore + TransporterStore + OfferStore + OrderStore,
    B: EventBus,
{
    pub fn new(store: S, bus: B, settings: FanoutSettings) -> Self {
        let FanoutSettings { grid, policy, candidates_per_truck } = settings;
        Self { store, bus, grid, policy, candidates_per_truck }
    }

    /// The store it writes to (for tests that seed or inspect it).
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Handles one consumed event: offers a new booking or order, withdraws a cancelled booking.
    pub async fn on_event(&self, cause: EventId, event: &DomainEvent) -> Result<FanoutReport, FanoutError> {
        match event {
            DomainEvent::BookingCreated(booking) => self.offer_booking(cause, booking).await,
            DomainEvent::OrderCreated(order) => self.offer_order(cause, order).await,
            DomainEvent::BookingCancelled(cancelled) => self.withdraw_booking(cause, cancelled).await,
            // Not ours: this function's mappings deliver only the three above.
            _ => Ok(FanoutReport::default()),
        }
    }

    async fn offer_booking(&self, cause: EventId, booking: &Booking) -> Result<FanoutReport, FanoutError> {
        let candidates = find_candidates(
            &self.store,
            &self.grid,
            &self.policy,
            booking.pickup.point(),
            booking.vehicle_type,
            self.policy.max_candidates,
        )
        .await?;
        let recipients: Vec<UserId> = candidates.iter().map(|c| c.transporter_id.clone()).collect();
        self.store.put_offers(OfferSubject::Booking(booking.booking_id), &recipients, Utc::now()).await?;
        let notifications: Vec<EventRecord> = candidates
            .iter()
            .map(|c| {
                let data = BTreeMap::from([
                    ("kind".to_owned(), "booking.offered".to_owned()),
                    ("bookingId".to_owned(), booking.booking_id.to_string()),
                    ("vehicleType".to_owned(), booking.vehicle_type.as_str().to_owned()),
                    ("distanceM".to_owned(), format!("{:.0}", c.distance_m)),
                ]);
                let body = format!(
                    "A {} truck is needed {:.1} km from you",
                    booking.vehicle_type.as_str(),
                    c.distance_m / 1000.0
                );
                notification(cause, &c.transporter_id, "booking.offered", "New booking near you", &body, data)
            })
            .collect();
        self.bus.publish(&notifications).await?;
        Ok(FanoutReport { offers: recipients.len(), truck_requests: 0, notifications: notifications.len() })
    }

    async fn offer_order(&self, cause: EventId, order: &Order) -> Result<FanoutReport, FanoutError> {
        // Created at the order's time, so a redelivery derives identical items.
        let requests = order.truck_requests(order.created_at);
        self.store.put_truck_requests(&requests).await?;
        let mut report = FanoutReport { truck_requests: requests.len(), ..FanoutReport::default() };
        let line_limit = |line: &TruckLine| {
            (line.quantity as usize).saturating_mul(self.candidates_per_truck).min(self.policy.max_candidates)
        };
        // Lines of the same type share that type's candidates, nearest first.
        let mut wanted: BTreeMap<VehicleType, usize> = BTreeMap::new();
        for line in &order.trucks {
            let limit = wanted.entry(line.vehicle_type).or_default();
            *limit = (*limit).max(line_limit(line));
        }
        let wanted: Vec<(VehicleType, usize)> = wanted.into_iter().collect();
        let candidates_by_type =
            find_candidates_by_type(&self.store, &self.grid, &self.policy, order.pickup.point(), &wanted).await?;
        let mut notifications = Vec::new();
        for (index, line) in order.trucks.iter().enumerate() {
            let index = index as u32;
            let of_type = candidates_by_type.get(&line.vehicle_type).map(Vec::as_slice).unwrap_or_default();
            let candidates = &of_type[..of_type.len().min(line_limit(line))];
            let recipients: Vec<UserId> = candidates.iter().map(|c| c.transporter_id.clone()).collect();
            self.store.put_offers(OfferSubject::OrderLine(order.order_id, index), &recipients, Utc::now()).await?;
            report.offers += recipients.len();
            for candidate in candidates {
                let data = BTreeMap::from([
                    ("kind".to_owned(), "order.offered".to_owned()),
                    ("orderId".to_owned(), order.order_id.to_string()),
                    ("line".to_owned(), index.to_string()),
                    ("vehicleType".to_owned(), line.vehicle_type.as_str().to_owned()),
                    ("trucks".to_owned(), line.quantity.to_string()),
                ]);
                let body = format!("{} {} trucks needed near you", line.quantity, line.vehicle_type.as_str());
                let key = format!("{}/line/{index}", candidate.transporter_id);
                notifications.push(notification_keyed(
                    cause,
                    &candidate.transporter_id,
                    &key,
                    "order.offered",
                    "New order near you",
                    &body,
                    data,
                ));
            }
        }
        self.bus.publish(&notifications).await?;
        self.store.set_order_status(order.order_id, OrderStatus::Processing, OrderStatus::Open).await?;
        report.notifications = notifications.len();
        Ok(report)
    }

    async fn withdraw_booking(
        &self,
        cause: EventId,
        cancelled: &BookingCancelled,
    ) -> Result<FanoutReport, FanoutError> {
        let offered = self.store.offered_to(OfferSubject::Booking(cancelled.booking_id)).await?;
        let notifications: Vec<EventRecord> = offered
            .iter()
            .map(|transporter| {
                let data = BTreeMap::from([
                    ("kind".to_owned(), "booking.cancelled".to_owned()),
                    ("bookingId".to_owned(), cancelled.booking_id.to_string()),
                ]);
                notification(
                    cause,
                    transporter,
                    "booking.cancelled",
                    "Booking cancelled",
                    "This booking is no longer available",
                    data,
                )
            })
            .collect();
        self.bus.publish(&notifications).await?;
        Ok(FanoutReport { notifications: notifications.len(), ..FanoutReport::default() })
    }
}
