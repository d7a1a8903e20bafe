//! Runs every figure in order ([`measure`], one function per group of figures) and writes the
//! markdown report (one function per section).

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

async fn measure(settings: &Settings) -> anyhow::Result<Measured> {
    let api = ApiClient::in_process().await;
    let customer = User::customer();
    let spinner = step("I/O floor (DynamoDB read, Kafka publish)");
    let (dynamo_floor, kafka_floor) = figures::io_floor(&api, 200).await?;
    spinner.finish();
    let progress = bar(settings.bookings, "booking latency (in-process)");
    let bookings = figures::booking_latency(&api, &customer, private_city(), settings.bookings, &progress).await;
    progress.finish();
    let city = private_city();
    let locations = weelo_location_consumer::from_env().await?;
    let progress = bar(settings.recipients, "seeding transporters + phones");
    let transporters = seed_transporters(&api, &locations, city, settings.recipients, &progress).await?;
    progress.finish();
    let (fanouts, synchronous) = measure_fanouts(settings, &api, &customer, city).await?;
    let (fanout_curve, ingest_curve) = measure_scaling(settings, &api, &customer, city).await?;
    let spinner = step("50-truck order fan-out");
    let (order_took, order_report, order_counted) = figures::order_fanout(&api, &customer, city).await?;
    spinner.finish();
    let spinner = step("a trip: accept, arrive, pick up, deliver, counted");
    let trip = trip_steps(&api, city, &transporters, TRIP_RECIPIENTS).await?;
    spinner.finish();
    let (single, batched, consumer_took, consumer_records, minutes) = measure_gps(settings, &api).await?;
    let counted = count_operations(settings, &api, &bookings, &fanouts, &trip, &minutes).await?;
    let peak_rss_mb = peak_rss_kb().map(|kb| kb as f64 / 1024.0);
    let spinner = step("cold start and peak RSS of each release binary");
    let processes = process_figures(&api, &customer, city, &transporters).await?;
    spinner.finish();
    Ok(Measured {
        dynamo_floor,
        kafka_floor,
        bookings,
        fanouts,
        synchronous,
        fanout_curve,
        ingest_curve,
        order_took,
        order_report,
        order_counted,
        trip,
        single,
        batched,
        consumer_took,
        consumer_records,
        minutes,
        counted,
        peak_rss_mb,
        processes,
        zips: arm64_zip_sizes(),
    })
}

type Fanouts = (Vec<(Duration, FanoutFigure)>, Vec<(Duration, Latencies, usize)>);

/// Figures 4 and 2: the asynchronous fan-out, and the synchronous baseline, with and without the
/// push delay.
async fn measure_fanouts(
    settings: &Settings, api: &ApiClient, customer: &User, city: (f64, f64),
) -> anyhow::Result<Fanouts> {
    let delay = Duration::from_millis(settings.push_delay_ms);
    let mut fanouts = Vec::new();
    for push_delay in [Duration::ZERO, delay] {
        let spinner = step(&format!("async fan-out, push delay {}", ms(push_delay)));
        fanouts
            .push((push_delay, figures::booking_fanout(api, customer, city, push_delay, settings.recipients).await?));
        spinner.finish();
    }
    let mut synchronous = Vec::new();
    for push_delay in [Duration::ZERO, delay] {
        let inline = InlinePushBus { push: figures::push_service(push_delay).await?, concurrency: 8 };
        let fanout = figures::fanout_over(inline, None).await?;
        let mut latencies = Latencies::default();
        let mut recipients = 0;
        let progress = bar(settings.sync_runs, &format!("sync baseline, push delay {}", ms(push_delay)));
        for _ in 0..settings.sync_runs {
            let (took, pushed) = figures::synchronous_booking(api, &fanout, customer, city).await?;
            latencies.record(took);
            recipients = pushed;
            progress.inc(1);
        }
        progress.finish();
        synchronous.push((push_delay, latencies, recipients));
    }
    Ok((fanouts, synchronous))
}

