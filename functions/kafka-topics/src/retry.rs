//! Waiting out MSK IAM's eventual consistency. On a first `terraform apply` the function runs moments
//! after its role's policy is attached, and MSK refuses the role (SASL authentication failed, or
//! TOPIC/CLUSTER/GROUP_AUTHORIZATION_FAILED) until the policy has propagated. Such a refusal
//! ([`weelo_kafka::AccessDenied`]) is tried again with backoff within a budget; any other failure
//! (an invalid definition, a shrink, the broker unreachable) fails the invocation at once.

use std::future::Future;
use std::time::{Duration, Instant};
use weelo_kafka::AccessDenied;

/// How long access refusals are tried again, and how far apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// No attempt starts once this much time has gone since the first (0: a refusal fails at once).
    pub budget: Duration,
    /// The wait after the first refusal; it doubles after each one, up to `max_delay`.
    pub first_delay: Duration,
    pub max_delay: Duration,
}

impl RetryPolicy {
    /// One minute covers IAM's usual propagation delay and, with an attempt's own 30 s timeout,
    /// stays within the function's 120 s timeout (`infra/definitions/functions.json`).
    pub const DEFAULT_BUDGET: Duration = Duration::from_secs(60);

    /// Waits of 1, 2, 4, 8, then 10 s, within `budget`.
    pub fn within(budget: Duration) -> Self {
        Self { budget, first_delay: Duration::from_secs(1), max_delay: Duration::from_secs(10) }
    }
}

/// Time as the retry loop sees it, so tests can run it without waiting.
pub trait Clock {
    /// Time gone since the clock was made.
    fn elapsed(&self) -> Duration;
    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> + Send;
}

/// The real clock: Tokio's sleep, elapsed time since [`TokioClock::start`].
pub struct TokioClock(Instant);

impl TokioClock {
    pub fn start() -> Self {
        Self(Instant::now())
    }
}

impl Clock for TokioClock {
    fn elapsed(&self) -> Duration {
        self.0.elapsed()
    }

    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> + Send {
        tokio::time::sleep(duration)
    }
}

/// Why the topics could not be made to match their definitions.
#[derive(Debug, thiserror::Error)]
pub enum TopicsError {
    #[error("no topics given: invoke with the content of infra/definitions/topics.json")]
    NoTopics,
    /// Refused on every attempt within the budget: the policy has still not propagated, or it
    /// lacks a permission the call needs.
    #[error(
        "Kafka still refused access after {attempts} attempts over {} s (is the role's MSK IAM policy attached, and does it grant this call?): {last}",
        waited.as_secs()
    )]
    StillDenied { attempts: u32, waited: Duration, last: String },
    /// Any other failure, with its whole chain of causes.
    #[error("{0}")]
    Failed(String),
}

