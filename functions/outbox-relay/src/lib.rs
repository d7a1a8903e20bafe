//! The `outbox-relay` function: on a schedule (EventBridge in AWS, `weelo-local schedule` locally),
//! publishes outbox events that the api committed but could not publish, and marks them sent
//! (`weelo_core::usecases::outbox_relay`).

use aws_lambda_events::eventbridge::EventBridgeEvent;
use lambda_runtime::{Error, LambdaEvent};
use weelo_core::usecases::outbox_relay::{OutboxRelay, RelayReport};
use weelo_dynamo::{DynamoStore, StoreSettings};
use weelo_kafka::{KafkaConfig, KafkaEventBus};

/// Outbox events read per page.
const PAGE_SIZE: usize = 100;

/// The relay's settings, read once from the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `SDK_*_TIMEOUT_MS`, `TABLE_*` (the relay reads the outbox).
    pub store: StoreSettings,
    /// `KAFKA_*`.
    pub kafka: KafkaConfig,
    /// `OUTBOX_RELAY_GRACE_SECS` (default 10): events younger than this are left to the api,
    /// which is still publishing them.
    pub grace: chrono::Duration,
}

impl Settings {
    pub fn from_env() -> anyhow::Result<Self> {
        Ok(Self {
            store: StoreSettings::from_env()?,
            kafka: KafkaConfig::from_env()?,
            grace: chrono::Duration::seconds(weelo_aws::parsed_or("OUTBOX_RELAY_GRACE_SECS", 10)?),
        })
    }
}

pub type Relay = OutboxRelay<DynamoStore, KafkaEventBus>;

/// The relay with clients built from `settings`.
pub async fn connect(settings: &Settings) -> anyhow::Result<Relay> {
    let (_, store) = settings.store.connect().await;
    let bus = KafkaEventBus::connect(&settings.kafka).await?;
    Ok(OutboxRelay::new(store, bus, settings.grace, PAGE_SIZE))
}

/// One pass over the outbox. A store failure fails the invocation (the schedule runs it again); a
/// broker failure is reported in the result and retried on the next run.
pub async fn handle(
    relay: &Relay, _event: LambdaEvent<EventBridgeEvent<serde_json::Value>>,
) -> Result<RelayReport, Error> {
    let report = relay.run_once().await?;
    if report.published > 0 || report.failed > 0 {
        tracing::info!(published = report.published, failed = report.failed, "outbox relay pass");
    }
    Ok(report)
}
