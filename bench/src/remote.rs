//! The load generator against a running API over HTTP — a deployed one (`api_url` output of
//! infra/terraform) or the local one under `weelo-local functions`: simulated trucks stream GPS every
//! few seconds and customers book at a steady rate, with live progress and a latency/throughput
//! summary at the end.

use crate::stats::{Latencies, ms};
use indicatif::ProgressBar;
use serde_json::json;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, clap::Args)]
pub struct RemoteSettings {
    /// Base URL of the API, e.g. https://<id>.execute-api.<region>.amazonaws.com or
    /// http://127.0.0.1:9000/lambda-url/api.
    #[arg(long)]
    pub api_url: String,
    /// A file with one transporter token per line: each is one simulated truck.
    #[arg(long)]
    pub transporter_tokens: PathBuf,
    /// A file with one customer token per line, used in turn.
    #[arg(long)]
    pub customer_tokens: PathBuf,
    /// Seconds between two GPS points of one truck.
    #[arg(long, default_value_t = 5)]
    pub gps_every_secs: u64,
    /// Bookings per second, over all customers.
    #[arg(long, default_value_t = 1.0)]
    pub bookings_per_sec: f64,
    #[arg(long, default_value_t = 60)]
    pub duration_secs: u64,
    /// Where the trucks drive and the customers book (default: Mumbai).
    #[arg(long, default_value_t = 19.076)]
    pub lat: f64,
    #[arg(long, default_value_t = 72.8777)]
    pub lng: f64,
}

#[derive(Default)]
struct Tally {
    gps: Latencies,
    bookings: Latencies,
    /// Answers other than the expected status, by status (0 = no answer).
    errors: std::collections::BTreeMap<u16, usize>,
}

fn read_tokens(path: &PathBuf) -> anyhow::Result<Vec<String>> {
    let tokens: Vec<String> =
        std::fs::read_to_string(path)?.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect();
    anyhow::ensure!(!tokens.is_empty(), "{} holds no tokens", path.display());
    Ok(tokens)
}

async fn send(
    client: &reqwest::Client, method: reqwest::Method, url: String, token: &str, body: serde_json::Value,
) -> (u16, Duration) {
    let started = Instant::now();
    let status = match client.request(method, url).bearer_auth(token).json(&body).send().await {
        Ok(response) => response.status().as_u16(),
        Err(_) => 0,
    };
    (status, started.elapsed())
}

/// Runs the load for the configured duration; returns the markdown summary.
pub async fn run(settings: &RemoteSettings) -> anyhow::Result<String> {
    let trucks = read_tokens(&settings.transporter_tokens)?;
    let customers = read_tokens(&settings.customer_tokens)?;
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build()?;
    let base = settings.api_url.trim_end_matches('/').to_owned();
    let tally = Arc::new(Mutex::new(Tally::default()));
    let deadline = Instant::now() + Duration::from_secs(settings.duration_secs);
    let progress = ProgressBar::new_spinner();
    progress.enable_steady_tick(Duration::from_millis(500));

    let mut tasks = tokio::task::JoinSet::new();
    for (n, token) in trucks.iter().cloned().enumerate() {
        let (client, base, tally, every) = (client.clone(), base.clone(), tally.clone(), settings.gps_every_secs);
        let (mut lat, mut lng) = (settings.lat + (n % 20) as f64 * 0.002, settings.lng + (n / 20) as f64 * 0.002);
        tasks.spawn(async move {
            let profile = json!({"vehicleTypes": ["tipper"], "available": true});
            let (status, _) =
                send(&client, reqwest::Method::PUT, format!("{base}/v1/transporters/me"), &token, profile).await;
            if status != 200 {
                *tally.lock().expect("not poisoned").errors.entry(status).or_default() += 1;
            }
            // Trucks start spread over the interval, as real phones would.
            tokio::time::sleep(Duration::from_millis((n as u64 * 997) % (every * 1000).max(1))).await;
            let mut ticker = tokio::time::interval(Duration::from_secs(every.max(1)));
            while Instant::now() < deadline {
                ticker.tick().await;
                (lat, lng) = (lat + 0.0003, lng + 0.0002);
                let point = json!({"lat": lat, "lng": lng, "recordedAt": chrono::Utc::now().to_rfc3339()});
                let url = format!("{base}/v1/tracking/location");
                let (status, took) = send(&client, reqwest::Method::POST, url, &token, point).await;
                let mut tally = tally.lock().expect("not poisoned");
                if status == 202 { tally.gps.record(took) } else { *tally.errors.entry(status).or_default() += 1 }
            }
        });
    }
    {
        let (client, base, tally) = (client.clone(), base.clone(), tally.clone());
        let (rate, centre) = (settings.bookings_per_sec.max(0.01), (settings.lat, settings.lng));
        tasks.spawn(async move {
            let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
            let mut n = 0usize;
            let mut inflight = tokio::task::JoinSet::new();
            while Instant::now() < deadline {
                ticker.tick().await;
                let token = customers[n % customers.len()].clone();
                n += 1;
                let body = json!({"pickup": {"lat": centre.0, "lng": centre.1},
                                  "drop": {"lat": centre.0 + 0.3, "lng": centre.1}, "vehicleType": "tipper"});
                let (client, url, tally) = (client.clone(), format!("{base}/v1/bookings"), tally.clone());
                inflight.spawn(async move {
                    let (status, took) = send(&client, reqwest::Method::POST, url, &token, body).await;
                    let mut tally = tally.lock().expect("not poisoned");
                    if status == 201 {
                        tally.bookings.record(took)
                    } else {
                        *tally.errors.entry(status).or_default() += 1
                    }
                });
            }
            while inflight.join_next().await.is_some() {}
        });
    }
    let started = Instant::now();
    while !tasks.is_empty() {
        tokio::select! {
            _ = tasks.join_next() => {}
            _ = tokio::time::sleep(Duration::from_secs(1)) => {
                let tally = tally.lock().expect("not poisoned");
                progress.set_message(format!(
                    "{:>4}s  GPS {} (p99 {})  bookings {} (p99 {})  errors {}",
                    started.elapsed().as_secs(),
                    tally.gps.count(),
                    ms(tally.gps.quantile(0.99)),
                    tally.bookings.count(),
                    ms(tally.bookings.quantile(0.99)),
                    tally.errors.values().sum::<usize>()
                ));
            }
        }
    }
    progress.finish_and_clear();
    let elapsed = started.elapsed().as_secs_f64();
    let tally = tally.lock().expect("not poisoned");
    Ok(format!(
        "\n## Over HTTP (`weelo-bench remote`)\n\n| run | result |\n|---|---|\n| against `{}`, {} trucks (a point every {} s) + {} bookings/s for {} s | GPS {} → {:.0}/s · bookings {} → {:.1}/s · non-2xx {:?} |\n",
        settings.api_url,
        trucks.len(),
        settings.gps_every_secs,
        settings.bookings_per_sec,
        settings.duration_secs,
        tally.gps.summary(),
        tally.gps.count() as f64 / elapsed,
        tally.bookings.summary(),
        tally.bookings.count() as f64 / elapsed,
        tally.errors
    ))
}
