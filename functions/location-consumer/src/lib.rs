//! The `location-consumer` function: consumes `location.updated` in batches; per transporter only
//! the newest point is written as the latest position (never over a newer one), the geo index is
//! moved when the cell changes, and every point goes to the 7-day history (see
//! `weelo_core::tracking`). An undecodable record is reported as failed (and so dead-lettered by the
//! mapping after its retries) while the points before it are processed.

use aws_lambda_events::kafka::KafkaEvent;
use lambda_runtime::{Error, LambdaEvent};
use weelo_consumer::{BatchResponse, env_number, partitions};
use weelo_core::events::DomainEvent;
use weelo_core::geo::GeoGrid;
use weelo_core::tracking::process_locations;
use weelo_dynamo::DynamoStore;

pub struct LocationConsumer {
    pub store: DynamoStore,
    pub grid: GeoGrid,
    /// See [`weelo_core::tracking::index_needs_write`].
    pub index_refresh: chrono::Duration,
}

/// The tables, `GEO_H3_RESOLUTION` (7; must equal order-fanout's) and `GEO_INDEX_REFRESH_SECS`
/// (60: how often a transporter who stays in one cell has its geo-index entry rewritten; 0 = every
/// point).
pub async fn from_env() -> anyhow::Result<LocationConsumer> {
    let aws = weelo_aws::sdk_config().await?;
    let resolution: u8 = env_number("GEO_H3_RESOLUTION", 7).map_err(anyhow::Error::msg)?;
    let grid = GeoGrid::new(resolution).ok_or_else(|| anyhow::anyhow!("GEO_H3_RESOLUTION must be 0 to 15"))?;
    let refresh_secs: i64 = env_number("GEO_INDEX_REFRESH_SECS", 60).map_err(anyhow::Error::msg)?;
    anyhow::ensure!(
        (0..=300).contains(&refresh_secs),
        "GEO_INDEX_REFRESH_SECS must be 0 to 300 (matching ignores entries older than its cut-off)"
    );
    Ok(LocationConsumer {
        store: DynamoStore::from_env(&aws)?,
        grid,
        index_refresh: chrono::Duration::seconds(refresh_secs),
    })
}

/// A store failure fails the whole invocation (the mapping retries the batch; every write is
/// idempotent); undecodable records fail alone.
pub async fn handle(consumer: &LocationConsumer, event: LambdaEvent<KafkaEvent>) -> Result<BatchResponse, Error> {
    let mut response = BatchResponse::default();
    let mut updates = Vec::new();
    for records in partitions(&event.payload).into_values() {
        for record in records {
            match record.event {
                Ok((id, DomainEvent::LocationUpdated(update))) => updates.push((id, update)),
                Ok((id, other)) => {
                    tracing::warn!(%id, kind = other.event_type(), "not a location update");
                    response.fail(&record.partition, record.offset);
                    break;
                }
                Err(reason) => {
                    tracing::warn!(partition = %record.partition, offset = record.offset, %reason, "undecodable record");
                    response.fail(&record.partition, record.offset);
                    break;
                }
            }
        }
    }
    let report = process_locations(&consumer.store, &consumer.grid, consumer.index_refresh, &updates).await?;
    tracing::debug!(?report, "location batch");
    Ok(response)
}
