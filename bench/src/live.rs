//! Live tracking (docs/live-tracking.md) over a running local stack: the api and the live-socket
//! function under `weelo-local functions` (its WebSocket gateway), a bridge delivering to the
//! live-tracking consumer. Two figures:
//!
//! - **point → client**: a customer subscribed to their accepted booking; the truck posts points
//!   one per request at a steady pace; the time from sending a point to the api until the client
//!   reads it from its socket (api → Kafka → bridge → live-tracking → `@connections` → socket).
//! - **fan-out**: `subscribers` clients watch the same booking; one live-tracking invocation
//!   (in-process, the real use case and adapters) posts one point to all of them. Reported whole
//!   (with the DynamoDB emulator's `lastSentMs` writes) and as the posts alone (the SDK client to
//!   the local gateway), so the figure the emulator bounds is told apart.

use crate::stats::{Latencies, ms, per_second};
use futures::{SinkExt, StreamExt, stream};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;
use weelo_core::contract::events::LocationUpdated;
use weelo_core::model::ids::UserId;
use weelo_core::model::live::{ConnectionId, LiveMessage};
use weelo_core::model::location::LocationPoint;
use weelo_core::ports::ConnectionPoster;

#[derive(Debug, Clone, clap::Args)]
pub struct LiveSettings {
    /// The api, e.g. http://127.0.0.1:9030/lambda-url/api.
    #[arg(long)]
    pub api_url: String,
    /// The WebSocket, e.g. ws://127.0.0.1:9030/websocket.
    #[arg(long)]
    pub socket_url: String,
    /// The `@connections` endpoint, e.g. http://127.0.0.1:9030/websocket.
    #[arg(long)]
    pub connections_url: String,
    #[arg(long)]
    pub customer_token: String,
    #[arg(long)]
    pub transporter_token: String,
    /// The transporter token's `sub`.
    #[arg(long)]
    pub transporter_id: String,
    #[arg(long, default_value_t = 500)]
    pub points: usize,
    /// Milliseconds between two points of the truck.
    #[arg(long, default_value_t = 100)]
    pub every_ms: u64,
    #[arg(long, default_value_t = 1000)]
    pub subscribers: usize,
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

struct Api {
    client: reqwest::Client,
    base: String,
}

impl Api {
    async fn call(&self, method: reqwest::Method, path: &str, token: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self.client.request(method, format!("{}{path}", self.base)).bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        match request.send().await {
            Ok(response) => (response.status().as_u16(), response.json().await.unwrap_or(Value::Null)),
            Err(_) => (0, Value::Null),
        }
    }
}

/// Runs both figures; returns the markdown section.
pub async fn run(settings: &LiveSettings) -> anyhow::Result<String> {
    let api = Api { client: reqwest::Client::new(), base: settings.api_url.trim_end_matches('/').to_owned() };
    let centre = weelo_testkit::private_city();
    let booking = accepted_booking(&api, settings, centre).await?;
    eprintln!("live: booking {booking} accepted; {} points every {} ms", settings.points, settings.every_ms);
    let (received, latencies) = point_to_client(&api, settings, &booking, centre).await?;
    eprintln!("live: {} subscribers", settings.subscribers);
    let fan_out = fan_out(settings, &booking, centre).await?;
    Ok(format!(
        "\n## Live tracking (local WebSocket gateway)\n\n\
         Measured over `weelo-local functions` (release) with a bridge, against the native local stack; \
         the DynamoDB emulator serialises every request, so these figures bound what AWS does, they do \
         not predict it.\n\n\
         | figure | value |\n|---|---|\n\
         | point posted → a subscribed client holds it or a newer one, over {} points | {} ({received} posts received: a batch is coalesced to its newest point) |\n\
         {fan_out}",
        settings.points,
        latencies.summary(),
    ))
}

/// A booking of the customer, accepted by the transporter.
async fn accepted_booking(api: &Api, s: &LiveSettings, at: (f64, f64)) -> anyhow::Result<String> {
    let profile = json!({"vehicleTypes": ["tipper"], "available": true});
    let (status, _) = api.call(reqwest::Method::PUT, "/v1/transporters/me", &s.transporter_token, Some(profile)).await;
    anyhow::ensure!(status == 200, "setting the transporter's profile answered {status}");
    point(api, s, at, chrono::Utc::now()).await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let body = json!({"pickup": {"lat": at.0, "lng": at.1}, "drop": {"lat": at.0 + 0.2, "lng": at.1}, "vehicleType": "tipper"});
    let (status, booked) = api.call(reqwest::Method::POST, "/v1/bookings", &s.customer_token, Some(body)).await;
    anyhow::ensure!(status == 201, "booking answered {status}: {booked}");
    let booking = booked["bookingId"].as_str().unwrap_or_default().to_owned();
    for _ in 0..120 {
        let path = format!("/v1/bookings/{booking}/accept");
        let (status, _) = api.call(reqwest::Method::POST, &path, &s.transporter_token, None).await;
        if status == 200 {
            return Ok(booking);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    anyhow::bail!("the transporter was never offered booking {booking} (is the bridge running?)")
}

async fn point(
    api: &Api, s: &LiveSettings, (lat, lng): (f64, f64), at: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<()> {
    let body = json!({"lat": lat, "lng": lng, "recordedAt": at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)});
    let (status, _) = api.call(reqwest::Method::POST, "/v1/tracking/location", &s.transporter_token, Some(body)).await;
    anyhow::ensure!(status == 202, "a GPS point answered {status}");
    Ok(())
}

async fn subscribe(s: &LiveSettings, booking: &str) -> anyhow::Result<Socket> {
    let (mut socket, _) =
        tokio_tungstenite::connect_async(format!("{}?token={}", s.socket_url, s.customer_token)).await?;
    let request = json!({"action": "subscribe", "booking": booking}).to_string();
    socket.send(Message::Text(request.into())).await?;
    while let Some(frame) = socket.next().await {
        if let Message::Text(text) = frame? {
            let answer: Value = serde_json::from_str(&text)?;
            anyhow::ensure!(answer["type"] == "subscribed", "subscribe answered {answer}");
            return Ok(socket);
        }
    }
    anyhow::bail!("the socket closed before subscribe was answered")
}

/// Posts `points` and times each one until the client holds it or a newer one: what a watcher
/// sees of a point, since a batch is coalesced to its newest point per truck.
async fn point_to_client(
    api: &Api, s: &LiveSettings, booking: &str, at: (f64, f64),
) -> anyhow::Result<(usize, Latencies)> {
    let mut socket = subscribe(s, booking).await?;
    let pending: Arc<Mutex<BTreeMap<i64, Instant>>> = Arc::default();
    let latencies = Arc::new(Mutex::new(Latencies::default()));
    let received = Arc::new(AtomicUsize::new(0));
    let reader = {
        let (pending, latencies, received) = (pending.clone(), latencies.clone(), received.clone());
        tokio::spawn(async move {
            while let Some(Ok(Message::Text(text))) = socket.next().await {
                let Ok(message) = serde_json::from_str::<Value>(&text) else { continue };
                let Some(at) = message["recordedAt"].as_str() else { continue };
                let Ok(at) = at.parse::<chrono::DateTime<chrono::Utc>>() else { continue };
                received.fetch_add(1, Ordering::Relaxed);
                let mut pending = pending.lock().expect("not poisoned");
                let newer = pending.split_off(&(at.timestamp_millis() + 1));
                let seen = std::mem::replace(&mut *pending, newer);
                let mut latencies = latencies.lock().expect("not poisoned");
                seen.values().for_each(|sent| latencies.record(sent.elapsed()));
            }
        })
    };
    let mut ticker = tokio::time::interval(Duration::from_millis(s.every_ms.max(1)));
    let first = chrono::Utc::now();
    for i in 0..s.points {
        ticker.tick().await;
        let recorded = first + chrono::Duration::milliseconds(i as i64 * s.every_ms as i64);
        pending.lock().expect("not poisoned").insert(recorded.timestamp_millis(), Instant::now());
        point(api, s, (at.0 + i as f64 * 1e-5, at.1), recorded).await?;
    }
    tokio::time::sleep(Duration::from_secs(10)).await;
    reader.abort();
    let latencies = std::mem::take(&mut *latencies.lock().expect("not poisoned"));
    Ok((received.load(Ordering::Relaxed), latencies))
}

/// `subscribers` clients on the booking, then one invocation's posts to all of them.
async fn fan_out(s: &LiveSettings, booking: &str, at: (f64, f64)) -> anyhow::Result<String> {
    let sockets: Vec<Socket> = stream::iter(0..s.subscribers)
        .map(|_| subscribe(s, booking))
        .buffer_unordered(32)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_, _>>()?;
    let got = Arc::new(AtomicUsize::new(0));
    let mut readers = Vec::new();
    for mut socket in sockets {
        let got = got.clone();
        readers.push(tokio::spawn(async move {
            while let Some(Ok(Message::Text(text))) = socket.next().await {
                if text.contains("\"type\":\"position\"") {
                    got.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    let settings = weelo_live_tracking::Settings {
        connections_url: s.connections_url.clone(),
        ..weelo_live_tracking::Settings::from_env()?
    };
    let consumer = weelo_live_tracking::connect(&settings).await?;
    let truck = UserId::parse(&s.transporter_id)?;
    let mut rounds = Vec::new();
    for round in 0..3 {
        let recorded_at = chrono::Utc::now() + chrono::Duration::seconds(60 + round);
        let point =
            LocationPoint { lat: at.0, lng: 0.0, recorded_at, speed_kmh: None, heading_deg: None, accuracy_m: None };
        let started = Instant::now();
        let report = consumer.on_points(&[LocationUpdated { transporter_id: truck.clone(), point }]).await?;
        rounds.push((report.posts, started.elapsed()));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    // The posts alone: the SDK client to the gateway, as many in flight as the consumer allows.
    let watches = weelo_core::ports::LiveStore::watchers_of_transporter(&weelo_testkit::store().await, &truck).await?;
    let connections: Vec<ConnectionId> = watches.into_iter().map(|watch| watch.connection).collect();
    let aws = weelo_aws::sdk_config(settings.store.sdk).await;
    let poster = weelo_connections::ApiGatewayPoster::from_config(&aws, &s.connections_url);
    let message = LiveMessage::Error { message: "bench".into() }.to_json();
    let started = Instant::now();
    let posted: usize = stream::iter(&connections)
        .map(|id| {
            let (poster, message) = (&poster, &message);
            async move { usize::from(poster.post(id, message).await.is_ok()) }
        })
        .buffer_unordered(weelo_core::usecases::live::POST_CONCURRENCY)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .sum();
    let posts_only = started.elapsed();
    for reader in readers {
        reader.abort();
    }
    let (posts, took) = rounds[rounds.len() / 2];
    Ok(format!(
        "| one live-tracking invocation, one point to {} subscribers (median of 3) | {posts} posts in {} = {:.0} posts/s (with a `lastSentMs` write each on the emulator) |\n\
         | the same posts alone (SDK client → local gateway, {} in flight) | {posted} posts in {} = {:.0} posts/s |\n\
         | clients that received the invocations' points | {} of {} |\n",
        s.subscribers,
        ms(took),
        per_second(posts, took),
        weelo_core::usecases::live::POST_CONCURRENCY,
        ms(posts_only),
        per_second(posted, posts_only),
        got.load(Ordering::Relaxed),
        3 * s.subscribers,
    ))
}
