//! What every function emits besides its answer: tracing logs, and metrics as CloudWatch Embedded
//! Metric Format (EMF) lines on stdout. Lambda ships stdout to CloudWatch Logs, and CloudWatch turns
//! EMF lines into metrics without any metric filter or extra call; locally `weelo-ops metrics`
//! sums the same lines from the function logs.
//!
//! The adapters count through the `metrics` facade (a no-op until a function installs the
//! recorder, so tests and the benchmark pay nothing). Namespace `Weelo` by default
//! (`METRICS_NAMESPACE` overrides it, one per deployed environment), one dimension, `Function`:
//!
//! | metric | unit | emitted by |
//! |---|---|---|
//! | `Published`, `PublishFailed` | count | every Kafka publish (api, outbox-relay, order-fanout) |
//! | `PublishLatency` | ms | every Kafka publish, per record |
//! | `Consumed`, `Failed` | count | every consumer, per record handled / failed (a failed record is redelivered) |
//! | `Pushed`, `PushFailed` | count | fcm-consumer, per SNS publish |
//! | `PushLatency` | ms | fcm-consumer, per SNS publish |
//! | `TopicsCreated`, `TopicsUpdated` | count | kafka-topics, per topic created / change to an existing topic |
//! | `AccessRetried` | count | kafka-topics, per attempt Kafka refused access to and that is tried again |
//! | `LivePosted`, `LiveGone`, `LiveDropped` | count | live-tracking, per post to a WebSocket connection: sent, the client had left (410, forgotten), given up (throttled every try, or refused) |
//!
//! Dead-lettering is done by the event-source mapping, not by a function: its measure is AWS's own
//! (a dead-letter queue's depth; for an S3 on-failure destination, the mapping's on-failure
//! deliveries), alarmed in Terraform; `weelo-ops redrive` sends either back.

pub use metrics_cloudwatch_embedded::Collector;
/// Run the Lambda runtime with the metrics flushed after each invocation (`run_http` for the api).
pub use metrics_cloudwatch_embedded::lambda::handler::{run, run_http};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

pub const PUBLISHED: &str = "Published";
pub const PUBLISH_FAILED: &str = "PublishFailed";
pub const PUBLISH_LATENCY: &str = "PublishLatency";
pub const CONSUMED: &str = "Consumed";
pub const FAILED: &str = "Failed";
pub const PUSHED: &str = "Pushed";
pub const PUSH_FAILED: &str = "PushFailed";
pub const PUSH_LATENCY: &str = "PushLatency";
pub const TOPICS_CREATED: &str = "TopicsCreated";
pub const TOPICS_UPDATED: &str = "TopicsUpdated";
pub const ACCESS_RETRIED: &str = "AccessRetried";
pub const LIVE_POSTED: &str = "LivePosted";
pub const LIVE_GONE: &str = "LiveGone";
pub const LIVE_DROPPED: &str = "LiveDropped";

/// The installed recorder, for the early flushes of [`record_latency`].
static COLLECTOR: OnceLock<&'static Collector> = OnceLock::new();
/// Latency samples recorded since the last early flush, per histogram.
static PUBLISH_SAMPLES: AtomicUsize = AtomicUsize::new(0);
static PUSH_SAMPLES: AtomicUsize = AtomicUsize::new(0);
/// EMF carries at most 100 values of a metric per document, and the recorder drops any value past
/// that until the next flush. Flushing at 64 leaves room for the samples other tasks record while
/// the flush runs.
pub const EARLY_FLUSH_AT: usize = 64;

/// Starts tracing and installs the EMF recorder for `function`; call once, first thing in `main`.
pub fn init(function: &'static str) -> Result<&'static Collector, lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let namespace = std::env::var("METRICS_NAMESPACE").unwrap_or_else(|_| "Weelo".to_owned());
    let collector = metrics_cloudwatch_embedded::Builder::new()
        .cloudwatch_namespace(namespace)
        .with_dimension("Function", function)
        .lambda_cold_start_metric("ColdStart")
        .with_lambda_request_id("RequestId")
        .init()?;
    describe();
    let _ = COLLECTOR.set(collector);
    Ok(collector)
}

/// Records one sample (milliseconds) of [`PUBLISH_LATENCY`] or [`PUSH_LATENCY`]. The recorder is
/// flushed after each invocation, but one invocation may publish or push far more than 100 times
/// (the deadline sweeper, fcm-consumer on a large batch): every [`EARLY_FLUSH_AT`] samples of a
/// histogram an EMF document is written early, so no sample is dropped. Counters are sent as
/// deltas, so an early document never counts anything twice.
pub fn record_latency(histogram: &'static str, milliseconds: f64) {
    metrics::histogram!(histogram).record(milliseconds);
    let samples = match histogram {
        PUBLISH_LATENCY => &PUBLISH_SAMPLES,
        PUSH_LATENCY => &PUSH_SAMPLES,
        _ => return,
    };
    if samples.fetch_add(1, Ordering::Relaxed) + 1 >= EARLY_FLUSH_AT {
        samples.store(0, Ordering::Relaxed);
        if let Some(collector) = COLLECTOR.get() {
            let mut document = Vec::new();
            if collector.flush(&mut document).is_ok() {
                // Through print! (one locked write of whole lines), as the end-of-invocation flush.
                print!("{}", String::from_utf8_lossy(&document));
            }
        }
    }
}

fn describe() {
    use metrics::Unit;
    for counter in [
        PUBLISHED,
        PUBLISH_FAILED,
        CONSUMED,
        FAILED,
        PUSHED,
        PUSH_FAILED,
        TOPICS_CREATED,
        TOPICS_UPDATED,
        ACCESS_RETRIED,
        LIVE_POSTED,
        LIVE_GONE,
        LIVE_DROPPED,
    ] {
        metrics::describe_counter!(counter, Unit::Count, "");
    }
    for latency in [PUBLISH_LATENCY, PUSH_LATENCY] {
        metrics::describe_histogram!(latency, Unit::Milliseconds, "");
    }
}

/// Adds `by` to counter `name` (one of the constants above), for functions that count outcomes
/// their use case reports rather than calls an adapter makes.
pub fn count(name: &'static str, by: u64) {
    metrics::counter!(name).increment(by);
}

/// Logs of the command-line tools (`weelo-local`, `weelo-ops`): on stderr, at the level of
/// `WEELO_LOG` (default `warn`), so their stdout stays their output.
pub fn cli_logs() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("WEELO_LOG").unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .init();
}