/// Runs `attempt` until it succeeds, fails with anything but [`AccessDenied`], or is refused
/// access once more when the next wait would end past the policy's budget.
pub async fn retry_access_denied<T, F, Fut, C>(
    policy: &RetryPolicy, clock: &C, mut attempt: F,
) -> Result<T, TopicsError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<T>>,
    C: Clock,
{
    let start = clock.elapsed();
    let mut delay = policy.first_delay;
    let mut attempts = 0;
    loop {
        attempts += 1;
        let error = match attempt().await {
            Ok(value) => return Ok(value),
            Err(error) => error,
        };
        let Some(denied) = error.downcast_ref::<AccessDenied>() else {
            return Err(TopicsError::Failed(format!("{error:#}")));
        };
        let waited = clock.elapsed().saturating_sub(start);
        if waited + delay > policy.budget {
            return Err(TopicsError::StillDenied { attempts, waited, last: denied.to_string() });
        }
        tracing::warn!(attempts, code = %denied.code, ?delay, "Kafka refused access; trying again (IAM may still be propagating)");
        metrics::counter!(weelo_telemetry::ACCESS_RETRIED).increment(1);
        clock.sleep(delay).await;
        delay = (delay * 2).min(policy.max_delay);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdkafka::types::RDKafkaErrorCode;
    use std::sync::Mutex;

    /// A clock that jumps by each sleep instead of waiting, and notes the sleeps.
    #[derive(Default)]
    struct FakeClock {
        now: Mutex<Duration>,
        sleeps: Mutex<Vec<Duration>>,
    }

    impl FakeClock {
        fn advance(&self, by: Duration) {
            *self.now.lock().unwrap() += by;
        }
    }

    impl Clock for FakeClock {
        fn elapsed(&self) -> Duration {
            *self.now.lock().unwrap()
        }

        fn sleep(&self, duration: Duration) -> impl Future<Output = ()> + Send {
            self.advance(duration);
            self.sleeps.lock().unwrap().push(duration);
            std::future::ready(())
        }
    }

    fn denied() -> anyhow::Error {
        anyhow::Error::new(AccessDenied {
            code: RDKafkaErrorCode::TopicAuthorizationFailed,
            detail: "listing the cluster's topics: Broker: Topic authorization failed".into(),
        })
    }

    fn secs(seconds: u64) -> Duration {
        Duration::from_secs(seconds)
    }

    #[tokio::test]
    async fn refusals_are_tried_again_with_growing_waits_until_access_is_granted() {
        // GIVEN a cluster that refuses access three times, then answers
        let clock = FakeClock::default();
        let calls = Mutex::new(0);
        // WHEN the call is run under the default policy
        let result = retry_access_denied(&RetryPolicy::within(RetryPolicy::DEFAULT_BUDGET), &clock, || {
            *calls.lock().unwrap() += 1;
            let n = *calls.lock().unwrap();
            async move { if n <= 3 { Err(denied()) } else { Ok(n) } }
        })
        .await;
        // THEN it succeeds on the fourth attempt, after waits of 1, 2 and 4 s
        assert_eq!(result.unwrap(), 4);
        assert_eq!(*clock.sleeps.lock().unwrap(), [secs(1), secs(2), secs(4)]);
    }

    #[tokio::test]
    async fn refusals_past_the_budget_give_up_with_a_clear_error() {
        // GIVEN a cluster that always refuses access
        let clock = FakeClock::default();
        let calls = Mutex::new(0u32);
        // WHEN the call is run with a one-minute budget
        let result = retry_access_denied(&RetryPolicy::within(secs(60)), &clock, || {
            *calls.lock().unwrap() += 1;
            async { Err::<(), _>(denied()) }
        })
        .await;
        // THEN it gives up without waiting past the budget, saying how often it tried and why
        let waits = clock.sleeps.lock().unwrap().clone();
        assert_eq!(waits, [1, 2, 4, 8, 10, 10, 10, 10].map(secs));
        let error = result.unwrap_err();
        assert!(
            matches!(&error, TopicsError::StillDenied { attempts: 9, waited, .. } if *waited == secs(55)),
            "{error:?}"
        );
        assert_eq!(*calls.lock().unwrap(), 9);
        let message = error.to_string();
        assert!(message.contains("after 9 attempts over 55 s"), "{message}");
        assert!(message.contains("Topic authorization failed"), "{message}");
    }

    #[tokio::test]
    async fn slow_attempts_count_against_the_budget() {
        // GIVEN a cluster whose refusals each take 30 s to arrive (the SASL failure seen as a timeout)
        let clock = FakeClock::default();
        // WHEN the call is run with a one-minute budget
        let result = retry_access_denied(&RetryPolicy::within(secs(60)), &clock, || {
            clock.advance(secs(30));
            async { Err::<(), _>(denied()) }
        })
        .await;
        // THEN it stops once the next wait would end past the minute: two attempts, one wait
        assert!(matches!(result, Err(TopicsError::StillDenied { attempts: 2, .. })), "{result:?}");
        assert_eq!(*clock.sleeps.lock().unwrap(), [secs(1)]);
    }

    #[tokio::test]
    async fn any_other_failure_fails_at_once_with_its_causes() {
        // GIVEN a call that fails for a reason waiting cannot fix
        let clock = FakeClock::default();
        // WHEN it is run
        let result = retry_access_denied(&RetryPolicy::within(secs(60)), &clock, || async {
            Err::<(), _>(anyhow::anyhow!("defined with 2 partitions, has 3").context("Kafka cannot remove partitions"))
        })
        .await;
        // THEN it is not tried again, and the message keeps the whole chain
        assert!(clock.sleeps.lock().unwrap().is_empty());
        let message = result.unwrap_err().to_string();
        assert_eq!(message, "Kafka cannot remove partitions: defined with 2 partitions, has 3");
    }

    #[tokio::test]
    async fn a_zero_budget_fails_on_the_first_refusal() {
        // GIVEN retries switched off  WHEN the cluster refuses access
        let clock = FakeClock::default();
        let result =
            retry_access_denied(&RetryPolicy::within(Duration::ZERO), &clock, || async { Err::<(), _>(denied()) })
                .await;
        // THEN the first refusal is final
        assert!(matches!(result, Err(TopicsError::StillDenied { attempts: 1, .. })), "{result:?}");
        assert!(clock.sleeps.lock().unwrap().is_empty());
    }
}
