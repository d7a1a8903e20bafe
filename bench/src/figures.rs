//! Each figure of the report, measured on the real handlers against the native local stack.

use crate::baseline::{DelayedSender, InlinePushBus};
use crate::counts::{Emulators, Tally};
use crate::stats::{Latencies, per_second};
use crate::world::booking_at;
use async_trait::async_trait;
use aws_lambda_events::kafka::KafkaEvent;
use chrono::DurationRound;
use futures::{StreamExt, stream};
use indicatif::ProgressBar;
use lambda_runtime::{Context, LambdaEvent};
use serde_json::json;
use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use weelo_core::contract::events::{DomainEvent, EventRecord, FcmNotification, LocationUpdated, LocationsReported};
use weelo_core::model::ids::{BookingId, EventId, OrderId, UserId};
use weelo_core::model::location::LocationPoint;
use weelo_core::ports::{BookingStore, EventBus, OrderStore, PublishError};
use weelo_core::usecases::fanout::Fanout;
use weelo_core::usecases::push::Push;
use weelo_dynamo::DynamoStore;
use weelo_kafka::KafkaEventBus;
use weelo_sns::SnsPushSender;
use weelo_testkit::api::{Answer, ApiClient, User};

/// Partitions of `notification.fcm` (infra/definitions/topics.json): the fcm-consumer handles
/// them in parallel, so the fan-out figure spreads the notifications over as many.
const NOTIFICATION_PARTITIONS: usize = 12;

/// Figure 1: `POST /v1/bookings` through the api handler, in-process, one after another, each
/// with its own `Idempotency-Key` as the customer app sends them (the path a real booking takes).
pub async fn booking_latency(
    api: &ApiClient, customer: &User, centre: (f64, f64), n: usize, progress: &ProgressBar,
) -> Latencies {
    // The first requests open connections to every partition leader; they are not the steady state.
    const WARM_UP: usize = 20;
    let mut latencies = Latencies::default();
    let body = booking_at(centre);
    for i in 0..n + WARM_UP {
        let started = Instant::now();
        let key = EventId::generate().to_string();
        let answer = api
            .call_with("POST", "/v1/bookings", Some(customer), Some(body.clone()), &[("idempotency-key", &key)])
            .await;
        if i >= WARM_UP {
            latencies.record(started.elapsed());
            progress.inc(1);
        }
        assert_eq!(answer.status, 201, "{answer:?}");
    }
    latencies
}

/// The emulators' floor under figure 1: one DynamoDB read and one Kafka publish, each alone.
pub async fn io_floor(api: &ApiClient, n: usize) -> anyhow::Result<(Latencies, Latencies)> {
    let store = &api.app().store;
    let mut dynamo = Latencies::default();
    for _ in 0..n {
        let started = Instant::now();
        store.get_booking(BookingId::generate()).await?;
        dynamo.record(started.elapsed());
    }
    weelo_kafka::ensure_topics(
        &weelo_kafka::KafkaConfig::from_env()?,
        &[weelo_kafka::TopicDefinition { name: "bench.noise".into(), partitions: 1, retention_ms: 3_600_000 }],
        1,
    )
    .await?;
    let mut kafka = Latencies::default();
    for _ in 0..n {
        let record = EventRecord {
            event_id: EventId::generate(),
            topic: "bench.noise".into(),
            key: "bench".into(),
            payload: "{}".into(),
        };
        let started = Instant::now();
        api.app().bus.publish(&[record]).await.map_err(|e| anyhow::anyhow!(e.0))?;
        kafka.record(started.elapsed());
    }
    Ok((dynamo, kafka))
}

/// Builds the order-fanout use case with the configuration the function reads, over `bus`, with
/// at most `max_recipients` transporters per booking if given.
pub async fn fanout_over<B: EventBus>(bus: B, max_recipients: Option<usize>) -> anyhow::Result<Fanout<DynamoStore, B>> {
    let mut settings = weelo_order_fanout::Settings::from_env()?;
    if let Some(max) = max_recipients {
        settings.fanout.policy.max_candidates = max;
    }
    let (_, store) = settings.store.connect().await;
    Ok(Fanout::new(store, bus, settings.fanout))
}

