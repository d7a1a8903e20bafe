//! `weelo-ops metrics`: sums the Embedded Metric Format lines the functions print (see
//! `weelo-telemetry`) from log files or stdin: locally the log of `weelo-local functions`, in AWS an
//! export of the functions' log groups. CloudWatch does the same aggregation for the dashboards.

use std::collections::BTreeMap;
use std::io::BufRead;

/// One metric of one function: counts are summed, latencies kept to compute percentiles.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Series {
    pub unit: String,
    pub values: Vec<f64>,
}

impl Series {
    pub fn sum(&self) -> f64 {
        self.values.iter().sum()
    }

    pub fn percentile(&self, p: f64) -> f64 {
        let mut sorted = self.values.clone();
        sorted.sort_by(f64::total_cmp);
        sorted.get(((sorted.len() as f64 * p).ceil() as usize).saturating_sub(1)).copied().unwrap_or_default()
    }
}

/// `(function, metric) → series`, from every EMF document found in `lines`; other lines are skipped.
pub fn summarise(lines: impl BufRead) -> BTreeMap<(String, String), Series> {
    let mut summary: BTreeMap<(String, String), Series> = BTreeMap::new();
    for line in lines.lines().map_while(Result::ok) {
        // Log lines may carry a prefix (a timestamp, a colour code): the document starts at its brace.
        let Some(start) = line.find("{\"") else { continue };
        let Ok(document) = serde_json::from_str::<serde_json::Value>(&line[start..]) else { continue };
        let Some(directives) = document["_aws"]["CloudWatchMetrics"].as_array() else { continue };
        let function = document["Function"].as_str().unwrap_or("?").to_owned();
        for metric in directives.iter().flat_map(|d| d["Metrics"].as_array().into_iter().flatten()) {
            let Some(name) = metric["Name"].as_str() else { continue };
            let series = summary.entry((function.clone(), name.to_owned())).or_default();
            series.unit = metric["Unit"].as_str().unwrap_or("None").to_owned();
            match &document[name] {
                serde_json::Value::Array(values) => series.values.extend(values.iter().filter_map(|v| v.as_f64())),
                value => series.values.extend(value.as_f64()),
            }
        }
    }
    summary
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_summed_and_latencies_kept_per_function() {
        let log = r#"noise line
2026-11-26 INFO {"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"Weelo","Dimensions":[["Function"]],"Metrics":[{"Name":"Consumed","Unit":"Count"},{"Name":"PushLatency","Unit":"Milliseconds"}]}]},"Function":"fcm-consumer","Consumed":3,"PushLatency":[10.0,30.0]}
{"_aws":{"Timestamp":2,"CloudWatchMetrics":[{"Namespace":"Weelo","Dimensions":[["Function"]],"Metrics":[{"Name":"Consumed","Unit":"Count"}]}]},"Function":"fcm-consumer","Consumed":2}
{"_aws":{"Timestamp":2,"CloudWatchMetrics":[{"Namespace":"Weelo","Dimensions":[["Function"]],"Metrics":[{"Name":"Consumed","Unit":"Count"}]}]},"Function":"order-fanout","Consumed":7}
"#;
        let summary = summarise(log.as_bytes());
        assert_eq!(summary[&("fcm-consumer".into(), "Consumed".into())].sum(), 5.0);
        assert_eq!(summary[&("order-fanout".into(), "Consumed".into())].sum(), 7.0);
        let latency = &summary[&("fcm-consumer".into(), "PushLatency".into())];
        assert_eq!(
            (latency.unit.as_str(), latency.percentile(0.5), latency.percentile(0.99)),
            ("Milliseconds", 10.0, 30.0)
        );
    }
}
