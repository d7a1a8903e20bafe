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
//!
//! The lines are written after every invocation, each with its `RequestId`, unless
//! `METRICS_FLUSH_SECONDS` holds them back for that long ([`Flush`]: gps-ingest, whose line a
//! request was most of the logs' bill), and a `ColdStart` count at an environment's first one.

/// Choices the environment makes for the runtime: [`env::var_or_default`], [`env::InvalidVar`].
pub mod env;
mod flush;

use flush::{COLLECTOR, FLUSH, write_now};
pub use flush::{FLUSH_VAR, Flush, MAX_FLUSH_SECONDS};
use lambda_runtime::{LambdaEvent, service_fn};
pub use metrics_cloudwatch_embedded::Collector;
use std::future::Future;
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

/// Latency samples recorded since the last line was written, per histogram.
static PUBLISH_SAMPLES: AtomicUsize = AtomicUsize::new(0);
static PUSH_SAMPLES: AtomicUsize = AtomicUsize::new(0);
/// EMF carries at most 100 values of a metric per document, and the recorder drops any value past
/// that until the next flush. Flushing at 64 leaves room for the samples other tasks record while
/// the flush runs.
pub const EARLY_FLUSH_AT: usize = 64;

/// Starts tracing and installs the EMF recorder for `function`, written as [`FLUSH_VAR`] says;
/// call once, first thing in `main`. The collector it returns is for tests that read the lines.
pub fn init(function: &'static str) -> Result<&'static Collector, lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let namespace = std::env::var("METRICS_NAMESPACE").unwrap_or_else(|_| "Weelo".to_owned());
    let flush = Flush::from_env()?;
    let collector = metrics_cloudwatch_embedded::Builder::new()
        .cloudwatch_namespace(namespace)
        .with_dimension("Function", function)
        .init()?;
    describe();
    let _ = FLUSH.set(flush);
    let _ = COLLECTOR.set(collector);
    Ok(collector)
}

/// Runs the Lambda runtime with `handler`, the metrics of [`init`]'s recorder written as its
/// [`Flush`] says.
pub async fn run<Request, Response, F>(
    handler: impl FnMut(LambdaEvent<Request>) -> F,
) -> Result<(), lambda_runtime::Error>
where
    F: Future<Output = Result<Response, lambda_runtime::Error>>,
    Request: for<'de> serde::Deserialize<'de>,
    Response: serde::Serialize,
{
    flush::initialised()?;
    flush::run(lambda_runtime::Runtime::new(service_fn(handler))).await
}

/// [`run`] for an HTTP handler (the api behind API Gateway or a function URL).
pub async fn run_http<'a, Response, F>(
    handler: impl FnMut(lambda_http::Request) -> F,
) -> Result<(), lambda_runtime::Error>
where
    F: Future<Output = Result<Response, lambda_runtime::Error>> + Send + 'a,
    Response: lambda_http::IntoResponse,
{
    flush::initialised()?;
    flush::run(lambda_runtime::Runtime::new(lambda_http::Adapter::from(lambda_http::service_fn(handler)))).await
}

/// Records one sample (milliseconds, to a hundredth) of [`PUBLISH_LATENCY`] or [`PUSH_LATENCY`].
/// One invocation may publish or push far more than 100 times (the deadline sweeper, fcm-consumer
/// on a large batch), and a function whose lines are held back gathers samples over many
/// invocations: every [`EARLY_FLUSH_AT`] samples of a histogram an EMF document is written early,
/// so no sample is dropped. Counters are sent as deltas, so an early document never counts
/// anything twice.
pub fn record_latency(histogram: &'static str, milliseconds: f64) {
    metrics::histogram!(histogram).record((milliseconds * 100.0).round() / 100.0);
    let samples = match histogram {
        PUBLISH_LATENCY => &PUBLISH_SAMPLES,
        PUSH_LATENCY => &PUSH_SAMPLES,
        _ => return,
    };
    if samples.fetch_add(1, Ordering::Relaxed) + 1 >= EARLY_FLUSH_AT {
        write_now();
    }
}

/// Since any line was written: a new line holds every sample recorded since.
fn samples_written() {
    PUBLISH_SAMPLES.store(0, Ordering::Relaxed);
    PUSH_SAMPLES.store(0, Ordering::Relaxed);
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
