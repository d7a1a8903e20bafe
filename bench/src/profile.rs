//! `weelo-bench profile`: runs one hot path over and over, for a sampling profiler to watch
//! (`localstack/profile.sh` wraps it in `perf record` and draws the flamegraph). Each round prints
//! its rate, so an optimisation shows as a before/after of the same command.

use crate::figures;
use std::time::Instant;

/// The paths `weelo-bench profile` runs in rounds. Ingest and the location-consumer are where the
/// functions spend CPU of their own (flamegraphs); the booking and the fan-out mostly wait on I/O,
/// so their rounds are for timing them step by step.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum HotPath {
    /// The api's booking: 200 `POST /v1/bookings` one after another (figure 1), printing p50/p99:
    /// where the latency the customer waits for goes.
    Booking,
    /// order-fanout and fcm-consumer (figure 4): 1000 transporters seeded once, then per round one
    /// `booking.created` matched, offered and notified, and the 1000 pushes sent.
    Fanout,
    /// order-fanout on orders (figure 4b): the same 1000 transporters, then per round one 50-truck
    /// order (three lines) expanded into truck requests, matched and offered.
    Order,
    /// The api's GPS ingest: 100-point `POST /v1/tracking/location` requests, 8 at a time, into Kafka.
    Ingest,
    /// The location-consumer: 10,000-record batches (500 trucks × 20 points) into DynamoDB.
    LocationConsumer,
    /// The CPU-only core of ingest: 100,000 GPS points made into events as 100-point requests are
    /// (one event, id and CloudEvent JSON per request), no I/O: the part of the ingest path that is ours alone, and stable enough
    /// to compare before/after.
    EventEncoding,
    /// The other CPU-only core of ingest: 1,000 request bodies of 100 GPS points each parsed and
    /// validated into points, as the api does before publishing them.
    BodyParsing,
}

#[derive(Debug, clap::Args)]
pub struct ProfileSettings {
    #[arg(long, value_enum)]
    pub path: HotPath,
    /// How many rounds to run.
    #[arg(long, default_value_t = 5)]
    pub rounds: usize,
}

/// How many transporters the fan-out path offers each booking to (figure 4's load).
const FANOUT_RECIPIENTS: usize = 1000;

/// Runs the rounds; returns one line per round (and prints it as it goes).
pub async fn run(settings: &ProfileSettings) -> anyhow::Result<Vec<String>> {
    let api = weelo_testkit::api::ApiClient::in_process().await;
    let customer = weelo_testkit::api::User::customer();
    let city = crate::world::private_city();
    let no_progress = indicatif::ProgressBar::hidden();
    if matches!(settings.path, HotPath::Fanout | HotPath::Order) {
        let locations = weelo_location_consumer::from_env().await?;
        crate::world::seed_transporters(&api, &locations, city, FANOUT_RECIPIENTS, &no_progress).await?;
    }
    let mut lines = Vec::new();
    for round in 1..=settings.rounds {
        let started = Instant::now();
        let line = match settings.path {
            HotPath::Booking => {
                let latencies = figures::booking_latency(&api, &customer, city, 200, &no_progress).await;
                format!("round {round}: booking {}", latencies.summary())
            }
            HotPath::Fanout => {
                let figure =
                    figures::booking_fanout(&api, &customer, city, std::time::Duration::ZERO, FANOUT_RECIPIENTS)
                        .await?;
                format!(
                    "round {round}: fan-out to {}: match + offers + notifications {} ms, pushes {} ms; counted: {:.0} write units, {:.1} read units, calls {}",
                    figure.recipients,
                    figure.matched.as_millis(),
                    figure.pushed.as_millis(),
                    figure.counted.write_units(),
                    figure.counted.read_units(),
                    figure.counted.calls_per(1.0)
                )
            }
            HotPath::Order => {
                let (took, report, _) = figures::order_fanout(&api, &customer, city).await?;
                format!(
                    "round {round}: 50-truck order: {} truck requests, {} offers, {} notifications in {} ms",
                    report.truck_requests,
                    report.offers,
                    report.notifications,
                    took.as_millis()
                )
            }
            HotPath::Ingest => {
                let rate = figures::location_ingest(&api, 100, 400, 8).await?;
                format!("round {round}: ingest {rate:.0} points/s")
            }
            HotPath::LocationConsumer => {
                let (took, records) = figures::location_consumer(500, 20).await?;
                format!(
                    "round {round}: location-consumer {records} records in {} ms → {:.0} records/s",
                    took.as_millis(),
                    records as f64 / took.as_secs_f64()
                )
            }
            HotPath::EventEncoding => {
                let (took, events) = encode_location_events(100_000)?;
                format!("round {round}: event encoding {:.0} points/s", events as f64 / took.as_secs_f64())
            }
            HotPath::BodyParsing => {
                let (took, points) = parse_location_bodies(1_000)?;
                format!("round {round}: body parsing {:.0} points/s", points as f64 / took.as_secs_f64())
            }
        };
        eprintln!("{line} ({} ms wall)", started.elapsed().as_millis());
        lines.push(line);
    }
    Ok(lines)
}