/// The fcm-consumer's push use case, with `delay` before each push.
pub async fn push_service(delay: Duration) -> anyhow::Result<Push<DynamoStore, DelayedSender<SnsPushSender>>> {
    let settings = weelo_fcm_consumer::Settings::from_env()?;
    let (aws, store) = settings.store.connect().await;
    let sender = DelayedSender { inner: SnsPushSender::new(aws_sdk_sns::Client::new(&aws)), delay };
    Ok(Push::new(store, sender, settings.claim_lease))
}

/// Figure 2: the synchronous baseline. One booking = create it, match, offer, and push to every
/// phone, all before the answer.
pub async fn synchronous_booking(
    api: &ApiClient, fanout: &Fanout<DynamoStore, InlinePushBus<DynamoStore, DelayedSender<SnsPushSender>>>,
    customer: &User, centre: (f64, f64),
) -> anyhow::Result<(Duration, usize)> {
    let started = Instant::now();
    let Answer { status, body: answer, .. } =
        api.call("POST", "/v1/bookings", Some(customer), Some(booking_at(centre))).await;
    anyhow::ensure!(status == 201, "booking: {status} {answer}");
    let id = BookingId::parse(answer["bookingId"].as_str().unwrap_or_default())?;
    let booking = api.app().store.get_booking(id).await?.ok_or_else(|| anyhow::anyhow!("booking vanished"))?;
    let report = fanout.on_event(EventId::generate(), &DomainEvent::BookingCreated(booking)).await?;
    Ok((started.elapsed(), report.notifications))
}

/// Kafka, plus a copy of everything published: lets the fan-out figure hand the fcm-consumer
/// exactly the notifications order-fanout produced.
#[derive(Clone)]
pub struct RecordingBus {
    pub kafka: KafkaEventBus,
    pub published: Arc<Mutex<Vec<EventRecord>>>,
}

#[async_trait]
impl EventBus for RecordingBus {
    async fn publish(&self, records: &[EventRecord]) -> Result<(), PublishError> {
        self.kafka.publish(records).await?;
        self.published.lock().expect("not poisoned").extend_from_slice(records);
        Ok(())
    }
}

/// An MSK event holding `records` spread over `partitions` partitions by key, as Kafka would.
pub fn msk_event_over_partitions(records: &[EventRecord], partitions: usize) -> LambdaEvent<KafkaEvent> {
    let mut next_offset: HashMap<i32, i64> = HashMap::new();
    let consumed: Vec<_> = records
        .iter()
        .map(|record| {
            let mut hasher = DefaultHasher::new();
            record.key.hash(&mut hasher);
            let partition = (hasher.finish() % partitions as u64) as i32;
            let offset = next_offset.entry(partition).or_default();
            *offset += 1;
            weelo_testkit::consumed(
                &record.topic,
                partition,
                *offset - 1,
                record.key.as_bytes(),
                record.payload.as_bytes(),
            )
        })
        .collect();
    LambdaEvent::new(weelo_testkit::msk_event_of(&consumed), Context::default())
}

