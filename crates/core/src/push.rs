//! The fcm-consumer's use case: deliver a notification to every device of its recipient, once per
//! (notification, device), pruning devices whose endpoint is gone. A push claimed by a delivery that
//! crashed before it confirmed the push is sent again by the next delivery, under the same
//! notification id, which the phone uses to show it once (FCM collapse key, APNs collapse id).

use crate::events::{BookingAccepted, DomainEvent, FcmNotification, TruckRequestAccepted};
use crate::ids::EventId;
use crate::ports::{DeviceStore, PushError, PushLog, PushSender, StoreError};
use futures::{StreamExt, stream};
use std::collections::BTreeMap;

/// Concurrent pushes per notification.
const PUSH_CONCURRENCY: usize = 8;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryReport {
    pub delivered: usize,
    /// Already pushed by an earlier delivery of the same notification.
    pub duplicates: usize,
    pub pruned: usize,
    pub rejected: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Some devices could not be reached for now; the others got theirs. Retrying is safe.
    #[error("{failed} device(s) failed transiently")]
    Transient { failed: usize },
}

pub struct PushService<S, P> {
    pub store: S,
    pub sender: P,
}

impl<S: DeviceStore + PushLog, P: PushSender> PushService<S, P> {
    /// Handles one consumed event: a notification, or an acceptance the customer must hear about.
    pub async fn on_event(&self, id: EventId, event: &DomainEvent) -> Result<DeliveryReport, DeliveryError> {
        match event {
            DomainEvent::NotificationFcm(notification) => self.deliver(id, notification).await,
            DomainEvent::BookingAccepted(accepted) => self.deliver(derived(id), &booking_accepted(accepted)).await,
            DomainEvent::TruckRequestAccepted(accepted) => self.deliver(derived(id), &truck_accepted(accepted)).await,
            _ => Ok(DeliveryReport::default()),
        }
    }

    pub async fn deliver(
        &self,
        notification_id: EventId,
        notification: &FcmNotification,
    ) -> Result<DeliveryReport, DeliveryError> {
        let devices = self.store.list_devices(&notification.recipient_id).await?;
        let outcomes: Vec<Result<Outcome, StoreError>> = stream::iter(devices)
            .map(|device| async move {
                let key = format!("{notification_id}#{}", device.device_id);
                let Some(claim) = self.store.claim_push(&key).await? else {
                    return Ok(Outcome::Duplicate);
                };
                match self.sender.send(&device.endpoint_arn, notification_id, notification).await {
                    Ok(()) => {
                        self.store.confirm_push(&claim).await?;
                        Ok(Outcome::Delivered)
                    }
                    Err(PushError::EndpointGone(reason)) => {
                        tracing::info!(device = %device.device_id, %reason, "pruning a device whose endpoint is gone");
                        self.store.delete_device(&device.user_id, device.device_id).await?;
                        Ok(Outcome::Pruned)
                    }
                    Err(PushError::Transient(reason)) => {
                        tracing::warn!(device = %device.device_id, %reason, "push failed transiently; will retry");
                        self.store.release_push(&claim).await?;
                        Ok(Outcome::Transient)
                    }
                    Err(PushError::Rejected(reason)) => {
                        // Confirmed all the same: the same push would be refused again.
                        tracing::error!(device = %device.device_id, %reason, "push rejected");
                        self.store.confirm_push(&claim).await?;
                        Ok(Outcome::Rejected)
                    }
                }
            })
            .buffer_unordered(PUSH_CONCURRENCY)
            .collect()
            .await;
        let mut report = DeliveryReport::default();
        let mut transient = 0;
        for outcome in outcomes {
            match outcome? {
                Outcome::Delivered => report.delivered += 1,
                Outcome::Duplicate => report.duplicates += 1,
                Outcome::Pruned => report.pruned += 1,
                Outcome::Rejected => report.rejected += 1,
                Outcome::Transient => transient += 1,
            }
        }
        if transient > 0 { Err(DeliveryError::Transient { failed: transient }) } else { Ok(report) }
    }
}

enum Outcome {
    Delivered,
    Duplicate,
    Pruned,
    Rejected,
    Transient,
}

/// The customer's notification for an acceptance event gets an id of its own, derived from the event.
fn derived(cause: EventId) -> EventId {
    EventId::derive(&format!("{cause}/customer"))
}

fn booking_accepted(accepted: &BookingAccepted) -> FcmNotification {
    FcmNotification {
        recipient_id: accepted.customer_id.clone(),
        kind: "booking.accepted".into(),
        title: "Your truck is booked".into(),
        body: format!("A transporter accepted your {} booking", accepted.vehicle_type.as_str()),
        data: BTreeMap::from([
            ("kind".to_owned(), "booking.accepted".to_owned()),
            ("bookingId".to_owned(), accepted.booking_id.to_string()),
            ("transporterId".to_owned(), accepted.transporter_id.to_string()),
        ]),
    }
}

fn truck_accepted(accepted: &TruckRequestAccepted) -> FcmNotification {
    FcmNotification {
        recipient_id: accepted.customer_id.clone(),
        kind: "order.truck-accepted".into(),
        title: "A truck of your order is booked".into(),
        body: format!("A transporter accepted one {} truck of your order", accepted.vehicle_type.as_str()),
        data: BTreeMap::from([
            ("kind".to_owned(), "order.truck-accepted".to_owned()),
            ("orderId".to_owned(), accepted.order_id.to_string()),
            ("truckRequestId".to_owned(), accepted.truck_request_id.to_string()),
            ("transporterId".to_owned(), accepted.transporter_id.to_string()),
        ]),
    }
}
