//! When the recorder's metrics become EMF lines: after every invocation (the default), or, for a
//! function that answers many small requests (gps-ingest: a line a request was 90 % of the
//! CloudWatch Logs bill at the seed's load, `docs/COSTS.md`), at most once per interval.
//!
//! Held back, nothing is counted twice: counters are deltas summed until the next line, and a
//! latency histogram writes its line early at [`crate::EARLY_FLUSH_AT`] samples, as it always did.
//! What an execution environment holds when Lambda ends it is written on its SIGTERM:
//! `lambda_runtime`'s graceful-shutdown handler registers the no-op internal extension Lambda
//! sends that signal to; and when the runtime itself gives up. An environment frozen between
//! invocations writes what it holds at its next invocation or at its end, stamped with that time,
//! so a quiet function's counts can reach CloudWatch much later than they happened. What an
//! environment held is lost only when it dies without a SIGTERM (out of memory, a crash, a
//! timeout's reset): at most 10 s or 63 requests of counts, where one line a request lost only
//! the failed invocation's.

use crate::env::{InvalidVar, var_or_default};
use lambda_runtime::{LambdaInvocation, tower};
use metrics_cloudwatch_embedded::Collector;
use std::future::Future;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Once, OnceLock};
use std::time::{Duration, Instant};

/// The variable that chooses the [`Flush`]: whole seconds, `0` (or unset) for every invocation.
pub const FLUSH_VAR: &str = "METRICS_FLUSH_SECONDS";

/// The longest interval: CloudWatch's standard metrics are per minute, and the alarms read
/// periods of one minute and more.
pub const MAX_FLUSH_SECONDS: u64 = 60;

/// What a [`FLUSH_VAR`] must be (60 is [`MAX_FLUSH_SECONDS`]).
const EXPECTED_FLUSH: &str = "is not a whole number of seconds from 0 to 60";

/// The property naming the invocation a per-invocation line belongs to.
const REQUEST_ID: &str = "RequestId";
/// The counter written once, at an environment's first invocation.
const COLD_START: &str = "ColdStart";

/// When the metrics recorded so far are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Flush {
    /// After every invocation, with its request id.
    #[default]
    EachInvocation,
    /// After an invocation that ends at least this long after the last line was written; and
    /// at the environment's end.
    AtMostEvery(Duration),
}

impl FromStr for Flush {
    type Err = InvalidVar;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().parse::<u64>() {
            Ok(0) => Ok(Self::EachInvocation),
            Ok(seconds) if seconds <= MAX_FLUSH_SECONDS => Ok(Self::AtMostEvery(Duration::from_secs(seconds))),
            _ => Err(InvalidVar { var: FLUSH_VAR, value: text.to_owned(), expected: EXPECTED_FLUSH }),
        }
    }
}

impl Flush {
    /// The flush of the environment: [`FLUSH_VAR`], or every invocation when it is not set.
    pub fn from_env() -> Result<Self, InvalidVar> {
        var_or_default("METRICS_FLUSH_SECONDS")
    }

    /// Whether an invocation that ends `since_last_line` after the last line was written writes
    /// the metrics now.
    pub fn due(self, since_last_line: Duration) -> bool {
        match self {
            Self::EachInvocation => true,
            Self::AtMostEvery(interval) => since_last_line >= interval,
        }
    }
}

/// The flush `init` read, the recorder it installed, and when a line was last written
/// (milliseconds since [`STARTED`]).
pub(crate) static FLUSH: OnceLock<Flush> = OnceLock::new();
pub(crate) static COLLECTOR: OnceLock<&'static Collector> = OnceLock::new();
static STARTED: OnceLock<Instant> = OnceLock::new();
static LAST_LINE_MS: AtomicU64 = AtomicU64::new(0);

