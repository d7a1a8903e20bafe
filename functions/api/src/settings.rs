//! The api's settings: read once from the environment at a cold start, each missing or invalid
//! variable named in the error (see the README's configuration table).

use weelo_auth::VerifierConfig;
use weelo_aws::Timeouts;
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
}

impl Settings {
    pub fn from_env() -> anyhow::Result<Self> {
        Ok(Self {
            sdk: Timeouts::from_env()?,
            tables: Tables::from_env()?,
            kafka: KafkaConfig::from_env()?,
            platform_application_arn: weelo_aws::required("SNS_PLATFORM_APPLICATION_ARN")?,
            jwt: VerifierConfig::from_env()?,
        })
    }
}
