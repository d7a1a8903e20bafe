//! Measuring: each group of figures in order, and what the cost table multiplies.

use super::*;

pub(super) async fn measure(settings: &Settings) -> anyhow::Result<Measured> {
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
