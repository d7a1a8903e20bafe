//! SNS adapter: FCM push endpoints (SNS mobile push platform endpoints) for registered devices.

use async_trait::async_trait;
use aws_sdk_sns::Client;
use aws_sdk_sns::error::{ProvideErrorMetadata, SdkError};
use weelo_core::contract::events::FcmNotification;
use weelo_core::model::device::Platform;
use weelo_core::model::ids::{EventId, UserId};
use weelo_core::ports::{PushError, PushRegistrationError, PushRegistry, PushSender};

/// Registers device tokens with the FCM platform application (`SNS_PLATFORM_APPLICATION_ARN`).
/// Android and iOS apps both receive pushes through FCM, so both use the one application.
#[derive(Clone, Debug)]
pub struct SnsPushRegistry {
    client: Client,
    platform_application_arn: String,
}

impl SnsPushRegistry {
    pub fn new(client: Client, platform_application_arn: String) -> Self {
        Self { client, platform_application_arn }
    }
}

#[async_trait]
impl PushRegistry for SnsPushRegistry {
    async fn register_endpoint(
        &self, _platform: Platform, token: &str, _owner: &UserId,
    ) -> Result<String, PushRegistrationError> {
        // No CustomUserData on purpose: CreatePlatformEndpoint is idempotent only for identical
        // attributes, and a phone that changes hands keeps its token.
        let result = self
            .client
            .create_platform_endpoint()
            .platform_application_arn(&self.platform_application_arn)
            .token(token)
            .send()
            .await;
        match result {
            Ok(output) => output
                .endpoint_arn
                .ok_or_else(|| PushRegistrationError::Unavailable("SNS returned no endpoint ARN".into())),
            Err(SdkError::ServiceError(error)) if error.err().code() == Some("InvalidParameter") => {
                Err(PushRegistrationError::InvalidToken(error.err().message().unwrap_or_default().to_owned()))
            }
            Err(error) => Err(PushRegistrationError::Unavailable(error.to_string())),
        }
    }

    async fn delete_endpoint(&self, endpoint_arn: &str) -> Result<(), PushRegistrationError> {
        // DeleteEndpoint succeeds for an endpoint already deleted, so a retried logout is fine.
        match self.client.delete_endpoint().endpoint_arn(endpoint_arn).send().await {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(error)) if error.err().code() == Some("NotFound") => Ok(()),
            Err(error) => Err(PushRegistrationError::Unavailable(error.to_string())),
        }
    }
}

/// Publishes notifications to device endpoints as FCM HTTP v1 messages.
#[derive(Clone, Debug)]
pub struct SnsPushSender {
    client: Client,
}

impl SnsPushSender {
    pub fn new(client: Client) -> Self {
        Self { client }
    }
}

/// The SNS message for an FCM HTTP v1 push: `{"GCM": "{\"fcmV1Message\": {\"message\": …}}"}`,
/// sent with `MessageStructure=json`. Android gets high priority: a booking offer is time-critical.
/// A data-only notification (a withdrawn offer) carries no `notification` block: the app drops the
/// offer without the phone showing anything (on iOS, a background push).
/// The notification's id is its collapse key (Android: `collapse_key` and the notification's
/// `tag`; iOS: `apns-collapse-id`), so a push sent again after a crash replaces the first on the
/// phone instead of showing twice.
pub fn fcm_message(id: EventId, notification: &FcmNotification) -> String {
    let id = id.to_string();
    let message = if notification.data_only {
        // A data message: the phone shows nothing, the app reads `data` (and may be woken for it).
        serde_json::json!({
            "data": notification.data,
            "android": { "priority": "high", "collapse_key": id },
            "apns": {
                "headers": { "apns-priority": "5", "apns-push-type": "background", "apns-collapse-id": id },
                "payload": { "aps": { "content-available": 1 } }
            }
        })
    } else {
        serde_json::json!({
            "notification": { "title": notification.title, "body": notification.body },
            "data": notification.data,
            "android": { "priority": "high", "collapse_key": id, "notification": { "tag": id } },
            "apns": { "headers": { "apns-priority": "10", "apns-collapse-id": id } }
        })
    };
    let message = serde_json::json!({ "fcmV1Message": { "message": message } });
    serde_json::json!({ "GCM": message.to_string() }).to_string()
}

#[async_trait]
impl PushSender for SnsPushSender {
    async fn send(&self, endpoint: &str, id: EventId, notification: &FcmNotification) -> Result<(), PushError> {
        let started = std::time::Instant::now();
        let result = self
            .client
            .publish()
            .target_arn(endpoint)
            .message_structure("json")
            .message(fcm_message(id, notification))
            .send()
            .await;
        weelo_telemetry::record_latency(weelo_telemetry::PUSH_LATENCY, started.elapsed().as_secs_f64() * 1000.0);
        let counter = if result.is_ok() { weelo_telemetry::PUSHED } else { weelo_telemetry::PUSH_FAILED };
        metrics::counter!(counter).increment(1);
        match result {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(error)) => {
                let reason = error.err().message().unwrap_or_default().to_owned();
                match error.err().code() {
                    Some("EndpointDisabled" | "NotFound") => Err(PushError::EndpointGone(reason)),
                    Some("Throttled" | "InternalError" | "KMSThrottling" | "ServiceUnavailable") => {
                        Err(PushError::Transient(reason))
                    }
                    _ => Err(PushError::Rejected(reason)),
                }
            }
            Err(error) => Err(PushError::Transient(error.to_string())),
        }
    }
}
