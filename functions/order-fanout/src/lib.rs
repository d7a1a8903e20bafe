//! The `order-fanout` function: consumes `booking.created`, `order.created` and `booking.cancelled`
//! from its MSK event-source mappings; matches, offers and publishes one `notification.fcm` per
//! recipient (see `weelo_core::fanout`).

use aws_lambda_events::kafka::KafkaEvent;
use lambda_runtime::{Error, LambdaEvent};
use weelo_consumer::{BatchResponse, env_number, process_in_order};
use weelo_core::fanout::Fanout;
use weelo_core::geo::GeoGrid;
use weelo_core::matching::MatchPolicy;
use weelo_dynamo::DynamoStore;
use weelo_kafka::{KafkaConfig, KafkaEventBus};

pub type OrderFanout = Fanout<DynamoStore, KafkaEventBus>;

/// `MATCH_MAX_CANDIDATES` (1000), `MATCH_MAX_RINGS` (10), `MATCH_MAX_POSITION_AGE_SECS` (900),
/// `ORDER_CANDIDATES_PER_TRUCK` (20), `GEO_H3_RESOLUTION` (7), plus the tables and Kafka settings.
pub async fn from_env() -> anyhow::Result<OrderFanout> {
    let aws = weelo_aws::sdk_config().await?;
    let store = DynamoStore::from_env(&aws)?;
    let bus = KafkaEventBus::connect(&KafkaConfig::from_env()?).await?;
    let resolution: u8 = env_number("GEO_H3_RESOLUTION", 7).map_err(anyhow::Error::msg)?;
    let grid = GeoGrid::new(resolution).ok_or_else(|| anyhow::anyhow!("GEO_H3_RESOLUTION must be 0 to 15"))?;
    let policy = MatchPolicy {
        max_candidates: env_number("MATCH_MAX_CANDIDATES", 1000).map_err(anyhow::Error::msg)?,
        max_rings: env_number("MATCH_MAX_RINGS", 10).map_err(anyhow::Error::msg)?,
        max_position_age: chrono::Duration::seconds(
            env_number("MATCH_MAX_POSITION_AGE_SECS", 900).map_err(anyhow::Error::msg)?,
        ),
    };
    let candidates_per_truck = env_number("ORDER_CANDIDATES_PER_TRUCK", 20).map_err(anyhow::Error::msg)?;
    Ok(Fanout { store, bus, grid, policy, candidates_per_truck })
}

pub async fn handle(fanout: &OrderFanout, event: LambdaEvent<KafkaEvent>) -> Result<BatchResponse, Error> {
    Ok(process_in_order(&event.payload, |id, domain_event| async move {
        let report = fanout.on_event(id, &domain_event).await?;
        tracing::debug!(%id, ?report, "fanned out");
        Ok::<(), weelo_core::fanout::FanoutError>(())
    })
    .await)
}
