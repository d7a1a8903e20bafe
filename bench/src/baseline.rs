//! The synchronous baseline the product replaces: the booking request itself matches the
//! transporters and pushes to every phone before it answers. It is built from the same parts as
//! the asynchronous path (the api's booking use case, `Fanout`, `Push`, the SNS adapter);
//! only the event bus differs: instead of Kafka, `InlinePushBus` delivers each notification on the
//! spot. `DelayedSender` adds a fixed per-push delay standing in for FCM's own latency, which the
//! SNS emulator does not have; both paths get the same delay.

use async_trait::async_trait;
use futures::{StreamExt, TryStreamExt, stream};
use std::time::Duration;
use weelo_core::contract::events::{DomainEvent, EventRecord, FcmNotification};
use weelo_core::model::ids::EventId;
use weelo_core::ports::{DeviceStore, EventBus, PublishError, PushError, PushLog, PushSender};
use weelo_core::usecases::push::Push;

pub struct InlinePushBus<S, P> {
    pub push: Push<S, P>,
    /// Notifications delivered at once (the fcm-consumer handles partitions in parallel too).
    pub concurrency: usize,
}

#[async_trait]
impl<S, P> EventBus for InlinePushBus<S, P>
where
    S: DeviceStore + PushLog,
    P: PushSender,
{
    async fn publish(&self, records: &[EventRecord]) -> Result<(), PublishError> {
        // Collected first: a lazy `map` closure in the stream trips the compiler's Send check here.
        let deliveries: Vec<_> = records.iter().map(|record| self.deliver(record)).collect();
        stream::iter(deliveries).buffer_unordered(self.concurrency.max(1)).try_collect::<Vec<()>>().await.map(|_| ())
    }
}

impl<S, P> InlinePushBus<S, P>
where
    S: DeviceStore + PushLog,
    P: PushSender,
{
    /// What the fcm-consumer does with one consumed notification.
    async fn deliver(&self, record: &EventRecord) -> Result<(), PublishError> {
        let (id, event) =
            DomainEvent::from_payload(record.payload.as_bytes()).map_err(|e| PublishError(e.to_string()))?;
        self.push.on_event(id, &event).await.map(|_| ()).map_err(|e| PublishError(e.to_string()))
    }
}

/// A push sender that waits `delay` before each push, as a real FCM round trip would.
pub struct DelayedSender<P> {
    pub inner: P,
    pub delay: Duration,
}

#[async_trait]
impl<P: PushSender> PushSender for DelayedSender<P> {
    async fn send(&self, endpoint: &str, id: EventId, notification: &FcmNotification) -> Result<(), PushError> {
        tokio::time::sleep(self.delay).await;
        self.inner.send(endpoint, id, notification).await
    }
}
