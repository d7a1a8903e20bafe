//! The api's settings: read once from the environment at a cold start, each missing or invalid
//! variable named in the error (see the README's configuration table).

use crate::router::Served;
use weelo_auth::EdgeSettings;
use weelo_aws::parsed_or;
use weelo_core::model::trip::OfferTimes;
use weelo_dynamo::StoreSettings;
use weelo_kafka::KafkaConfig;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `SDK_ATTEMPT_TIMEOUT_MS`, `SDK_OPERATION_TIMEOUT_MS`, `TABLE_*`.
    pub store: StoreSettings,
    /// `KAFKA_*`.
    pub kafka: KafkaConfig,
    /// `SNS_PLATFORM_APPLICATION_ARN`: the FCM platform application phones are registered with.
    pub platform_application_arn: String,
    /// `JWT_*`, `CURSOR_KEY`: how callers are checked, and the key list cursors and shared
    /// links' tokens are sealed with.
    pub edge: EdgeSettings,
    /// `OFFER_WINDOW_SECS`, `SCHEDULE_LEAD_SECS`: when a new or released booking's search ends
    /// and when a scheduled one is offered.
    pub times: OfferTimes,
    /// `SHARE_PAGE_URL`: the tracking page a shared link opens (this api's `GET /track`).
    pub share_page_url: String,
    /// `SHARE_LINK_HOURS` (12, at most 72): how long a shared link works if the trip goes on.
    pub share_lifetime: chrono::Duration,
    /// `LIVE_SOCKET_URL`: the live-tracking WebSocket (`wss://…`), which the page connects to.
    pub live_socket_url: String,
    /// `API_ROUTES` (`all`): which routes this function serves (`gps-ingest`: GPS points only).
    pub routes: Served,
}

impl Settings {
    pub fn from_env() -> anyhow::Result<Self> {
        Ok(Self {
            store: StoreSettings::from_env()?,
            kafka: KafkaConfig::from_env()?,
            platform_application_arn: weelo_aws::required("SNS_PLATFORM_APPLICATION_ARN")?,
            edge: EdgeSettings::from_env()?,
            times: OfferTimes::configured(parsed_or)?,
            share_page_url: weelo_aws::required("SHARE_PAGE_URL")?,
            share_lifetime: share_lifetime(parsed_or("SHARE_LINK_HOURS", 12)?)?,
            live_socket_url: weelo_aws::required("LIVE_SOCKET_URL")?,
            routes: parsed_or("API_ROUTES", Served::All)?,
        })
    }
}

fn share_lifetime(hours: i64) -> anyhow::Result<chrono::Duration> {
    anyhow::ensure!((1..=72).contains(&hours), "environment variable SHARE_LINK_HOURS must be 1 to 72");
    Ok(chrono::Duration::hours(hours))
}
