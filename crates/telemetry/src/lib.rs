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
//!
//! Dead-lettering is done by the event-source mapping, not by a function: its measure is the depth
//! of each dead-letter queue (an SQS metric, alarmed in Terraform), and locally `weelo-ops redrive`.

pub use metrics_cloudwatch_embedded::Collector;
/// Run the Lambda runtime with the metrics flushed after each invocation (`run_http` for the api).
pub use metrics_cloudwatch_embedded::lambda::handler::{run, run_http};

pub const PUBLISHED: &str = "Published";
pub const PUBLISH_FAILED: &str = "PublishFailed";
pub const PUBLISH_LATENCY: &str = "PublishLatency";
pub const CONSUMED: &str = "Consumed";
pub const FAILED: &str = "Failed";
pub const PUSHED: &str = "Pushed";
pub const PUSH_FAILED: &str = "PushFailed";
pub const PUSH_LATENCY: &str = "PushLatency";

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
    Ok(collector)
}

fn describe() {
    use metrics::Unit;
    for counter in [PUBLISHED, PUBLISH_FAILED, CONSUMED, FAILED, PUSHED, PUSH_FAILED] {
        metrics::describe_counter!(counter, Unit::Count, "");
    }
    for latency in [PUBLISH_LATENCY, PUSH_LATENCY] {
        metrics::describe_histogram!(latency, Unit::Milliseconds, "");
    }
}

/// Logs of the command-line tools (`weelo-local`, `weelo-ops`): on stderr, at the level of
/// `WEELO_LOG` (default `warn`), so their stdout stays their output.
pub fn cli_logs() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("WEELO_LOG").unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .init();
}
