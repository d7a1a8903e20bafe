//! The `deadline-sweeper` function: on a schedule (EventBridge every minute in AWS, `weelo-local
//! schedule` locally) fires the booking deadlines that have passed: scheduled bookings are
//! offered, searches widened, unaccepted bookings expired (`weelo_core::usecases::deadlines`).
//! One invocation sweeps every `DEADLINE_SWEEP_EVERY_SECS` for `DEADLINE_SWEEP_FOR_SECS`, so a
//! deadline is met within one sweep interval although EventBridge fires at most once a minute.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use lambda_runtime::{Error, LambdaEvent};
use std::time::Duration;
use weelo_aws::parsed_or;
use weelo_core::model::trip::OfferTimes;
use weelo_core::usecases::deadlines::{Deadlines, SweepReport};
use weelo_dynamo::{DynamoStore, StoreSettings};
use weelo_kafka::{KafkaConfig, KafkaEventBus};

/// Due bookings read per page.
const PAGE_SIZE: usize = 100;

/// The sweeper's settings, read once from the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `SDK_*_TIMEOUT_MS`, `TABLE_*` (bookings, the transporters it frees, the outbox).
    pub store: StoreSettings,
    /// `KAFKA_*`.
    pub kafka: KafkaConfig,
    /// `OFFER_WINDOW_SECS`, `SCHEDULE_LEAD_SECS`.
    pub times: OfferTimes,
    /// `DEADLINE_SWEEP_EVERY_SECS`, `DEADLINE_SWEEP_FOR_SECS`.
    pub sweeping: Sweeping,
}

impl Settings {
    pub fn from_env() -> anyhow::Result<Self> {
        let times = OfferTimes::configured(parsed_or)?;
        let sweeping = Sweeping::from_env()?;
        Ok(Self { store: StoreSettings::from_env()?, kafka: KafkaConfig::from_env()?, times, sweeping })
    }
}

/// How long one invocation sweeps, and how often.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sweeping {
    /// `DEADLINE_SWEEP_EVERY_SECS` (default 10, at least 1): the sweep interval.
    pub every: Duration,
    /// `DEADLINE_SWEEP_FOR_SECS` (default 50, under the schedule's minute): how long an invocation
    /// keeps sweeping; 0 sweeps once.
    pub sweep_for: Duration,
}

impl Sweeping {
    fn from_env() -> anyhow::Result<Self> {
        Ok(Self {
            every: Duration::from_secs(parsed_or("DEADLINE_SWEEP_EVERY_SECS", 10)?.max(1)),
            sweep_for: Duration::from_secs(parsed_or("DEADLINE_SWEEP_FOR_SECS", 50)?),
        })
    }
}

/// The sweeper and how long each invocation sweeps.
pub struct Sweeper {
    pub deadlines: Deadlines<DynamoStore, KafkaEventBus>,
    sweeping: Sweeping,
}

/// The sweeper with clients built from `settings`.
pub async fn connect(settings: &Settings) -> anyhow::Result<Sweeper> {
    let (_, store) = settings.store.connect().await;
    let bus = KafkaEventBus::connect(&settings.kafka).await?;
    let deadlines = Deadlines::new(store, bus, settings.times, PAGE_SIZE);
    Ok(Sweeper { deadlines, sweeping: settings.sweeping })
}

/// Sweeps until `sweep_for` has passed (at least once). A store failure fails the invocation;
/// every deadline it left is still due and the next sweep fires it.
pub async fn handle(
    sweeper: &Sweeper, _event: LambdaEvent<EventBridgeEvent<serde_json::Value>>,
) -> Result<SweepReport, Error> {
    let started = tokio::time::Instant::now();
    let mut total = SweepReport::default();
    loop {
        let report = sweeper.deadlines.sweep(chrono::Utc::now()).await?;
        if report.fired() > 0 || report.failed > 0 {
            tracing::info!(?report, "deadline sweep");
        }
        total += report;
        let next = tokio::time::Instant::now() + sweeper.sweeping.every;
        if next.duration_since(started) > sweeper.sweeping.sweep_for {
            return Ok(total);
        }
        tokio::time::sleep_until(next).await;
    }
}
