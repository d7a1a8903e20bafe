//! The `location-consumer` function: consumes `location.updated` in batches; every point goes to the
//! 7-day history (where the latest position is read), and per transporter the newest point goes
//! into the geo index on a cell change or once a refresh window, noted on their position item
//! (never over a newer one; `weelo_core::usecases::locations`). Each partition is processed on its own (a transporter's
//! points are all on one partition): a record that is not a location update is reported as failed
//! (and so dead-lettered by the mapping after its retries) while the points before it are
//! processed; a store failure fails the partition from its first record, and the retry is harmless
//! (every write is idempotent).

use aws_lambda_events::kafka::KafkaEvent;
use lambda_runtime::{Error, LambdaEvent};
use weelo_aws::parsed_or;
use weelo_core::contract::events::LocationUpdated;
use weelo_core::model::geo::GeoGrid;
use weelo_core::model::ids::EventId;
use weelo_core::usecases::locations::LocationProcessing;
use weelo_dynamo::{DynamoStore, StoreSettings};
use weelo_msk::{BatchResponse, ConsumedRecord, Consumer, PartitionFailure, for_each_partition};

/// The function's settings, read once from the environment.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// `SDK_*_TIMEOUT_MS`, `TABLE_*`.
    pub store: StoreSettings,
    /// `GEO_H3_RESOLUTION` (7; must equal order-fanout's).
    pub grid: GeoGrid,
    /// `GEO_INDEX_REFRESH_SECS` (60): how often a transporter who stays in one cell has their
    /// geo-index entry rewritten; 0 = every point (see `index_needs_write`).
    pub index_refresh: chrono::Duration,
    /// `KAFKA_FAILURE_REPORTING` (`partial-batch`, or `function-error` behind an on-demand mapping):
    /// how failed records are answered to the event-source mapping.
    pub reporting: weelo_msk::FailureReporting,
}

impl Settings {
    pub fn from_env() -> anyhow::Result<Self> {
        let refresh_secs: i64 = parsed_or("GEO_INDEX_REFRESH_SECS", 60)?;
        anyhow::ensure!(
            (0..=300).contains(&refresh_secs),
            "environment variable GEO_INDEX_REFRESH_SECS must be 0 to 300 (matching ignores entries older than its cut-off)"
        );
        Ok(Self {
            store: StoreSettings::from_env()?,
            grid: parsed_or("GEO_H3_RESOLUTION", GeoGrid::default())?,
            index_refresh: chrono::Duration::seconds(refresh_secs),
            reporting: weelo_msk::FailureReporting::from_env()?,
        })
    }
}

pub type LocationConsumer = Consumer<LocationProcessing<DynamoStore>>;

/// The use case with clients built from `settings`.
pub async fn connect(settings: &Settings) -> anyhow::Result<LocationConsumer> {
    let (_, store) = settings.store.connect().await;
    Ok(Consumer::new(LocationProcessing::new(store, settings.grid, settings.index_refresh), settings.reporting))
}

/// [`connect`] with the settings of the environment.
pub async fn from_env() -> anyhow::Result<LocationConsumer> {
    connect(&Settings::from_env()?).await
}

pub async fn handle(consumer: &LocationConsumer, event: LambdaEvent<KafkaEvent>) -> Result<BatchResponse, Error> {
    Ok(consumer.answer(for_each_partition(&event.payload, |records| process_partition(consumer, records))).await?)
}

/// The location updates of one partition up to its first record that is not one, processed
/// together; then that record, if any, reported as failed.
async fn process_partition(consumer: &LocationConsumer, records: Vec<ConsumedRecord>) -> Result<(), PartitionFailure> {
    let mut updates: Vec<(EventId, LocationUpdated)> = Vec::with_capacity(records.len());
    let mut stop = None;
    for record in &records {
        match record.event().map(|(id, event)| (id, event.location_updates(id), event)) {
            Ok((_, Some(points), _)) => updates.extend(points),
            Ok((id, None, other)) => {
                let reason = format!("event {id} is a {}, not a location update", other.event_type());
                stop = Some(PartitionFailure { offset: record.offset, reason });
                break;
            }
            Err(reason) => {
                stop = Some(PartitionFailure { offset: record.offset, reason });
                break;
            }
        }
    }
    let first = records.first().map_or(0, |r| r.offset);
    let report = consumer
        .on_batch(&updates)
        .await
        .map_err(|error| PartitionFailure { offset: first, reason: format!("{error:#}") })?;
    tracing::debug!(?report, "location batch");
    stop.map_or(Ok(()), Err)
}