/// Figure 4: `booking.created` → order-fanout (match, offers, 1000 notifications on Kafka) →
/// fcm-consumer (1000 pushes through SNS), each stage timed; the Kafka hop between them is not.
pub async fn booking_fanout(
    api: &ApiClient, customer: &User, centre: (f64, f64), push_delay: Duration, max_recipients: usize,
) -> anyhow::Result<FanoutFigure> {
    // What the booking, its fan-out and its pushes cost the emulators, without the benchmark's
    // own read of the booking.
    let emulators = Emulators::from_env()?;
    emulators.start().await?;
    let Answer { status, body: answer, .. } =
        api.call("POST", "/v1/bookings", Some(customer), Some(booking_at(centre))).await;
    anyhow::ensure!(status == 201, "booking: {status} {answer}");
    let created = emulators.read().await?;
    let mut counted = created.clone();
    let id = BookingId::parse(answer["bookingId"].as_str().unwrap_or_default())?;
    let booking = api.app().store.get_booking(id).await?.ok_or_else(|| anyhow::anyhow!("booking vanished"))?;
    emulators.start().await?;
    let kafka = KafkaEventBus::connect(&weelo_kafka::KafkaConfig::from_env()?).await?;
    let bus = RecordingBus { kafka, published: Arc::default() };
    let fanout = fanout_over(bus.clone(), Some(max_recipients)).await?;
    let started = Instant::now();
    let report = fanout.on_event(EventId::generate(), &DomainEvent::BookingCreated(booking)).await?;
    let matched = started.elapsed();
    let notifications = std::mem::take(&mut *bus.published.lock().expect("not poisoned"));
    let consumer = weelo_msk::Consumer::new(push_service(push_delay).await?, weelo_msk::FailureReporting::default());
    let started = Instant::now();
    let response =
        weelo_fcm_consumer::handle(&consumer, msk_event_over_partitions(&notifications, NOTIFICATION_PARTITIONS))
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    let pushed = started.elapsed();
    anyhow::ensure!(response.is_success(), "pushes failed: {response:?}");
    counted += emulators.read().await?;
    Ok(FanoutFigure { recipients: report.notifications, matched, pushed, created, counted })
}

pub struct FanoutFigure {
    pub recipients: usize,
    /// booking.created handled: matched, offers written, notifications acknowledged by Kafka.
    pub matched: Duration,
    /// The notifications handled by the fcm-consumer: one push per phone.
    pub pushed: Duration,
    /// What the booking's creation made the emulators do (the api's request).
    pub created: Tally,
    /// What the booking, the fan-out and the pushes made the emulators do.
    pub counted: Tally,
}

/// Figure 4b: a 50-truck order from `order.created` to every truck request written and every line offered;
/// returns the time, what order-fanout reported doing, and what the order's creation and its
/// fan-out made the emulators do (not the benchmark's own read of the order).
pub async fn order_fanout(
    api: &ApiClient, customer: &User, centre: (f64, f64),
) -> anyhow::Result<(Duration, weelo_core::usecases::fanout::FanoutReport, Tally)> {
    let body = json!({
        "pickup": {"lat": centre.0, "lng": centre.1}, "drop": {"lat": centre.0 + 0.3, "lng": centre.1},
        "trucks": [{"vehicleType": "tipper", "quantity": 10}, {"vehicleType": "container", "quantity": 20},
                   {"vehicleType": "open", "quantity": 20}]
    });
    let emulators = Emulators::from_env()?;
    emulators.start().await?;
    let Answer { status, body: answer, .. } = api.call("POST", "/v1/orders", Some(customer), Some(body.clone())).await;
    anyhow::ensure!(status == 201, "order: {status} {answer}");
    let mut counted = emulators.read().await?;
    let id = OrderId::parse(answer["orderId"].as_str().unwrap_or_default())?;
    let view = api.app().store.get_order(id).await?.ok_or_else(|| anyhow::anyhow!("order vanished"))?;
    emulators.start().await?;
    let kafka = KafkaEventBus::connect(&weelo_kafka::KafkaConfig::from_env()?).await?;
    let fanout = fanout_over(kafka, None).await?;
    let started = Instant::now();
    let report = fanout.on_event(EventId::generate(), &DomainEvent::OrderCreated(view.order)).await?;
    let took = started.elapsed();
    counted += emulators.read().await?;
    Ok((took, report, counted))
}

