//! The recorder writes what CloudWatch expects: one EMF document per flush, in the namespace, with
//! the function dimension and each metric's unit.

use serde_json::Value;

#[test]
fn counters_and_latencies_flush_as_one_embedded_metric_document() {
    // GIVEN the recorder installed for a function
    let collector = weelo_telemetry::init("test-function").expect("the recorder installs once");

    // WHEN an adapter counts and times work, and the invocation ends
    metrics::counter!(weelo_telemetry::CONSUMED).increment(3);
    metrics::counter!(weelo_telemetry::FAILED).increment(1);
    metrics::histogram!(weelo_telemetry::PUSH_LATENCY).record(12.0);
    let mut out = Vec::new();
    collector.flush(&mut out).unwrap();

    // THEN the line is an EMF document CloudWatch can turn into metrics
    let line = String::from_utf8(out).unwrap();
    let document: Value = serde_json::from_str(line.lines().next().expect("one line")).unwrap();
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
