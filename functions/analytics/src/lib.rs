//! The `analytics` function: consumes `booking.events`, `order.events` and `location.updated`
//! with its own consumer group and publishes the booking funnel, its delays and GPS activity per
//! minute as CloudWatch metrics (`weelo_core::usecases::analytics`, docs/analytics.md), each batch
//! counted once. Each partition is counted on its own; a record that is not an event is skipped
//! (the other consumers dead-letter it); a store failure fails the partition from its first
//! record, and the retry counts only what the mark does not cover.

mod emf;

pub use emf::{EmfSink, stdout};

use aws_lambda_events::kafka::KafkaEvent;
use lambda_runtime::{Error, LambdaEvent};
use weelo_core::contract::events::DomainEvent;
use weelo_core::usecases::analytics::cities::Cities;
use weelo_core::usecases::analytics::{Analytics as Counting, AnalyticsSettings, PartitionRecords};
use weelo_dynamo::{DynamoStore, StoreSettings};
use weelo_msk::{BatchResponse, ConsumedRecord, Consumer, PartitionFailure, for_each_partition};

/// The function's settings, read once from the environment.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// `SDK_*_TIMEOUT_MS`, `TABLE_*`.
    pub store: StoreSettings,
    /// `ANALYTICS_CITIES` (`Name:lat,lng,radiusKm;…`, at most 10; unset: every pickup is `other`)
    /// and `ANALYTICS_SCOPE` (the marks' name, default `analytics`).
    pub analytics: AnalyticsSettings,
    /// `<METRICS_NAMESPACE>/Analytics` (`Weelo/Analytics` by default).
    pub namespace: String,
    /// `KAFKA_FAILURE_REPORTING` (`partial-batch`, or `function-error` behind an on-demand mapping):
    /// how failed records are answered to the event-source mapping.
    pub reporting: weelo_msk::FailureReporting,
}

impl Settings {
    pub fn from_env() -> anyhow::Result<Self> {
        let cities = std::env::var("ANALYTICS_CITIES").unwrap_or_default();
        let cities =
            Cities::parse(&cities).map_err(|e| anyhow::anyhow!("environment variable ANALYTICS_CITIES: {e}"))?;
        let scope = std::env::var("ANALYTICS_SCOPE").unwrap_or_else(|_| "analytics".to_owned());
        anyhow::ensure!(!scope.is_empty() && !scope.contains('#'), "environment variable ANALYTICS_SCOPE: no '#'");
        let namespace = std::env::var("METRICS_NAMESPACE").unwrap_or_else(|_| "Weelo".to_owned());
        Ok(Self {
            store: StoreSettings::from_env()?,
            analytics: AnalyticsSettings { cities, scope },
            namespace: format!("{namespace}/Analytics"),
            reporting: weelo_msk::FailureReporting::from_env()?,
        })
    }
}

pub type Analytics = Consumer<Counting<DynamoStore, EmfSink>>;

/// The use case with clients built from `settings`, writing its metric documents to `out`.
pub async fn connect(settings: &Settings, out: emf::Output) -> anyhow::Result<Analytics> {
    let (_, store) = settings.store.connect().await;
    let sink = EmfSink::new(settings.namespace.clone(), out);
    Ok(Consumer::new(Counting::new(store, sink, settings.analytics.clone()), settings.reporting))
}

pub async fn handle(consumer: &Analytics, event: LambdaEvent<KafkaEvent>) -> Result<BatchResponse, Error> {
    Ok(consumer.answer(for_each_partition(&event.payload, |records| count_partition(consumer, records))).await?)
}

async fn count_partition(consumer: &Analytics, records: Vec<ConsumedRecord>) -> Result<(), PartitionFailure> {
    let Some(first) = records.first() else { return Ok(()) };
    let (topic, partition, first_offset) = (first.topic.clone(), first.partition, first.offset);
    let records = records
        .iter()
        .map(|record| {
            let event = record.value.as_deref().and_then(|value| DomainEvent::from_payload_timed(value).ok());
            (record.offset, event)
        })
        .collect();
    let batch = PartitionRecords { topic: &topic, partition, records };
    let report = consumer
        .count(batch)
        .await
        .map_err(|error| PartitionFailure { offset: first_offset, reason: format!("{error:#}") })?;
    tracing::debug!(?report, topic, partition, "counted");
    Ok(())
}