fn elapsed_ms() -> u64 {
    u64::try_from(STARTED.get_or_init(Instant::now).elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Writes what the recorder holds to stdout, through one `print!` (one locked write of whole
/// lines, which Lambda ships as they are), and notes when.
pub(crate) fn write_now() {
    LAST_LINE_MS.store(elapsed_ms(), Ordering::Relaxed);
    crate::samples_written();
    if let Some(collector) = COLLECTOR.get() {
        let mut document = Vec::new();
        if collector.flush(&mut document).is_ok() && !document.is_empty() {
            print!("{}", String::from_utf8_lossy(&document));
        }
    }
}

fn since_last_line() -> Duration {
    Duration::from_millis(elapsed_ms().saturating_sub(LAST_LINE_MS.load(Ordering::Relaxed)))
}

/// Refuses to run a function whose `main` did not call [`crate::init`]: its metrics would all be
/// dropped, silently.
pub(crate) fn initialised() -> Result<(), lambda_runtime::Error> {
    match COLLECTOR.get() {
        Some(_) => Ok(()),
        None => Err("weelo_telemetry::init was not called before run: no metric would be written".into()),
    }
}

/// Runs `runtime` (a handler the Lambda runtime wraps) with its tracing, and the metrics written
/// as [`Flush`] says; an interval also installs the SIGTERM handler that writes what is held at
/// the end.
pub(crate) async fn run<S>(runtime: lambda_runtime::Runtime<S>) -> Result<(), lambda_runtime::Error>
where
    S: tower::Service<LambdaInvocation, Response = (), Error = lambda_runtime::Error>,
{
    let flush = FLUSH.get().copied().unwrap_or_default();
    if matches!(flush, Flush::AtMostEvery(_)) {
        lambda_runtime::spawn_graceful_shutdown_handler(|| async { write_now() }).await;
    }
    let ended = runtime.layer(lambda_runtime::layers::TracingLayer::new()).layer(FlushLayer { flush }).run().await;
    // The runtime gave up (its API failed it): what is held is written before the process exits.
    write_now();
    ended
}

/// Writes the metrics after an invocation when they are due.
#[derive(Clone, Copy)]
struct FlushLayer {
    flush: Flush,
}

impl<S> tower::Layer<S> for FlushLayer {
    type Service = FlushService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        FlushService { flush: self.flush, inner }
    }
}

struct FlushService<S> {
    flush: Flush,
    inner: S,
}

type Answered = Result<(), lambda_runtime::Error>;

impl<S> tower::Service<LambdaInvocation> for FlushService<S>
where
    S: tower::Service<LambdaInvocation, Response = (), Error = lambda_runtime::Error>,
    S::Future: Future<Output = Answered>,
{
    type Response = ();
    type Error = lambda_runtime::Error;
    type Future = futures::future::Map<S::Future, fn(Answered) -> Answered>;

    fn poll_ready(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<Answered> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, invocation: LambdaInvocation) -> Self::Future {
        static COLD: Once = Once::new();
        if let Some(collector) = COLLECTOR.get() {
            // A held-back line spans invocations: no one request id describes it.
            if self.flush == Flush::EachInvocation {
                collector.set_property(REQUEST_ID, invocation.context.request_id.clone());
            }
            COLD.call_once(|| {
                let _ = collector.write_single(COLD_START, Some(metrics::Unit::Count), 1, std::io::stdout());
            });
        }
        let flush = self.flush;
        let after: fn(Answered) -> Answered = match flush {
            Flush::EachInvocation => |answered| {
                write_now();
                answered
            },
            Flush::AtMostEvery(_) => |answered| {
                if FLUSH.get().copied().unwrap_or_default().due(since_last_line()) {
                    write_now();
                }
                answered
            },
        };
        futures::FutureExt::map(self.inner.call(invocation), after)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_or_zero_writes_after_every_invocation() {
        // GIVEN no interval, or an interval of zero
        // THEN every invocation's end writes the metrics, however soon after the last line
        assert_eq!("0".parse::<Flush>(), Ok(Flush::EachInvocation));
        assert!(Flush::EachInvocation.due(Duration::ZERO));
    }

    #[test]
    fn an_interval_writes_once_it_has_passed_since_the_last_line() {
        // GIVEN an interval of 10 s
        let flush: Flush = " 10 ".parse().unwrap();
        assert_eq!(flush, Flush::AtMostEvery(Duration::from_secs(10)));
        // THEN an invocation ending sooner after the last line holds its metrics back, and one
        // ending as late or later writes them
        assert!(!flush.due(Duration::from_millis(9_999)));
        assert!(flush.due(Duration::from_secs(10)));
        assert!(flush.due(Duration::from_secs(3_600)));
    }

    #[test]
    fn running_a_handler_before_init_fails_at_once_saying_why() {
        // GIVEN a process in which `init` was never called (no test of this binary calls it)
        // WHEN a handler is run
        let handler = |_: lambda_runtime::LambdaEvent<serde_json::Value>| async { Ok::<_, lambda_runtime::Error>(()) };
        let ran = futures::executor::block_on(crate::run(handler));
        // THEN it fails before the runtime starts, naming what is missing
        let refused = ran.unwrap_err().to_string();
        assert!(refused.contains("weelo_telemetry::init"), "{refused}");
    }

    #[test]
    fn anything_but_whole_seconds_up_to_a_minute_is_refused() {
        // GIVEN values that are not an interval this can keep
        for text in ["61", "-1", "1.5", "ten", ""] {
            // THEN each is refused, naming the variable
            let refused = text.parse::<Flush>().unwrap_err();
            assert!(refused.to_string().contains(FLUSH_VAR), "{refused}");
            // AND what a value must be, up to the longest interval
            assert!(refused.to_string().ends_with(&format!("0 to {MAX_FLUSH_SECONDS}")), "{refused}");
        }
    }
}
