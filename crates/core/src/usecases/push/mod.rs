//! [`Push`] (the fcm-consumer function): deliver a notification to every device of its recipient, once per
//! (notification, device), pruning devices whose endpoint is gone. Each push is claimed in the
//! push log before it is sent and confirmed after. A delivery that finds the claim held waits for
//! its confirmation (two deliveries at once push once); a claim its delivery never confirmed (it
//! crashed between claim and confirmation) is taken over once older than the lease and pushed
//! again, under the same notification id, which the phone uses to show it once (FCM collapse key,
//! APNs collapse id).
//!
//! Data-only pushes (an offer taken back) skip the push log: a second "drop the offer made at or
//! before `offeredAt`" finds that offer dropped already and leaves any later one standing, so a
//! redelivered or replayed one may reach the app again. That saves the log's two writes on the
//! most frequent push of a trip (one to every transporter who did not win it).

mod customer;

use crate::contract::events::{DomainEvent, FcmNotification};
use crate::model::device::Device;
use crate::model::ids::EventId;
use crate::ports::{ClaimOutcome, DeviceStore, PushClaim, PushError, PushLog, PushSender, StoreError};
use chrono::Utc;
use futures::{StreamExt, stream};

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

/// Delivery of notifications over the device store, the push log and the push sender.
pub struct Push<S, P> {
    store: S,
    sender: P,
    /// How long a claim on a push is another delivery's before this one may take it over.
    claim_lease: chrono::Duration,
}

/// The claim lease functions use: longer than the slowest live push (an SNS call gives up after
/// 10 s, the confirmation after 3 s more), well inside the function's timeout.
pub const CLAIM_LEASE: chrono::Duration = chrono::Duration::seconds(20);

/// How often a held claim is looked at again.
const CLAIM_POLL: std::time::Duration = std::time::Duration::from_millis(250);

impl<S: DeviceStore + PushLog, P: PushSender> Push<S, P> {
    pub fn new(store: S, sender: P, claim_lease: chrono::Duration) -> Self {
        Self { store, sender, claim_lease }
    }

    /// Handles one consumed event: a notification, or a step of a trip the customer hears about.
    pub async fn on_event(&self, id: EventId, event: &DomainEvent) -> Result<DeliveryReport, DeliveryError> {
        match event {
            DomainEvent::NotificationFcm(notification) => self.deliver(id, notification).await,
            DomainEvent::BookingChanged(changed) => match customer::booking_changed(changed) {
                Some(notification) => self.deliver(customer::derived(id), &notification).await,
                None => Ok(DeliveryReport::default()),
            },
            DomainEvent::TruckRequestChanged(changed) => match customer::truck_changed(id, changed) {
                Some((notification_id, notification)) => self.deliver(notification_id, &notification).await,
                None => Ok(DeliveryReport::default()),
            },
            _ => Ok(DeliveryReport::default()),
        }
    }

    pub async fn deliver(
        &self, notification_id: EventId, notification: &FcmNotification,
    ) -> Result<DeliveryReport, DeliveryError> {
        let devices = self.store.list_devices(&notification.recipient_id).await?;
        let outcomes: Vec<Result<Outcome, StoreError>> = stream::iter(devices)
            .map(|device| self.deliver_to(notification_id, notification, device))
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

    /// One device: claim the push, send it, confirm it; a data-only push is sent unclaimed.
    async fn deliver_to(
        &self, notification_id: EventId, notification: &FcmNotification, device: Device,
    ) -> Result<Outcome, StoreError> {
        let claim = if notification.data_only {
            None
        } else {
            let key = format!("{notification_id}#{}", device.device_id);
            let Some(claim) = self.claim(&key).await? else { return Ok(Outcome::Duplicate) };
            Some(claim)
        };
        let sent = self.sender.send(&device.endpoint_arn, notification_id, notification).await;
        let outcome = match sent {
            Ok(()) => Outcome::Delivered,
            Err(PushError::EndpointGone(reason)) => {
                tracing::info!(device = %device.device_id, %reason, "pruning a device whose endpoint is gone");
                self.store.delete_device(&device.user_id, device.device_id).await?;
                return Ok(Outcome::Pruned);
            }
            Err(PushError::Transient(reason)) => {
                tracing::warn!(device = %device.device_id, %reason, "push failed transiently; will retry");
                if let Some(claim) = &claim {
                    self.store.release_push(claim).await?;
                }
                return Ok(Outcome::Transient);
            }
            // Confirmed all the same: the same push would be refused again.
            Err(PushError::Rejected(reason)) => {
                tracing::error!(device = %device.device_id, %reason, "push rejected");
                Outcome::Rejected
            }
        };
        if let Some(claim) = &claim {
            self.store.confirm_push(claim).await?;
        }
        Ok(outcome)
    }

    /// The claim on push `key`, or `None` if it was sent before. A claim another delivery holds is
    /// waited on: that delivery is pushing now (it confirms within moments, and this one then pushes
    /// nothing) or it died doing so, and once its claim is older than the lease this one takes it
    /// over and pushes.
    async fn claim(&self, key: &str) -> Result<Option<PushClaim>, StoreError> {
        loop {
            let now = Utc::now();
            match self.store.claim_push(key, now - self.claim_lease).await? {
                ClaimOutcome::Claimed(claim) => return Ok(Some(claim)),
                ClaimOutcome::Sent => return Ok(None),
                ClaimOutcome::Held { since } => {
                    let stale_in = (since + self.claim_lease - now).to_std().unwrap_or_default();
                    tokio::time::sleep(stale_in.min(CLAIM_POLL) + std::time::Duration::from_millis(1)).await;
                }
            }
        }
    }
}

enum Outcome {
    Delivered,
    Duplicate,
    Pruned,
    Rejected,
    Transient,
}