/// Figure 6: how the work grows with the load: fan-out at 1/8, 1/4, 1/2 and all of the
/// recipients, ingest at 1, 2, 4 and 8 concurrent 100-point requests.
async fn measure_scaling(
    settings: &Settings, api: &ApiClient, customer: &User, city: (f64, f64),
) -> anyhow::Result<(Vec<FanoutFigure>, Vec<(usize, f64)>)> {
    let mut fanout_curve = Vec::new();
    for share in [8, 4, 2, 1] {
        let spinner = step(&format!("scaling: fan-out to {} phones", settings.recipients / share));
        fanout_curve
            .push(figures::booking_fanout(api, customer, city, Duration::ZERO, settings.recipients / share).await?);
        spinner.finish();
    }
    let mut ingest_curve = Vec::new();
    for concurrency in [1, 2, 4, 8] {
        let spinner = step(&format!("scaling: ingest, {concurrency} concurrent"));
        ingest_curve.push((concurrency, figures::location_ingest(api, 100, 50 * concurrency, concurrency).await?));
        spinner.finish();
    }
    Ok((fanout_curve, ingest_curve))
}

type Gps = (f64, f64, Duration, usize, Vec<(i64, usize, Duration, usize, Tally)>);

/// Figures 3a–3d: ingest with one and with 100 points per request, a 10,000-record batch through
/// the location-consumer, and one minute of GPS with the geo index rewritten with every point
/// (the before) and once a minute per transporter in the same cell (the after).
async fn measure_gps(settings: &Settings, api: &ApiClient) -> anyhow::Result<Gps> {
    let spinner = step("location ingest");
    let single = figures::location_ingest(api, 1, 2000, settings.concurrency).await?;
    let batched = figures::location_ingest(api, 100, 200, settings.concurrency).await?;
    spinner.finish();
    let spinner = step("location-consumer, 10,000-record batch");
    let (consumer_took, consumer_records) = figures::location_consumer(500, 20).await?;
    spinner.finish();
    let mut minutes = Vec::new();
    for (refresh_secs, per_request) in [(0, 1), (60, 1), (60, settings.points_per_request)] {
        let spinner = step(&format!("one minute of GPS, index refresh {refresh_secs} s, {per_request} a request"));
        let refresh = chrono::Duration::seconds(refresh_secs);
        let (took, points, counted) = figures::location_minute(500, per_request, refresh).await?;
        minutes.push((refresh_secs, per_request, took, points, counted));
        spinner.finish();
    }
    Ok((single, batched, consumer_took, consumer_records, minutes))
}

