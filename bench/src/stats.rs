//! Latency samples (an HDR histogram in microseconds) and how the report prints them.

use hdrhistogram::Histogram;
use std::time::Duration;

pub struct Latencies {
    histogram: Histogram<u64>,
}

impl Default for Latencies {
    fn default() -> Self {
        // 1 µs to 10 min at three significant digits.
        Self { histogram: Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid histogram bounds") }
    }
}

impl Latencies {
    pub fn record(&mut self, took: Duration) {
        self.histogram.saturating_record(took.as_micros().max(1) as u64);
    }

    pub fn quantile(&self, q: f64) -> Duration {
        Duration::from_micros(self.histogram.value_at_quantile(q))
    }

    pub fn count(&self) -> u64 {
        self.histogram.len()
    }

    /// `p50 4.1 ms · p99 9.8 ms (n = 300)`.
    pub fn summary(&self) -> String {
        format!("p50 {} · p99 {} (n = {})", ms(self.quantile(0.5)), ms(self.quantile(0.99)), self.count())
    }
}

pub fn ms(took: Duration) -> String {
    let millis = took.as_secs_f64() * 1000.0;
    if millis < 10.0 { format!("{millis:.2} ms") } else { format!("{millis:.0} ms") }
}

pub fn per_second(count: usize, took: Duration) -> f64 {
    count as f64 / took.as_secs_f64().max(f64::EPSILON)
}
