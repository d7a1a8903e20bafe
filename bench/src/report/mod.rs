//! Runs every figure in order and writes the markdown report.
//!
//! # Layout
//! - here: the settings, what is measured ([`Measured`]) and [`run`];
//! - `measure.rs`: the measurements, one function per group of figures;
//! - `write.rs`: the report, one function per section, and the charts' data.

mod measure;
mod write;

use measure::measure;
use write::{chart_data, write_costs, write_figures, write_scaling, write_targets};

use crate::baseline::InlinePushBus;
use crate::coldstart::ProcessFigure;
use crate::costs::counted::{BookingCounts, Counted, GpsCounts, Served, TripCounts};
use crate::counts::{Emulators, Tally};
use crate::figures;
use crate::figures::FanoutFigure;
use crate::stats::{Latencies, ms, per_second};
use crate::trip_figure::{STEPS, TripFigure, trip_steps};
use crate::world::{private_city, seed_transporters};
use indicatif::{ProgressBar, ProgressStyle};
use std::fmt::Write as _;
use std::time::Duration;
use weelo_core::usecases::fanout::FanoutReport;
use weelo_testkit::api::{ApiClient, User};

#[derive(Debug, Clone, clap::Args)]
pub struct Settings {
    /// Transporters matched by each fan-out booking (the seed: ~1000).
    #[arg(long, default_value_t = 1000)]
    pub recipients: usize,
    /// Bookings timed for the latency figure.
    #[arg(long, default_value_t = 300)]
    pub bookings: usize,
    /// Delay before each push, standing in for FCM's round trip (the emulator has none).
    #[arg(long, default_value_t = 50)]
    pub push_delay_ms: u64,
    /// Synchronous-baseline bookings per delay setting (each pushes to every recipient).
    #[arg(long, default_value_t = 2)]
    pub sync_runs: usize,
    /// Concurrent requests for the ingest figure.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// Where the markdown report goes.
    #[arg(long, default_value = "docs/BENCHMARKS.md")]
    pub report: std::path::PathBuf,
    /// GPS points per request of the counted GPS figures (the cost model's scales send 6).
    #[arg(long, default_value_t = 6)]
    pub points_per_request: usize,
}

/// Transporters figure 4c's booking is offered to: the seed scale's assumption
/// (`infra/cost-model.json`), so its trip is counted as the seed's.
const TRIP_RECIPIENTS: usize = 100;

fn bar(len: usize, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len as u64).with_message(what.to_owned());
    bar.set_style(ProgressStyle::with_template("{msg:<32} {bar:40} {pos}/{len} {elapsed}").expect("a valid template"));
    bar
}

fn step(what: &str) -> ProgressBar {
    let spinner = ProgressBar::new_spinner().with_message(what.to_owned());
    spinner.enable_steady_tick(Duration::from_millis(200));
    spinner
}

/// Everything `make bench` measures.
struct Measured {
    dynamo_floor: Latencies,
    kafka_floor: Latencies,
    bookings: Latencies,
    /// Figure 4 per push delay.
    fanouts: Vec<(Duration, FanoutFigure)>,
    /// Figure 2 per push delay: latencies and recipients.
    synchronous: Vec<(Duration, Latencies, usize)>,
    fanout_curve: Vec<FanoutFigure>,
    ingest_curve: Vec<(usize, f64)>,
    order_took: Duration,
    order_report: FanoutReport,
    order_counted: Tally,
    /// Figure 4c: a trip after its offers.
    trip: TripFigure,
    single: f64,
    batched: f64,
    consumer_took: Duration,
    consumer_records: usize,
    /// Figure 3d per geo-index refresh and points a request: `(refresh s, points a request, took,
    /// points, served)`.
    minutes: Vec<(i64, usize, Duration, usize, Tally)>,
    /// What the cost table multiplies (`docs/COSTS.md`).
    counted: Counted,
    peak_rss_mb: Option<f64>,
    processes: Vec<(&'static str, String, ProcessFigure)>,
    zips: Vec<(String, u64)>,
}

pub async fn run(settings: &Settings) -> anyhow::Result<String> {
    let measured = measure(settings).await?;
    std::fs::write(settings.report.with_extension("json"), serde_json::to_string_pretty(&chart_data(&measured))?)?;
    let mut out = String::new();
    write_figures(&mut out, settings, &measured)?;
    write_scaling(&mut out, &measured)?;
    write_targets(&mut out, &measured)?;
    write_costs(&mut out)?;
    Ok(out)
}