/// Figure 3a: GPS points through the api's ingest path into Kafka, `per_request` points per
/// request, `concurrency` requests at a time; returns points per second.
pub async fn location_ingest(
    api: &ApiClient, per_request: usize, requests: usize, concurrency: usize,
) -> anyhow::Result<f64> {
    let drivers: Vec<User> = (0..concurrency).map(|_| User::transporter()).collect();
    let now = chrono::Utc::now();
    let points: Vec<_> = (0..per_request)
        .map(|n| json!({"lat": 19.0 + n as f64 / 10_000.0, "lng": 72.8, "recordedAt": (now - chrono::Duration::seconds(n as i64)).to_rfc3339()}))
        .collect();
    let body = if per_request == 1 { points[0].clone() } else { json!({"points": points}) };
    let started = Instant::now();
    let statuses: Vec<u16> = stream::iter(0..requests)
        .map(|i| {
            let (driver, body) = (&drivers[i % drivers.len()], &body);
            async move { api.call("POST", "/v1/tracking/location", Some(driver), Some(body.clone())).await.status }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let took = started.elapsed();
    anyhow::ensure!(statuses.iter().all(|s| *s == 202), "ingest refused some points");
    Ok(per_second(per_request * requests, took))
}

/// `points_per_truck` GPS points for each of `trucks` new trucks, the newest last.
pub fn location_records(trucks: usize, points_per_truck: usize) -> anyhow::Result<Vec<EventRecord>> {
    let now = chrono::Utc::now();
    let mut records = Vec::with_capacity(trucks * points_per_truck);
    for truck in 0..trucks {
        let transporter = UserId::parse(&weelo_testkit::unique("bench-truck"))?;
        for n in 0..points_per_truck {
            let point = LocationPoint {
                lat: 19.0 + n as f64 / 1000.0,
                lng: 72.8 + truck as f64 / 10_000.0,
                recorded_at: now - chrono::Duration::seconds((points_per_truck - n) as i64),
                speed_kmh: None,
                heading_deg: None,
                accuracy_m: None,
            };
            // One point per record, as the api publishes a truck app's 5-second single points.
            let reported = LocationsReported { transporter_id: transporter.clone(), points: vec![point] };
            records.push(DomainEvent::LocationsReported(reported).to_record(EventId::generate(), "/weelo/bench", now));
        }
    }
    Ok(records)
}

/// The bytes (key and value) of the record the api publishes for a request of `points` GPS
/// points, each with every optional field, from a transporter with a Cognito-style UUID id.
pub fn location_request_bytes(points: usize) -> anyhow::Result<usize> {
    let transporter_id = UserId::parse("0b9c5b6e-1f0e-4c3a-9d52-3c4f5e6a7b8c")?;
    let now = chrono::Utc::now();
    let points = (0..points)
        .map(|n| LocationPoint {
            lat: 19.012_345_6 + n as f64 / 10_000.0,
            lng: 72.812_345_6,
            recorded_at: now - chrono::Duration::seconds(5 * n as i64),
            speed_kmh: Some(42.5),
            heading_deg: Some(181.25),
            accuracy_m: Some(8.0),
        })
        .collect();
    let record = DomainEvent::LocationsReported(LocationsReported { transporter_id, points }).to_record(
        EventId::generate(),
        "/weelo/api",
        now,
    );
    Ok(record.key.len() + record.payload.len())
}

/// Figure 3b: one 10,000-record batch (500 trucks × 20 points) through the location-consumer.
pub async fn location_consumer(trucks: usize, points_per_truck: usize) -> anyhow::Result<(Duration, usize)> {
    let consumer = weelo_location_consumer::from_env().await?;
    let records = location_records(trucks, points_per_truck)?;
    let event = msk_event_over_partitions(&records, 1);
    let started = Instant::now();
    let response = weelo_location_consumer::handle(&consumer, event).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let took = started.elapsed();
    anyhow::ensure!(response.is_success(), "location batch failed: {response:?}");
    Ok((took, records.len()))
}

/// One notification for each of `people`, as order-fanout publishes them.
pub fn notifications_for(people: &[User]) -> anyhow::Result<Vec<EventRecord>> {
    people
        .iter()
        .map(|person| {
            let notification = FcmNotification {
                recipient_id: UserId::parse(&person.id)?,
                kind: "booking.offered".into(),
                title: "New booking near you".into(),
                body: "Tipper needed 2 km away".into(),
                data: Default::default(),
                data_only: false,
            };
            Ok(DomainEvent::NotificationFcm(notification).to_record(
                EventId::generate(),
                "/weelo/bench",
                chrono::Utc::now(),
            ))
        })
        .collect()
}

/// A `booking.created` record for a new booking at `centre`, stored as the api stores it.
pub async fn booking_created(api: &ApiClient, customer: &User, centre: (f64, f64)) -> anyhow::Result<EventRecord> {
    let Answer { status, body: answer, .. } =
        api.call("POST", "/v1/bookings", Some(customer), Some(booking_at(centre))).await;
    anyhow::ensure!(status == 201, "booking: {status} {answer}");
    let id = BookingId::parse(answer["bookingId"].as_str().unwrap_or_default())?;
    let booking = api.app().store.get_booking(id).await?.ok_or_else(|| anyhow::anyhow!("booking vanished"))?;
    Ok(DomainEvent::BookingCreated(booking).to_record(EventId::generate(), "/weelo/api", chrono::Utc::now()))
}

/// Figure 3d: one minute of GPS for `trucks` trucks, a point every 5 s each, sent
/// `points_per_request` at a time (1, 2, 3, 4, 6 or 12): each truck's request is one record, and
/// the 1 s window puts a `1 / points_per_request` share of the trucks' records in each batch. Runs
/// the location-consumer's use case; returns the time, the points and what the emulators served
/// (history, latest positions, geo index).
pub async fn location_minute(
    trucks: usize, points_per_request: usize, index_refresh: chrono::Duration,
) -> anyhow::Result<(Duration, usize, Tally)> {
    anyhow::ensure!(
        12 % points_per_request == 0,
        "a minute of 5 s points is 12: {points_per_request} does not divide it"
    );
    let mut settings = weelo_location_consumer::Settings::from_env()?;
    settings.index_refresh = index_refresh;
    let consumer = weelo_location_consumer::connect(&settings).await?;
    let ids: Vec<UserId> =
        (0..trucks).map(|_| UserId::parse(&weelo_testkit::unique("bench-minute"))).collect::<Result<_, _>>()?;
    // The minute's points lie in one whole minute of the epoch, one geo-index refresh window
    // (`index_needs_write` buckets time in aligned windows): a steady stream rewrites a truck's
    // entry once a window, and a minute straddling two windows counted a second rewrite for every
    // truck about half the runs (0.51 write units a point instead of 0.45).
    let start = (chrono::Utc::now() - chrono::Duration::seconds(120)).duration_trunc(chrono::Duration::minutes(1))?;
    let mut took = Duration::ZERO;
    let mut points = 0;
    let emulators = Emulators::from_env()?;
    emulators.start().await?;
    for round in 0..12 / points_per_request {
        for share in 0..points_per_request {
            let updates: Vec<(EventId, LocationUpdated)> = ids
                .iter()
                .enumerate()
                .filter(|(truck, _)| truck % points_per_request == share)
                .flat_map(|(truck, id)| {
                    (0..points_per_request).map(move |n| {
                        let tick = (round * points_per_request + n) as i64;
                        // About 40 km/h north: 55 m per 5 s, so a few trucks change H3 cell.
                        let point = LocationPoint {
                            lat: 19.0 + tick as f64 * 0.0005,
                            lng: 72.8 + truck as f64 / 1000.0,
                            recorded_at: start + chrono::Duration::seconds(tick * 5),
                            speed_kmh: Some(40.0),
                            heading_deg: Some(0.0),
                            accuracy_m: Some(5.0),
                        };
                        (EventId::generate(), LocationUpdated { transporter_id: id.clone(), point })
                    })
                })
                .collect();
            let started = Instant::now();
            let report = consumer.on_batch(&updates).await?;
            took += started.elapsed();
            points += report.points;
        }
    }
    Ok((took, points, emulators.read().await?))
}
