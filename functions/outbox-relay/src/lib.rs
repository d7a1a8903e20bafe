//! The `outbox-relay` function: on a schedule (EventBridge in AWS, `weelo-local schedule` locally),
//! publishes outbox events that the api committed but could not publish, and marks them sent.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use lambda_runtime::{Error, LambdaEvent};
use weelo_core::service::{RelayReport, relay_outbox};
use weelo_dynamo::{DynamoStore, Tables};
use weelo_kafka::{KafkaConfig, KafkaEventBus};

pub struct Relay {
    store: DynamoStore,
    bus: KafkaEventBus,
    /// Events younger than this are left to the api, which is still publishing them.
    grace: chrono::Duration,
    page_size: usize,
}

impl Relay {
    /// `TABLE_OUTBOX` and the Kafka settings; `OUTBOX_RELAY_GRACE_SECS` (default 10).
    pub async fn from_env() -> anyhow::Result<Self> {
        Self::with_kafka(&KafkaConfig::from_env()?).await
    }

    /// As [`Relay::from_env`], with these Kafka settings.
    pub async fn with_kafka(kafka: &KafkaConfig) -> anyhow::Result<Self> {
        let aws = weelo_aws::sdk_config().await?;
        let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&aws), Tables::from_env()?);
        let bus = KafkaEventBus::connect(kafka).await?;
        let grace_secs: i64 = std::env::var("OUTBOX_RELAY_GRACE_SECS").ok().and_then(|v| v.parse().ok()).unwrap_or(10);
        Ok(Self { store, bus, grace: chrono::Duration::seconds(grace_secs), page_size: 100 })
    }

    /// One pass over the outbox. A store failure fails the invocation (the schedule runs it again);
    /// a broker failure is reported in the result and retried on the next run.
    pub async fn run_once(&self) -> Result<RelayReport, Error> {
        let report = relay_outbox(&self.store, &self.bus, self.grace, self.page_size).await?;
        if report.published > 0 || report.failed > 0 {
            tracing::info!(published = report.published, failed = report.failed, "outbox relay pass");
        }
        Ok(report)
    }
}

pub async fn handle(
    relay: &Relay,
    _event: LambdaEvent<EventBridgeEvent<serde_json::Value>>,
) -> Result<RelayReport, Error> {
    relay.run_once().await
}