/// The header and the table of figures 1–5 and 7.
fn write_figures(out: &mut String, settings: &Settings, m: &Measured) -> anyhow::Result<()> {
    writeln!(out, "# Benchmarks\n")?;
    writeln!(out, "Measured {} on: {}.", chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"), machine())?;
    writeln!(out, "Command: `make bench` (`weelo-bench local`, release build) with the native local stack up:")?;
    writeln!(out, "Kafka 4.4 (KRaft, one broker) and moto (DynamoDB, SNS) on loopback, on the same cores as the")?;
    writeln!(out, "benchmark. The handlers run in-process, as the integration tests run them. Figures from this")?;
    writeln!(out, "machine are indications; the ratios are the claim.\n")?;
    writeln!(out, "| figure | result |\n|---|---|")?;
    writeln!(out, "| 1. `POST /v1/bookings`, api handler + I/O | {} |", m.bookings.summary())?;
    writeln!(out, "| 1a. of which emulator floor: one DynamoDB read (moto) | {} |", m.dynamo_floor.summary())?;
    writeln!(out, "| 1b. of which emulator floor: one Kafka publish, acks=all | {} |", m.kafka_floor.summary())?;
    for (push_delay, latencies, recipients) in &m.synchronous {
        let ratio = latencies.quantile(0.5).as_secs_f64() / m.bookings.quantile(0.5).as_secs_f64();
        writeln!(
            out,
            "| 2. synchronous baseline, {recipients} pushes inline, push delay {} | {} → **{ratio:.0}×** the async p50 |",
            ms(*push_delay),
            latencies.summary()
        )?;
    }
    for (push_delay, figure) in &m.fanouts {
        writeln!(
            out,
            "| 4. async fan-out to {} phones, push delay {}: match + offers + notifications / pushes | {} / {} (total {}) · counted per recipient, booking included: {:.2} write units, {:.2} read units; calls {} |",
            figure.recipients,
            ms(*push_delay),
            ms(figure.matched),
            ms(figure.pushed),
            ms(figure.matched + figure.pushed),
            figure.counted.write_units() / figure.recipients.max(1) as f64,
            figure.counted.read_units() / figure.recipients.max(1) as f64,
            figure.counted.calls_per(figure.recipients.max(1) as f64)
        )?;
    }
    writeln!(
        out,
        "| 4b. 50-truck order (3 lines): `order.created` → {} truck requests written, {} offers | {} · counted, order created and fanned out: {:.0} write units, {:.1} read units (per line: {:.0} and {:.1}); calls {} |",
        m.order_report.truck_requests,
        m.order_report.offers,
        ms(m.order_took),
        m.order_counted.write_units(),
        m.order_counted.read_units(),
        m.order_counted.write_units() / 3.0,
        m.order_counted.read_units() / 3.0,
        m.order_counted.calls_per(1.0)
    )?;
    writeln!(
        out,
        "| 4c. a trip after its offers to {} transporters: {} through the api, their events through order-fanout and the fcm-consumer | counted: {:.0} write units, {:.1} read units, {} pushes; calls {} |",
        m.trip.recipients,
        STEPS.join(", "),
        m.trip.counted.write_units(),
        m.trip.counted.read_units(),
        m.trip.counted.count("Publish"),
        m.trip.counted.calls_per(1.0)
    )?;
    writeln!(
        out,
        "| 3a. location ingest into Kafka, 1 point per request, {} concurrent | {:.0} points/s |",
        settings.concurrency, m.single
    )?;
    writeln!(
        out,
        "| 3b. location ingest into Kafka, 100 points per request, {} concurrent | {:.0} points/s |",
        settings.concurrency, m.batched
    )?;
    writeln!(
        out,
        "| 3c. location-consumer, one {}-record batch (500 trucks: 500 position writes after coalescing) | {} → {:.0} records/s |",
        m.consumer_records,
        ms(m.consumer_took),
        per_second(m.consumer_records, m.consumer_took)
    )?;
    for (refresh_secs, per_request, took, points, counted) in &m.minutes {
        let per_point = *points as f64;
        writeln!(
            out,
            "| 3d. location-consumer, one minute of GPS for 500 trucks (a point every 5 s, {per_request} a request, a record each; 1 s batches), geo-index refresh {refresh_secs} s | {} → {:.0} points/s · counted per point: **{:.2} write units**, {:.2} read units; calls {} |",
            ms(*took),
            per_second(*points, *took),
            counted.write_units() / per_point,
            counted.read_units() / per_point,
            counted.calls_per(per_point)
        )?;
    }
    for (name, load, figure) in &m.processes {
        let loaded = figure.invocations.iter().max().map(|d| ms(*d)).unwrap_or_else(|| "–".into());
        writeln!(
            out,
            "| 5/7. `{name}`: cold start (spawn → first invocation done; median of {} starts, slowest) · slowest of: {load} · peak RSS · binary | {} ({}) · {loaded} · {:.0} MB · {:.1} MB |",
            crate::coldstart::COLD_START_SAMPLES,
            ms(figure.cold_start),
            ms(figure.cold_start_slowest),
            figure.peak_rss_kb as f64 / 1024.0,
            figure.binary_bytes as f64 / 1_048_576.0
        )?;
    }
    for (name, bytes) in &m.zips {
        writeln!(
            out,
            "| 5. `{name}`: arm64 Lambda zip (`infra/build-zips.sh`, as deployed) | {:.1} MB |",
            *bytes as f64 / 1_048_576.0
        )?;
    }
    if m.zips.is_empty() {
        writeln!(out, "| 5. arm64 Lambda zips | not measured: run `infra/build-zips.sh` first |")?;
    }
    if let Some(mb) = m.peak_rss_mb {
        writeln!(
            out,
            "| 7. peak RSS of the benchmark process (all handlers in one process: an upper bound per function) | {mb:.0} MB |"
        )?;
    }
    Ok(())
}

/// Figure 6: the scaling table.
fn write_scaling(out: &mut String, m: &Measured) -> anyhow::Result<()> {
    writeln!(
        out,
        "\n## 6. Scaling\n\n| load | fan-out: recipients → match + offers / pushes | ingest: concurrent 100-point requests → points/s |\n|---|---|---|"
    )?;
    for (i, (figure, (concurrency, rate))) in m.fanout_curve.iter().zip(&m.ingest_curve).enumerate() {
        writeln!(
            out,
            "| {}× | {} → {} / {} | {concurrency} → {rate:.0} |",
            1 << i,
            figure.recipients,
            ms(figure.matched),
            ms(figure.pushed)
        )?;
    }
    Ok(())
}

/// What the charts are drawn from (`docs/BENCHMARKS.json`, `localstack/bench_chart.py`).
fn chart_data(m: &Measured) -> serde_json::Value {
    serde_json::json!({
        "fanout": m.fanout_curve.iter().map(|f| serde_json::json!({"recipients": f.recipients, "matchedMs": f.matched.as_secs_f64() * 1e3, "pushedMs": f.pushed.as_secs_f64() * 1e3})).collect::<Vec<_>>(),
        "ingest": m.ingest_curve.iter().map(|(c, r)| serde_json::json!({"concurrency": c, "pointsPerSecond": r})).collect::<Vec<_>>(),
        "asyncBookingP50Ms": m.bookings.quantile(0.5).as_secs_f64() * 1e3,
        "asyncBookingP99Ms": m.bookings.quantile(0.99).as_secs_f64() * 1e3,
        "counted": m.counted,
        "sync": m.synchronous.iter().map(|(d, l, n)| serde_json::json!({"pushDelayMs": d.as_millis() as u64, "recipients": n, "p50Ms": l.quantile(0.5).as_secs_f64() * 1e3})).collect::<Vec<_>>(),
    })
}

/// The targets next to what was measured here, so nobody has to compare by hand.
fn write_targets(out: &mut String, m: &Measured) -> anyhow::Result<()> {
    let verdict = |met: bool| if met { "met" } else { "**not met here**" };
    let sync_ratio = m
        .synchronous
        .last()
        .map(|(_, l, _)| l.quantile(0.5).as_secs_f64() / m.bookings.quantile(0.5).as_secs_f64())
        .unwrap_or(0.0);
    let fanout_total = m.fanouts.first().map(|(_, f)| f.matched + f.pushed).unwrap_or_default();
    let largest_zip = m.zips.iter().map(|(_, bytes)| *bytes).max();
    let slowest_cold = m
        .processes
        .iter()
        .filter(|(n, _, _)| *n != "kafka-topics")
        .map(|(_, _, f)| f.cold_start)
        .max()
        .unwrap_or_default();
    let largest_rss = m.processes.iter().map(|(_, _, f)| f.peak_rss_kb).max().unwrap_or(0) as f64 / 1024.0;
    let consumer_rate = per_second(m.consumer_records, m.consumer_took);
    writeln!(out, "\n## Against the targets\n\n| target | here | |\n|---|---|---|")?;
    for (target, here, met) in [
        (
            "booking p99 ≤ 15 ms (handler + I/O)",
            ms(m.bookings.quantile(0.99)),
            m.bookings.quantile(0.99) <= Duration::from_millis(15),
        ),
        ("sync / async ≥ 2000× at 1000 recipients", format!("{sync_ratio:.0}×"), sync_ratio >= 2000.0),
        (
            "ingest ≥ 250,000 points/s",
            format!("{:.0}/s (100-point requests, both cores, Kafka on the same cores)", m.batched),
            m.batched >= 250_000.0,
        ),
        (
            "location-consumer ≥ 250,000 records/s",
            format!("{consumer_rate:.0}/s (moto-bound)"),
            consumer_rate >= 250_000.0,
        ),
        ("booking.created → last of 1000 pushes ≤ 1 s", ms(fanout_total), fanout_total <= Duration::from_secs(1)),
        ("50-truck order → truck requests written ≤ 1 s", ms(m.order_took), m.order_took <= Duration::from_secs(1)),
        (
            "cold start ≤ 40 ms (the slowest function's median; kafka-topics, run once per deploy, left out)",
            ms(slowest_cold),
            slowest_cold <= Duration::from_millis(40),
        ),
        ("peak RSS ≤ 64 MB", format!("{largest_rss:.0} MB"), largest_rss <= 64.0),
        (
            "arm64 zip ≤ 15 MB",
            largest_zip.map_or("not measured".into(), |b| format!("{:.1} MB", b as f64 / 1_048_576.0)),
            largest_zip.is_some_and(|b| b <= 15 * 1_048_576),
        ),
    ] {
        writeln!(out, "| {target} | {here} | {} |", verdict(met))?;
    }
    writeln!(
        out,
        "\nmoto serialises every DynamoDB and SNS request on one lock (localstack/moto_serialized.py) at about 2 ms each (figure 1a), so figures 2, 3c, 3d and 4 measure the emulator as much as the code: 1000 pushes are 2000 serialised emulator calls (a push-log claim and an SNS publish). A booking waits for three round trips: the create transaction and marking its event sent (DynamoDB, each at least the floor 1a) and one publish (floor 1b); figure 1 beyond them is the handler itself."
    )?;

    writeln!(
        out,
        "\n![Fan-out and ingest scaling](bench-scaling.png)\n\n![Booking: answer first vs push inline](bench-sync-vs-async.png)"
    )?;
    writeln!(
        out,
        "\nFlamegraphs of the two hottest paths, the booking's round trips, and the optimisations they led to (before/after): [PROFILES.md](PROFILES.md) (`localstack/profile.sh`)."
    )?;

    Ok(())
}

/// Section 8: the monthly cost table is generated from this run's counts (`docs/COSTS.md`).
fn write_costs(out: &mut String) -> anyhow::Result<()> {
    writeln!(out, "\n## 8. What it costs per month\n")?;
    writeln!(
        out,
        "This run's counts (DynamoDB units, SNS publishes, Kafka bytes, durations: `\"counted\"` in `BENCHMARKS.json`) priced at three scales: [COSTS.md](COSTS.md), generated by `weelo-bench costs` with `infra/prices.json` and `infra/cost-model.json`."
    )?;
    Ok(())
}

/// What the cost table multiplies, from this run's figures: the booking of figure 4 (no push
/// delay), figure 3d in the scale's shape, and an ingest run of such requests counted on Kafka.
async fn count_operations(
    settings: &Settings, api: &ApiClient, bookings: &Latencies, fanouts: &[(Duration, FanoutFigure)],
    trip: &TripFigure, minutes: &[(i64, usize, Duration, usize, Tally)],
) -> anyhow::Result<Counted> {
    let per_request = settings.points_per_request;
    let (_, fanout) = fanouts.first().ok_or_else(|| anyhow::anyhow!("no fan-out figure"))?;
    let (_, _, took, points, served) = minutes
        .iter()
        .find(|(refresh, shape, ..)| *refresh == 60 && *shape == per_request)
        .ok_or_else(|| anyhow::anyhow!("no minute of GPS with {per_request} points a request"))?;
    let spinner = step(&format!("ingest, {per_request} points a request, counted"));
    let emulators = Emulators::from_env()?;
    emulators.start().await?;
    let requests = 600;
    let rate = figures::location_ingest(api, per_request, requests, settings.concurrency).await?;
    let ingested = emulators.read().await?;
    spinner.finish();
    let create = Served::from(&fanout.created);
    Ok(Counted {
        measured: format!("{}, local stack: moto and Kafka 4.4", chrono::Utc::now().format("%Y-%m-%d")),
        booking: BookingCounts {
            recipients: fanout.recipients as f64,
            fanout: Served::from(&fanout.counted).minus(&create),
            create,
            api_seconds: bookings.quantile(0.5).as_secs_f64(),
            fanout_seconds: fanout.matched.as_secs_f64(),
            push_seconds: fanout.pushed.as_secs_f64(),
        },
        trip: TripCounts { recipients: trip.recipients as f64, served: Served::from(&trip.counted) },
        gps: GpsCounts {
            points_per_request: per_request as u64,
            consumer: Served::from(served).per(*points as f64),
            consumer_seconds_per_point: took.as_secs_f64() / (*points).max(1) as f64,
            ingest: Served::from(&ingested).per((requests * per_request) as f64),
            api_seconds_per_request: settings.concurrency as f64 * per_request as f64 / rate,
        },
    })
}

fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find_map(|l| l.strip_prefix("model name").map(|m| m.trim_start_matches([' ', '\t', ':']).to_owned()))
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let memory_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse::<u64>().ok())
        })
        .map(|kb| kb as f64 / 1024.0 / 1024.0)
        .unwrap_or(0.0);
    format!("{cores} cores ({cpu}), {memory_gib:.0} GiB, {}", std::env::consts::ARCH)
}

