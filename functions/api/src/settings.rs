//! The api's settings: read once from the environment at a cold start, each missing or invalid
//! variable named in the error (see the README's configuration table).

use weelo_auth::VerifierConfig;
use weelo_aws::{Timeouts, parsed_or};
use weelo_core::contract::cursor::CursorKey;
use weelo_core::model::trip::OfferTimes;
use weelo_dynamo::Tables;
use weelo_kafka::KafkaConfig;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `SDK_ATTEMPT_TIMEOUT_MS`, `SDK_OPERATION_TIMEOUT_MS`.
    pub sdk: Timeouts,
    /// `TABLE_*`.
    pub tables: Tables,
    /// `KAFKA_*`.
    pub kafka: KafkaConfig,
    /// `SNS_PLATFORM_APPLICATION_ARN`: the FCM platform application phones are registered with.
    pub platform_application_arn: String,
    /// `JWT_*`.
    pub jwt: VerifierConfig,
    /// `OFFER_WINDOW_SECS`, `SCHEDULE_LEAD_SECS`: when a new or released booking's search ends
    /// and when a scheduled one is offered.
    pub times: OfferTimes,
    /// `CURSOR_KEY`: the secret list cursors are sealed with (base64, at least 32 bytes).
    pub cursor_key: CursorKey,
}

impl Settings {
    pub fn from_env() -> anyhow::Result<Self> {
        Ok(Self {
            sdk: Timeouts::from_env()?,
            tables: Tables::from_env()?,
            kafka: KafkaConfig::from_env()?,
            platform_application_arn: weelo_aws::required("SNS_PLATFORM_APPLICATION_ARN")?,
            jwt: VerifierConfig::from_env()?,
            times: OfferTimes::from_secs(
                parsed_or("OFFER_WINDOW_SECS", OfferTimes::WINDOW_SECS)?,
                parsed_or("SCHEDULE_LEAD_SECS", OfferTimes::SCHEDULE_LEAD_SECS)?,
            ),
            cursor_key: CursorKey::from_base64(&weelo_aws::required("CURSOR_KEY")?)
                .map_err(|problem| anyhow::anyhow!("CURSOR_KEY {problem}"))?,
        })
    }
}
