//! The `fcm-consumer` function: consumes `notification.fcm` (and `booking.events` and
//! `order.events`, to tell the customer of each step of their trips) and pushes to every device of
//! the recipient through SNS mobile push (`weelo_core::usecases::push`). A transient failure reports
//! only that record as failed; devices already reached are not pushed again on the retry.

use aws_lambda_events::kafka::KafkaEvent;
use lambda_runtime::{Error, LambdaEvent};
use weelo_core::ports::{DeviceStore, PushLog, PushSender};
use weelo_core::usecases::push::{CLAIM_LEASE, DeliveryError, Push};
use weelo_dynamo::{DynamoStore, StoreSettings};
use weelo_msk::{BatchResponse, Consumer, for_each_record};
use weelo_sns::SnsPushSender;

/// The function's settings, read once from the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `SDK_*_TIMEOUT_MS`, `TABLE_*`.
    pub store: StoreSettings,
    /// How long a push claimed by another delivery is waited on before it is taken over (not from
    /// the environment: it follows from the SDK timeouts; see `weelo_core::usecases::push`).
    pub claim_lease: chrono::Duration,
    /// `KAFKA_FAILURE_REPORTING` (`partial-batch`, or `function-error` behind an on-demand mapping):
    /// how failed records are answered to the event-source mapping.
    pub reporting: weelo_msk::FailureReporting,
}

impl Settings {
    pub fn from_env() -> anyhow::Result<Self> {
        Ok(Self {
            store: StoreSettings::from_env()?,
            claim_lease: CLAIM_LEASE,
            reporting: weelo_msk::FailureReporting::from_env()?,
        })
    }
}

pub type FcmConsumer = Consumer<Push<DynamoStore, SnsPushSender>>;

/// The push use case with clients built from `settings`.
pub async fn connect(settings: &Settings) -> anyhow::Result<FcmConsumer> {
    let (aws, store) = settings.store.connect().await;
    let push = Push::new(store, SnsPushSender::new(aws_sdk_sns::Client::new(&aws)), settings.claim_lease);
    Ok(Consumer::new(push, settings.reporting))
}

/// [`connect`] with the settings of the environment.
pub async fn from_env() -> anyhow::Result<FcmConsumer> {
    connect(&Settings::from_env()?).await
}

/// Generic over the store and the sender so the benchmark can put a per-push delay in front of SNS.
pub async fn handle<S, P>(push: &Consumer<Push<S, P>>, event: LambdaEvent<KafkaEvent>) -> Result<BatchResponse, Error>
where
    S: DeviceStore + PushLog,
    P: PushSender,
{
    let handled = for_each_record(&event.payload, |id, domain_event| async move {
        let report = push.on_event(id, &domain_event).await?;
        tracing::debug!(%id, ?report, "delivered");
        Ok::<(), DeliveryError>(())
    });
    Ok(push.answer(handled).await?)
}
