//! Writing the markdown report, one function per section, and the charts' data.

use super::*;

/// The header and the table of figures 1–5 and 7.
pub(super) fn write_figures(out: &mut String, settings: &Settings, m: &Measured) -> anyhow::Result<()> {
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
pub(super) fn write_scaling(out: &mut String, m: &Measured) -> anyhow::Result<()> {
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
pub(super) fn chart_data(m: &Measured) -> serde_json::Value {
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
pub(super) fn write_targets(out: &mut String, m: &Measured) -> anyhow::Result<()> {
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
pub(super) fn write_costs(out: &mut String) -> anyhow::Result<()> {
    writeln!(out, "\n## 8. What it costs per month\n")?;
    writeln!(
        out,
        "This run's counts (DynamoDB units, SNS publishes, Kafka bytes, durations: `\"counted\"` in `BENCHMARKS.json`) priced at three scales: [COSTS.md](COSTS.md), generated by `weelo-bench costs` with `infra/prices.json` and `infra/cost-model.json`."
    )?;
    Ok(())
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
