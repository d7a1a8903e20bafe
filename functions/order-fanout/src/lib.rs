//! The `order-fanout` function: consumes `booking.events` and `order.events` from its MSK
//! event-source mappings; matches, offers, withdraws offers, cancels a cancelled order's trucks and
//! publishes one `notification.fcm` per recipient (`weelo_core::usecases::fanout`).

use aws_lambda_events::kafka::KafkaEvent;
use lambda_runtime::{Error, LambdaEvent};
use weelo_aws::parsed_or;
use weelo_core::model::geo::GeoGrid;
use weelo_core::model::trip::OfferTimes;
use weelo_core::usecases::fanout::matching::MatchPolicy;
use weelo_core::usecases::fanout::{Fanout, FanoutError, FanoutSettings};
use weelo_dynamo::{DynamoStore, StoreSettings};
use weelo_kafka::{KafkaConfig, KafkaEventBus};
use weelo_msk::{BatchResponse, Consumer, for_each_record};

/// The function's settings, read once from the environment.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// `SDK_*_TIMEOUT_MS`, `TABLE_*`.
    pub store: StoreSettings,
    pub kafka: KafkaConfig,
    /// `MATCH_MAX_CANDIDATES` (1000), `MATCH_MAX_RINGS` (10), `MATCH_WIDER_RINGS` (5),
    /// `MATCH_MAX_POSITION_AGE_SECS` (900), `ORDER_CANDIDATES_PER_TRUCK` (20), `GEO_H3_RESOLUTION`
    /// (7; must equal location-consumer's), and the offer clock (`OFFER_WINDOW_SECS` 120, `SCHEDULE_LEAD_SECS` 1800).
    pub fanout: FanoutSettings,
    /// `KAFKA_FAILURE_REPORTING` (`partial-batch`, or `function-error` behind an on-demand mapping):
    /// how failed records are answered to the event-source mapping.
    pub reporting: weelo_msk::FailureReporting,
}

impl Settings {
    pub fn from_env() -> anyhow::Result<Self> {
        let policy = MatchPolicy {
            max_candidates: parsed_or("MATCH_MAX_CANDIDATES", 1000)?,
            max_rings: parsed_or("MATCH_MAX_RINGS", 10)?,
            wider_rings: parsed_or("MATCH_WIDER_RINGS", 5)?,
            max_position_age: chrono::Duration::seconds(parsed_or("MATCH_MAX_POSITION_AGE_SECS", 900)?),
        };
        Ok(Self {
            store: StoreSettings::from_env()?,
            kafka: KafkaConfig::from_env()?,
            fanout: FanoutSettings {
                grid: parsed_or("GEO_H3_RESOLUTION", GeoGrid::default())?,
                policy,
                times: OfferTimes::configured(parsed_or)?,
                candidates_per_truck: parsed_or("ORDER_CANDIDATES_PER_TRUCK", 20)?,
            },
            reporting: weelo_msk::FailureReporting::from_env()?,
        })
    }
}

pub type OrderFanout = Consumer<Fanout<DynamoStore, KafkaEventBus>>;

/// The fan-out with clients built from `settings`.
pub async fn connect(settings: &Settings) -> anyhow::Result<OrderFanout> {
    let (_, store) = settings.store.connect().await;
    let bus = KafkaEventBus::connect(&settings.kafka).await?;
    Ok(Consumer::new(Fanout::new(store, bus, settings.fanout.clone()), settings.reporting))
}

/// [`connect`] with the settings of the environment.
pub async fn from_env() -> anyhow::Result<OrderFanout> {
    connect(&Settings::from_env()?).await
}

pub async fn handle(fanout: &OrderFanout, event: LambdaEvent<KafkaEvent>) -> Result<BatchResponse, Error> {
    let handled = for_each_record(&event.payload, |id, domain_event| async move {
        let report = fanout.on_event(id, &domain_event).await?;
        tracing::debug!(%id, ?report, "fanned out");
        Ok::<(), FanoutError>(())
    });
    Ok(fanout.answer(handled).await?)
}