/// Makes `n` GPS points into event records as the api's ingest does for 100-point requests (one
/// event per request); returns the time and the number of points.
fn encode_location_events(n: usize) -> anyhow::Result<(std::time::Duration, usize)> {
    use weelo_core::contract::events::{DomainEvent, LocationsReported};
    use weelo_core::model::ids::{EventId, UserId};
    use weelo_core::model::location::LocationPoint;
    const PER_REQUEST: usize = 100;
    let transporter = UserId::parse("bench-truck-encoding")?;
    let now = chrono::Utc::now();
    let started = Instant::now();
    let mut bytes = 0usize;
    for request in 0..n.div_ceil(PER_REQUEST) {
        let points = (0..PER_REQUEST)
            .map(|i| LocationPoint {
                lat: 19.0 + ((request * PER_REQUEST + i) % 1000) as f64 / 10_000.0,
                lng: 72.8,
                recorded_at: now,
                speed_kmh: Some(40.0),
                heading_deg: None,
                accuracy_m: None,
            })
            .collect();
        let event = DomainEvent::LocationsReported(LocationsReported { transporter_id: transporter.clone(), points });
        bytes += event.to_record(EventId::generate(), "/weelo/api", now).payload.len();
    }
    anyhow::ensure!(bytes > 0, "no event was encoded");
    Ok((started.elapsed(), n.div_ceil(PER_REQUEST) * PER_REQUEST))
}

/// Parses `n` 100-point location bodies (every optional field present, as truck apps send them);
/// returns the time and the number of points.
fn parse_location_bodies(n: usize) -> anyhow::Result<(std::time::Duration, usize)> {
    let now = chrono::Utc::now();
    let body = serde_json::to_vec(&serde_json::json!({
        "points": (0..100).map(|i| serde_json::json!({
            "lat": 19.0 + f64::from(i) / 10_000.0,
            "lng": 72.8 + f64::from(i) / 10_000.0,
            "recordedAt": (now - chrono::Duration::seconds(5 * i64::from(100 - i))).to_rfc3339(),
            "speedKmh": 42.5,
            "headingDeg": 181.25,
            "accuracyM": 8.0,
        })).collect::<Vec<_>>()
    }))?;
    let started = Instant::now();
    let mut points = 0usize;
    for _ in 0..n {
        points += weelo_core::contract::requests::parse_location_body(&body, now)
            .map_err(|problems| anyhow::anyhow!("the benchmark's body was refused: {problems:?}"))?
            .len();
    }
    anyhow::ensure!(points == 100 * n, "parsed {points} points, expected {}", 100 * n);
    Ok((started.elapsed(), points))
}
