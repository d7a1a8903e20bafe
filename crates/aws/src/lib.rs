//! The AWS SDK configuration every function builds its clients from, once per cold start.
//!
//! The SDK sets no timeout on a call by default: a DynamoDB or SNS endpoint that accepts the
//! connection and never answers would hold the invocation until its Lambda timeout (30–60 s),
//! while the event-source mapping waits. With an attempt timeout the SDK gives up on that attempt
//! and retries it (standard retry mode, 3 attempts), and the operation timeout bounds the whole
//! call, after which the function fails the record and the mapping redelivers it. Every write the
//! functions make is idempotent, so an attempt that timed out after it was applied does no harm.
//!
//! `SDK_ATTEMPT_TIMEOUT_MS` (default 3000) and `SDK_OPERATION_TIMEOUT_MS` (default 10000) override
//! the two limits; everything else (region, credentials, endpoints) is the SDK's default chain.
//!
//! [`required`] and [`parsed_or`] are how every function reads its own settings from the
//! environment: once, at a cold start, into one typed value, naming the variable in the error.

use aws_config::timeout::TimeoutConfig;
use std::time::Duration;

pub use aws_config::SdkConfig;

/// A timeout setting that is not a whole number of milliseconds.
#[derive(Debug, thiserror::Error)]
#[error("environment variable {name} is invalid: {value:?} is not a whole number of milliseconds")]
pub struct InvalidTimeout {
    name: &'static str,
    value: String,
}

/// The two limits on every AWS call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    pub attempt: Duration,
    pub operation: Duration,
}

impl Timeouts {
    pub const DEFAULT: Self = Self { attempt: Duration::from_secs(3), operation: Duration::from_secs(10) };

    /// Reads `SDK_ATTEMPT_TIMEOUT_MS` and `SDK_OPERATION_TIMEOUT_MS` through `var`.
    pub fn parse(var: impl Fn(&str) -> Option<String>) -> Result<Self, InvalidTimeout> {
        let millis = |name: &'static str, default: Duration| match var(name) {
            None => Ok(default),
            Some(value) => match value.trim().parse::<u64>() {
                Ok(ms) if ms > 0 => Ok(Duration::from_millis(ms)),
                _ => Err(InvalidTimeout { name, value }),
            },
        };
        Ok(Self {
            attempt: millis("SDK_ATTEMPT_TIMEOUT_MS", Self::DEFAULT.attempt)?,
            operation: millis("SDK_OPERATION_TIMEOUT_MS", Self::DEFAULT.operation)?,
        })
    }

    fn config(self) -> TimeoutConfig {
        TimeoutConfig::builder()
            .connect_timeout(self.attempt.min(Duration::from_secs(3)))
            .operation_attempt_timeout(self.attempt)
            .operation_timeout(self.operation)
            .build()
    }
}

impl Timeouts {
    /// `SDK_ATTEMPT_TIMEOUT_MS` and `SDK_OPERATION_TIMEOUT_MS` of the environment.
    pub fn from_env() -> Result<Self, InvalidTimeout> {
        Self::parse(|name| std::env::var(name).ok())
    }
}

/// The default AWS configuration with these timeouts.
pub async fn sdk_config(timeouts: Timeouts) -> SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest()).timeout_config(timeouts.config()).load().await
}

/// A setting that is missing or does not parse, by the name of its environment variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingError {
    #[error("environment variable {0} is not set")]
    Missing(String),
    #[error("environment variable {name} is invalid: {value:?} {expected}")]
    Invalid { name: String, value: String, expected: String },
}

/// The value of environment variable `name`, which must be set.
pub fn required(name: &str) -> Result<String, SettingError> {
    std::env::var(name).map_err(|_| SettingError::Missing(name.to_owned()))
}

/// Environment variable `name` parsed as a `T` (a number, an H3 grid…), `default` when it is
/// unset; a value that does not parse is an error, never a silent fallback to the default.
pub fn parsed_or<T: std::str::FromStr>(name: &str, default: T) -> Result<T, SettingError> {
    parse(name, std::env::var(name).ok(), default)
}

fn parse<T: std::str::FromStr>(name: &str, value: Option<String>, default: T) -> Result<T, SettingError> {
    match value {
        None => Ok(default),
        Some(text) => text.trim().parse().map_err(|_| {
            let type_name = std::any::type_name::<T>().rsplit("::").next().unwrap_or_default();
            SettingError::Invalid {
                name: name.to_owned(),
                value: text,
                expected: format!("does not parse as {type_name}"),
            }
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |name| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    #[test]
    fn without_settings_the_defaults_apply() {
        assert_eq!(Timeouts::parse(env(&[])).unwrap(), Timeouts::DEFAULT);
    }

    #[test]
    fn settings_override_each_limit() {
        let timeouts =
            Timeouts::parse(env(&[("SDK_ATTEMPT_TIMEOUT_MS", "750"), ("SDK_OPERATION_TIMEOUT_MS", "4000")])).unwrap();
        assert_eq!(timeouts, Timeouts { attempt: Duration::from_millis(750), operation: Duration::from_secs(4) });
    }

    #[test]
    fn a_setting_that_is_not_a_positive_number_is_refused_by_name() {
        for bad in ["", "3s", "-1", "0"] {
            let error = Timeouts::parse(env(&[("SDK_OPERATION_TIMEOUT_MS", bad)])).unwrap_err();
            assert!(error.to_string().contains("SDK_OPERATION_TIMEOUT_MS"), "{error}");
        }
    }

    #[test]
    fn a_number_setting_that_does_not_parse_is_refused_by_name_not_replaced_by_its_default() {
        assert_eq!(parse("OUTBOX_RELAY_GRACE_SECS", None, 10i64), Ok(10));
        assert_eq!(parse("OUTBOX_RELAY_GRACE_SECS", Some(" 30".into()), 10i64), Ok(30));
        let error = parse("OUTBOX_RELAY_GRACE_SECS", Some("ten".into()), 10i64).unwrap_err();
        assert_eq!(
            error.to_string(),
            "environment variable OUTBOX_RELAY_GRACE_SECS is invalid: \"ten\" does not parse as i64"
        );
    }

    #[test]
    fn the_sdk_configuration_carries_the_timeouts() {
        let timeouts = Timeouts::parse(env(&[("SDK_ATTEMPT_TIMEOUT_MS", "1234")])).unwrap().config();
        assert_eq!(timeouts.operation_attempt_timeout(), Some(Duration::from_millis(1234)));
        assert_eq!(timeouts.operation_timeout(), Some(Duration::from_secs(10)));
        assert_eq!(timeouts.connect_timeout(), Some(Duration::from_millis(1234)));
    }
}
