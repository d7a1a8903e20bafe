//! Telling a cluster that refuses this client's identity or permissions apart from any other
//! failure of an admin call: right after an IAM policy is attached to a role, Amazon MSK keeps
//! answering that role's calls this way until the policy has propagated (eventual consistency),
//! so a caller may want to wait and try again on these and on nothing else.
//!
//! The cluster says so in two ways. A permission missing on a topic, the cluster or a group comes
//! back as the request's error code. A failed SASL authentication never reaches the request:
//! librdkafka reports it to the client's error callback and keeps reconnecting, and the request
//! then times out; [`AuthenticationFailures`] is the flag that callback raises.

use rdkafka::error::KafkaError;
use rdkafka::types::RDKafkaErrorCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// The codes with which a cluster refuses a client's identity (SASL) or permissions (ACLs, or
/// MSK's IAM policies).
pub const ACCESS_DENIED_CODES: [RDKafkaErrorCode; 5] = [
    RDKafkaErrorCode::Authentication,
    RDKafkaErrorCode::SaslAuthenticationFailed,
    RDKafkaErrorCode::TopicAuthorizationFailed,
    RDKafkaErrorCode::GroupAuthorizationFailed,
    RDKafkaErrorCode::ClusterAuthorizationFailed,
];

/// An admin call failed because the cluster refused this client's identity or permissions.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Kafka refused access ({code}): {detail}")]
pub struct AccessDenied {
    /// The refusal's code: one of [`ACCESS_DENIED_CODES`].
    pub code: RDKafkaErrorCode,
    /// The failure's whole chain of causes.
    pub detail: String,
}

impl AccessDenied {
    /// `error` as an [`AccessDenied`] when one of its causes carries a refusal code, or when the
    /// client saw its SASL authentication fail (`authentication_failed`) while making the call;
    /// otherwise `error` unchanged.
    pub fn classify(error: anyhow::Error, authentication_failed: bool) -> anyhow::Error {
        let code = error
            .chain()
            .filter_map(|cause| code_of(cause.downcast_ref::<KafkaError>()?))
            .find(|code| ACCESS_DENIED_CODES.contains(code))
            .or(authentication_failed.then_some(RDKafkaErrorCode::Authentication));
        match code {
            Some(code) => anyhow::Error::new(Self { code, detail: format!("{error:#}") }),
            None => error,
        }
    }
}

/// The code `error` carries (rdkafka's own accessor leaves out an admin operation's).
fn code_of(error: &KafkaError) -> Option<RDKafkaErrorCode> {
    match error {
        KafkaError::AdminOp(code) => Some(*code),
        other => other.rdkafka_error_code(),
    }
}

/// Raised by the client context when librdkafka reports a failed SASL authentication; shared by
/// the context's clones.
#[derive(Debug, Clone, Default)]
pub struct AuthenticationFailures(Arc<AtomicBool>);

impl AuthenticationFailures {
    /// Notes `error` if it is a failed authentication.
    pub fn observe(&self, error: &KafkaError) {
        if error.rdkafka_error_code() == Some(RDKafkaErrorCode::Authentication) {
            self.0.store(true, Ordering::Relaxed);
        }
    }

    /// Whether an authentication failed since the client was made.
    pub fn seen(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    fn failed_with(error: KafkaError) -> anyhow::Error {
        Err::<(), _>(error).context("listing the cluster's topics").unwrap_err()
    }

    #[test]
    fn every_authorization_refusal_of_a_request_is_access_denied() {
        for code in [
            RDKafkaErrorCode::TopicAuthorizationFailed,
            RDKafkaErrorCode::ClusterAuthorizationFailed,
            RDKafkaErrorCode::GroupAuthorizationFailed,
            RDKafkaErrorCode::SaslAuthenticationFailed,
        ] {
            // GIVEN an admin call that failed with the refusal, under a context
            let error = failed_with(KafkaError::AdminOp(code));
            // WHEN it is classified
            let classified = AccessDenied::classify(error, false);
            // THEN it is access denied with that code, and its message keeps the context
            let denied = classified.downcast_ref::<AccessDenied>().expect("access denied");
            assert_eq!(denied.code, code);
            assert!(denied.detail.starts_with("listing the cluster's topics: "), "{}", denied.detail);
        }
    }

    #[test]
    fn a_timeout_is_access_denied_only_when_the_client_saw_its_authentication_fail() {
        // GIVEN a metadata request that timed out
        let timeout = || failed_with(KafkaError::MetadataFetch(RDKafkaErrorCode::OperationTimedOut));
        // WHEN it is classified with and without a failed SASL authentication meanwhile
        let after_sasl_failure = AccessDenied::classify(timeout(), true);
        let plain = AccessDenied::classify(timeout(), false);
        // THEN only the first is access denied
        assert_eq!(
            after_sasl_failure.downcast_ref::<AccessDenied>().map(|d| d.code),
            Some(RDKafkaErrorCode::Authentication)
        );
        assert!(plain.downcast_ref::<AccessDenied>().is_none(), "{plain:#}");
    }

    #[test]
    fn other_failures_are_left_as_they_are() {
        // GIVEN failures that no waiting will fix: an invalid configuration, a refused shrink
        let invalid = failed_with(KafkaError::AdminOp(RDKafkaErrorCode::InvalidConfig));
        let refused = anyhow::anyhow!("Kafka cannot remove partitions, so nothing was changed");
        // WHEN classified  THEN neither is access denied, and each message is unchanged
        for error in [invalid, refused] {
            let before = format!("{error:#}");
            let classified = AccessDenied::classify(error, false);
            assert!(classified.downcast_ref::<AccessDenied>().is_none());
            assert_eq!(format!("{classified:#}"), before);
        }
    }

    #[test]
    fn only_a_failed_authentication_raises_the_flag() {
        // GIVEN a fresh flag shared by two clones of a context
        let flag = AuthenticationFailures::default();
        let clone = flag.clone();
        // WHEN the client reports a broker gone down, then a failed authentication
        clone.observe(&KafkaError::Global(RDKafkaErrorCode::AllBrokersDown));
        let before = flag.seen();
        clone.observe(&KafkaError::Global(RDKafkaErrorCode::Authentication));
        // THEN only the second raised it, and every clone sees it
        assert!(!before);
        assert!(flag.seen());
    }
}
