//! The recorder writes what CloudWatch expects: one EMF document per flush, in the namespace, with
//! the function dimension and each metric's unit.

use serde_json::Value;
use std::sync::{Mutex, MutexGuard, OnceLock};
use weelo_telemetry::Collector;

/// The recorder is global: installed once, and used by one test at a time, each starting from
/// an empty document.
fn recorder() -> (&'static Collector, MutexGuard<'static, ()>) {
    static COLLECTOR: OnceLock<&'static Collector> = OnceLock::new();
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let guard = ONE_AT_A_TIME.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let collector = *COLLECTOR.get_or_init(|| weelo_telemetry::init("test-function").expect("the recorder installs"));
    collector.flush(std::io::sink()).unwrap();
    (collector, guard)
}

fn flushed(collector: &Collector) -> Value {
    let mut out = Vec::new();
    collector.flush(&mut out).unwrap();
    let line = String::from_utf8(out).unwrap();
    serde_json::from_str(line.lines().next().expect("one line")).unwrap()
}

#[test]
fn counters_and_latencies_flush_as_one_embedded_metric_document() {
    // GIVEN the recorder installed for a function
    let (collector, _one_at_a_time) = recorder();

    // WHEN an adapter counts and times work, and the invocation ends
    metrics::counter!(weelo_telemetry::CONSUMED).increment(3);
    metrics::counter!(weelo_telemetry::FAILED).increment(1);
    metrics::histogram!(weelo_telemetry::PUSH_LATENCY).record(12.0);
    let document = flushed(collector);

    // THEN the line is an EMF document CloudWatch can turn into metrics
    let directive = &document["_aws"]["CloudWatchMetrics"][0];
    assert_eq!(directive["Namespace"], "Weelo");
    assert_eq!(directive["Dimensions"][0][0], "Function");
    assert_eq!(document["Function"], "test-function");
    assert_eq!(document[weelo_telemetry::CONSUMED], 3);
    assert_eq!(document[weelo_telemetry::FAILED], 1);
    let units: Vec<(String, String)> = directive["Metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["Name"].as_str().unwrap().to_owned(), m["Unit"].as_str().unwrap_or("").to_owned()))
        .collect();
    assert!(units.contains(&("PushLatency".to_owned(), "Milliseconds".to_owned())), "{units:?}");
    assert!(units.contains(&("Consumed".to_owned(), "Count".to_owned())), "{units:?}");
}

#[test]
fn an_invocation_timing_more_than_a_document_holds_flushes_early_instead_of_dropping_samples() {
    // GIVEN the recorder installed for a function
    let (collector, _one_at_a_time) = recorder();

    // WHEN one invocation times 250 pushes, more than the 100 values an EMF document may carry
    for sample in 0..250 {
        weelo_telemetry::record_latency(weelo_telemetry::PUSH_LATENCY, f64::from(sample));
    }

    // THEN documents went out every 64 samples, and the invocation's own flush carries the rest:
    // the 58 latest samples, not the first 100 of 250 with the others dropped
    let document = flushed(collector);
    let values: Vec<f64> =
        document[weelo_telemetry::PUSH_LATENCY].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    let expected: Vec<f64> = (192..250).map(f64::from).collect();
    assert_eq!(values, expected);
}
