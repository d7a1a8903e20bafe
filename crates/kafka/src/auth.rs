//! The rdkafka client context: routes librdkafka's logs to `tracing`, notes failed SASL
//! authentications ([`AuthenticationFailures`]) and, for Amazon MSK, answers its OAUTHBEARER token
//! refreshes with SigV4-signed tokens (aws-msk-iam-sasl-signer).

use crate::access::AuthenticationFailures;
use crate::{KafkaAuth, KafkaConfig};
use aws_config::Region;
use aws_config::SdkConfig;
use rdkafka::ClientContext;
use rdkafka::client::OAuthToken;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::ConsumerContext;
use rdkafka::error::KafkaError;
use rdkafka::producer::ProducerContext;
use std::error::Error;
use std::time::Duration;

/// Signs MSK tokens with the function's credentials; built once per cold start.
#[derive(Clone)]
struct MskIamSigner {
    region: Region,
    sdk: SdkConfig,
    runtime: tokio::runtime::Handle,
}

#[derive(Clone, Default)]
pub struct KafkaContext {
    signer: Option<MskIamSigner>,
    authentication: AuthenticationFailures,
}

impl KafkaContext {
    /// For IAM auth this loads the default AWS credential chain; call it inside the Tokio runtime.
    pub async fn for_config(config: &KafkaConfig) -> Self {
        match &config.auth {
            KafkaAuth::None => Self::default(),
            KafkaAuth::AwsMskIam { region } => {
                let region = Region::new(region.clone());
                let sdk =
                    aws_config::defaults(aws_config::BehaviorVersion::latest()).region(region.clone()).load().await;
                let signer = MskIamSigner { region, sdk, runtime: tokio::runtime::Handle::current() };
                Self { signer: Some(signer), authentication: AuthenticationFailures::default() }
            }
        }
    }

    /// The flag raised when a client made with this context fails its SASL authentication.
    pub fn authentication_failures(&self) -> AuthenticationFailures {
        self.authentication.clone()
    }
}

impl ClientContext for KafkaContext {
    const ENABLE_REFRESH_OAUTH_TOKEN: bool = true;

    fn log(&self, level: RDKafkaLogLevel, fac: &str, log_message: &str) {
        match level {
            RDKafkaLogLevel::Emerg | RDKafkaLogLevel::Alert | RDKafkaLogLevel::Critical | RDKafkaLogLevel::Error => {
                tracing::error!(target: "librdkafka", facility = fac, "{log_message}")
            }
            RDKafkaLogLevel::Warning => {
                tracing::warn!(target: "librdkafka", facility = fac, "{log_message}")
            }
            _ => tracing::debug!(target: "librdkafka", facility = fac, "{log_message}"),
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        self.authentication.observe(&error);
        tracing::error!(target: "librdkafka", "{error}: {reason}");
    }

    fn generate_oauth_token(&self, _config: Option<&str>) -> Result<OAuthToken, Box<dyn Error>> {
        let signer = self.signer.clone().ok_or("OAUTHBEARER requested but KAFKA_AUTH is not aws-msk-iam")?;
        let provider = signer.sdk.credentials_provider().ok_or("no AWS credentials provider")?;
        // librdkafka calls this on its own thread; the signer is async, so run it on the runtime
        // from a helper thread (block_on must not run on a runtime worker).
        let (token, lifetime_ms) = std::thread::spawn(move || {
            signer.runtime.block_on(async {
                tokio::time::timeout(
                    Duration::from_secs(10),
                    aws_msk_iam_sasl_signer::generate_auth_token_from_credentials_provider(signer.region, provider),
                )
                .await
            })
        })
        .join()
        .map_err(|_| "MSK token signer panicked")?
        .map_err(|_| "MSK token signing timed out")?
        .map_err(|e| format!("MSK token signing failed: {e}"))?;
        Ok(OAuthToken { token, principal_name: String::new(), lifetime_ms })
    }
}

impl ProducerContext for KafkaContext {
    type DeliveryOpaque = ();
    fn delivery(&self, _result: &rdkafka::message::DeliveryResult<'_>, _opaque: Self::DeliveryOpaque) {}
}

impl ConsumerContext for KafkaContext {}
