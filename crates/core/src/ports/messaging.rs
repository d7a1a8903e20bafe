//! What leaves the store: events to the stream, pushes to phones, and the log that keeps a push
//! from being sent twice.

use super::*;

/// The right to push one (notification, device) pair, held by one delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushClaim {
    pub key: String,
    /// Who holds it: a fresh id per claim.
    pub claim_id: String,
}

/// What [`PushLog::claim_push`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// This delivery holds the push now: send it, then confirm it.
    Claimed(PushClaim),
    /// It was pushed before (a duplicate delivery).
    Sent,
    /// Another delivery claimed it at `since` and has not confirmed it.
    Held { since: DateTime<Utc> },
}

/// Remembers which (notification, device) pairs were pushed.
#[async_trait]
pub trait PushLog: Send + Sync {
    /// Claims the right to push `key`. A claim never confirmed and made before `take_over_before`
    /// is taken over: its delivery ended (it crashed or timed out) between claiming and
    /// confirming, and may not have pushed at all.
    async fn claim_push(&self, key: &str, take_over_before: DateTime<Utc>) -> Result<ClaimOutcome, StoreError>;
    /// Records that the claim's push was sent: from now on a redelivery pushes nothing.
    async fn confirm_push(&self, claim: &PushClaim) -> Result<(), StoreError>;
    /// Gives a claim back after a push failed transiently, so a retry pushes.
    async fn release_push(&self, claim: &PushClaim) -> Result<(), StoreError>;
}

#[derive(Debug, thiserror::Error)]
#[error("event publish failed: {0}")]
pub struct PublishError(pub String);

/// The event stream (Kafka). `publish` returns once every record is acknowledged by the broker.
#[async_trait]
pub trait EventBus: Send + Sync {
    async fn publish(&self, records: &[EventRecord]) -> Result<(), PublishError>;
}

/// Why a push to one device failed.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    /// The endpoint is disabled or its token invalid: the device is gone for good.
    #[error("endpoint disabled or token invalid: {0}")]
    EndpointGone(String),
    /// Throttling, timeouts, server errors: the same push may succeed later.
    #[error("transient push failure: {0}")]
    Transient(String),
    /// Anything else the push service refused (a bug of ours, e.g. a malformed payload).
    #[error("push rejected: {0}")]
    Rejected(String),
}

/// Sends one notification to one device endpoint (SNS mobile push → FCM). `id` is the
/// notification's: a push sent again under the same id replaces the first on the phone.
#[async_trait]
pub trait PushSender: Send + Sync {
    async fn send(
        &self, endpoint: &str, id: EventId, notification: &crate::contract::events::FcmNotification,
    ) -> Result<(), PushError>;
}

#[derive(Debug, thiserror::Error)]
pub enum PushRegistrationError {
    /// The push service refused the token itself.
    #[error("push token rejected: {0}")]
    InvalidToken(String),
    #[error("push service unavailable: {0}")]
    Unavailable(String),
}

/// Push endpoints (SNS platform endpoints for FCM).
#[async_trait]
pub trait PushRegistry: Send + Sync {
    /// Creates (or finds, for a token already known) the endpoint for `token`; returns its address.
    async fn register_endpoint(
        &self, platform: Platform, token: &str, owner: &UserId,
    ) -> Result<String, PushRegistrationError>;
    /// Deletes the endpoint at `endpoint_arn` (a logout); an endpoint already gone is no error.
    async fn delete_endpoint(&self, endpoint_arn: &str) -> Result<(), PushRegistrationError>;
}
