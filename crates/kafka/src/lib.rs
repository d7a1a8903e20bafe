//! Kafka adapter (rdkafka/librdkafka): the event-bus producer, topic administration, and a reader
//! for tools and tests. The same code talks to a local plaintext broker and to Amazon MSK with IAM
//! authentication; which one is a matter of configuration ([`KafkaConfig::from_env`]).

mod access;
mod admin;
mod auth;
mod bus;
pub mod lag;
mod reader;
mod topic_config;

pub use access::{ACCESS_DENIED_CODES, AccessDenied, AuthenticationFailures};
pub use admin::{TopicChanges, ensure_topics};
pub use auth::KafkaContext;
pub use bus::KafkaEventBus;
pub use reader::{consumed, read_records};
pub use weelo_definitions::TopicDefinition;

use rdkafka::ClientConfig;
use std::env;
use std::time::Duration;

/// How clients authenticate to the brokers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KafkaAuth {
    /// Plaintext, no authentication: the local broker.
    None,
    /// TLS + SASL/OAUTHBEARER with a SigV4-signed token from the function's IAM role: Amazon MSK.
    AwsMskIam { region: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KafkaConfig {
    pub bootstrap_servers: String,
    pub auth: KafkaAuth,
    /// How long a publish may take before it fails (librdkafka `message.timeout.ms`). After that the
    /// record is dropped by the client, never sent late, so the outbox relay's copy is the only one.
    pub publish_timeout: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is not set")]
    Missing(&'static str),
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

impl KafkaConfig {
    /// `KAFKA_BOOTSTRAP_SERVERS` (required), `KAFKA_AUTH` (`none` | `aws-msk-iam`, default `none`),
    /// `KAFKA_PUBLISH_TIMEOUT_MS` (default 2000), and `AWS_REGION` for IAM.
    pub fn from_env() -> Result<Self, ConfigError> {
        let bootstrap_servers =
            env::var("KAFKA_BOOTSTRAP_SERVERS").map_err(|_| ConfigError::Missing("KAFKA_BOOTSTRAP_SERVERS"))?;
        let auth = match env::var("KAFKA_AUTH").as_deref().unwrap_or("none") {
            "none" => KafkaAuth::None,
            "aws-msk-iam" => {
                KafkaAuth::AwsMskIam { region: env::var("AWS_REGION").map_err(|_| ConfigError::Missing("AWS_REGION"))? }
            }
            other => {
                return Err(ConfigError::Invalid {
                    name: "KAFKA_AUTH",
                    reason: format!("{other:?} is not none or aws-msk-iam"),
                });
            }
        };
        let publish_timeout = match env::var("KAFKA_PUBLISH_TIMEOUT_MS") {
            Ok(text) => Duration::from_millis(text.parse().map_err(|_| ConfigError::Invalid {
                name: "KAFKA_PUBLISH_TIMEOUT_MS",
                reason: "not a whole number".into(),
            })?),
            Err(_) => Duration::from_secs(2),
        };
        Ok(Self { bootstrap_servers, auth, publish_timeout })
    }

    /// The librdkafka settings shared by every client of ours.
    pub fn client_config(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", &self.bootstrap_servers);
        // Lambda environments are short-lived; fail fast on a dead broker rather than hang.
        config.set("socket.connection.setup.timeout.ms", "5000");
        match &self.auth {
            KafkaAuth::None => {
                config.set("security.protocol", "plaintext");
            }
            KafkaAuth::AwsMskIam { .. } => {
                config.set("security.protocol", "SASL_SSL");
                config.set("sasl.mechanism", "OAUTHBEARER");
            }
        }
        config
    }
}