/// Each function's release binary, next to this one, started against a local Runtime API: a
/// trivial first invocation (cold start), then its load.
async fn process_figures(
    api: &ApiClient, customer: &User, city: (f64, f64), transporters: &[User],
) -> anyhow::Result<Vec<(&'static str, String, ProcessFigure)>> {
    let binaries = std::env::current_exe()?.parent().map(std::path::Path::to_path_buf).unwrap_or_default();
    let empty_batch = serde_json::json!({"eventSource": "aws:kafka", "records": {}}).to_string();
    let kafka_event = |records: &[weelo_core::contract::events::EventRecord], partitions: usize| {
        serde_json::to_string(&figures::msk_event_over_partitions(records, partitions).payload)
            .expect("an MSK event serialises")
    };
    let health = weelo_api::gateway_event::http_api_event("GET", "/v1/health", &[], "").to_string();
    let booking_headers = [
        ("content-type".to_owned(), "application/json".to_owned()),
        ("authorization".to_owned(), format!("Bearer {}", customer.token)),
    ];
    let booking = crate::world::booking_at(city).to_string();
    let mut api_events = vec![health];
    api_events.extend((0..20).map(|_| {
        weelo_api::gateway_event::http_api_event("POST", "/v1/bookings", &booking_headers, &booking).to_string()
    }));
    let booking_created = figures::booking_created(api, customer, city).await?;
    let notifications = figures::notifications_for(transporters)?;
    let points = figures::location_records(500, 20)?;
    let scheduled = serde_json::json!({
        "version": "0", "id": "bench", "detail-type": "Scheduled Event", "source": "aws.events",
        "account": "000000000000", "time": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "region": "ap-south-1", "resources": [], "detail": {}
    })
    .to_string();
    let topics = std::fs::read_to_string("infra/definitions/topics.json")?;
    let runs: Vec<(&'static str, String, Vec<String>)> = vec![
        ("api", "20 bookings".into(), api_events),
        (
            "order-fanout",
            format!("booking.created → {} recipients", transporters.len()),
            vec![empty_batch.clone(), kafka_event(&[booking_created], 1)],
        ),
        (
            "fcm-consumer",
            format!("{} notifications → pushes", notifications.len()),
            vec![empty_batch.clone(), kafka_event(&notifications, 12)],
        ),
        ("location-consumer", "10,000-point batch".into(), vec![empty_batch.clone(), kafka_event(&points, 1)]),
        ("outbox-relay", "one scheduled run".into(), vec![scheduled]),
        ("kafka-topics", "topics.json (all exist)".into(), vec![topics]),
    ];
    let mut figures = Vec::new();
    for (name, load, events) in runs {
        let binary = binaries.join(name);
        let figure =
            tokio::task::spawn_blocking(move || crate::coldstart::measure_function(&binary, name, &events)).await??;
        figures.push((name, load, figure));
    }
    Ok(figures)
}

/// The size of each function's arm64 zip in `<target dir>/lambda/<function>/bootstrap.zip`, as
/// `infra/build-zips.sh` leaves them (empty when it has not run).
fn arm64_zip_sizes() -> Vec<(String, u64)> {
    let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
    let dir = std::path::Path::new(&target).join("lambda");
    let mut sizes: Vec<(String, u64)> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let size = std::fs::metadata(entry.path().join("bootstrap.zip")).ok()?.len();
            Some((entry.file_name().to_string_lossy().into_owned(), size))
        })
        .collect();
    sizes.sort();
    sizes
}
