//! Figures as CloudWatch Embedded Metric Format documents, one JSON line each. Hand-written rather
//! than through the `metrics` recorder the other metrics use: these carry the minute the events
//! happened in as their timestamp (CloudWatch accepts data points up to two weeks old) and
//! dimensions per document (city, vehicle type), which the recorder's fixed ones cannot.
//!
//! EMF allows at most 100 values per metric in a document, so delay samples beyond that go into
//! further documents of the same minute and group (CloudWatch adds them up).

use serde_json::{Map, Value, json};
use std::io::Write;
use std::sync::Mutex;
use weelo_core::ports::FigureSink;
use weelo_core::usecases::analytics::metrics::{Figures, Group};

/// Where documents are written: stdout in Lambda (CloudWatch Logs reads it), a buffer in tests.
pub type Output = Box<dyn Write + Send>;

/// The process's stdout.
pub fn stdout() -> Output {
    Box::new(std::io::stdout())
}

/// At most this many values of one metric per document (the EMF limit).
const VALUES_PER_DOCUMENT: usize = 100;
/// Booking ids per document, as a property: enough to find examples, bounded in size.
const SUBJECTS_PER_DOCUMENT: usize = 100;

pub struct EmfSink {
    namespace: String,
    out: Mutex<Output>,
}

impl EmfSink {
    pub fn new(namespace: String, out: Output) -> Self {
        Self { namespace, out: Mutex::new(out) }
    }
}

impl FigureSink for EmfSink {
    fn emit(&self, figures: &[Figures]) {
        let mut text = String::new();
        for figure in figures {
            for document in documents(&self.namespace, figure) {
                text.push_str(&document.to_string());
                text.push('\n');
            }
        }
        // One write of whole lines, so documents never interleave with other output.
        let mut out = self.out.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Err(error) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
            tracing::error!(%error, "writing metric documents");
        }
    }
}

/// The dimension sets and dimension values of a group.
fn dimensions(group: &Group) -> (Value, Vec<(&'static str, String)>) {
    match group {
        Group::Booking { vehicle, city } => (
            json!([["City"], ["VehicleType"], []]),
            vec![("City", city.clone()), ("VehicleType", vehicle.as_str().to_owned())],
        ),
        Group::Truck { vehicle } => (json!([["VehicleType"], []]), vec![("VehicleType", vehicle.as_str().to_owned())]),
        Group::Gps => (json!([[]]), vec![]),
    }
}

/// The documents of one figure: counts and the first 100 samples of each delay in the first,
/// the remaining samples 100 at a time in the next ones.
pub fn documents(namespace: &str, figure: &Figures) -> Vec<Value> {
    let (dimension_sets, values) = dimensions(&figure.group);
    let longest = figure.delays_ms.values().map(Vec::len).max().unwrap_or(0);
    let chunks = longest.div_ceil(VALUES_PER_DOCUMENT).max(1);
    (0..chunks)
        .filter_map(|chunk| {
            let mut fields = Map::new();
            let mut metrics = Vec::new();
            if chunk == 0 {
                for (name, count) in &figure.counts {
                    metrics.push(json!({ "Name": name, "Unit": "Count" }));
                    fields.insert((*name).to_owned(), json!(count));
                }
                let subjects: Vec<&String> = figure.subjects.iter().take(SUBJECTS_PER_DOCUMENT).collect();
                if !subjects.is_empty() {
                    fields.insert("Subjects".to_owned(), json!(subjects));
                }
            }
            for (name, samples) in &figure.delays_ms {
                let part: Vec<f64> =
                    samples.iter().skip(chunk * VALUES_PER_DOCUMENT).take(VALUES_PER_DOCUMENT).copied().collect();
                if !part.is_empty() {
                    metrics.push(json!({ "Name": name, "Unit": "Milliseconds" }));
                    fields.insert((*name).to_owned(), json!(part));
                }
            }
            if metrics.is_empty() {
                return None;
            }
            for (name, value) in &values {
                fields.insert((*name).to_owned(), json!(value));
            }
            fields.insert("Function".to_owned(), json!("analytics"));
            let directive = json!({ "Namespace": namespace, "Dimensions": dimension_sets, "Metrics": metrics });
            fields.insert(
                "_aws".to_owned(),
                json!({ "Timestamp": figure.minute.timestamp_millis(), "CloudWatchMetrics": [directive] }),
            );
            Some(Value::Object(fields))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use weelo_core::model::vehicle::VehicleType;

    #[test]
    fn a_figure_becomes_documents_stamped_with_its_minute_and_bounded_to_100_values_a_metric() {
        let minute = Utc.with_ymd_and_hms(2026, 11, 30, 12, 7, 0).unwrap();
        let mut figure = Figures::new(minute, Group::Booking { vehicle: VehicleType::Tipper, city: "Pune".into() });
        figure.counts.insert("BookingsAccepted", 250);
        figure.delays_ms.insert("TimeToAccept", (0..250).map(f64::from).collect());
        figure.subjects.insert("booking-1".into());

        let documents = documents("Weelo/Analytics", &figure);

        assert_eq!(documents.len(), 3);
        let first = &documents[0];
        assert_eq!(first["_aws"]["Timestamp"], minute.timestamp_millis());
        assert_eq!(first["_aws"]["CloudWatchMetrics"][0]["Dimensions"], json!([["City"], ["VehicleType"], []]));
        assert_eq!((first["City"].as_str(), first["VehicleType"].as_str()), (Some("Pune"), Some("tipper")));
        assert_eq!((first["BookingsAccepted"].as_u64(), first["Subjects"][0].as_str()), (Some(250), Some("booking-1")));
        let samples: Vec<usize> = documents.iter().map(|d| d["TimeToAccept"].as_array().unwrap().len()).collect();
        assert_eq!(samples, [100, 100, 50]);
        assert!(documents[1].get("BookingsAccepted").is_none(), "a count is written once");
    }
}
