//! The `live-tracking` function: consumes `location.updated`, `booking.events` and
//! `order.events` with its own consumer group and posts to the WebSocket connections watching
//! (`weelo_core::usecases::live::LiveBroadcast`, docs/live-tracking.md). Each partition is
//! processed on its own and in order: trip steps one after the other as they come, the points of
//! the partition coalesced to each truck's newest. Events it has no use for are skipped; a record
//! that is not an event fails from its offset (dead-lettered after the mapping's retries); a
//! store failure fails the partition from its first record, and the retry posts again only what
//! was not marked sent.

use aws_lambda_events::kafka::KafkaEvent;
use lambda_runtime::{Error, LambdaEvent};
use weelo_connections::ApiGatewayPoster;
use weelo_core::contract::events::{DomainEvent, LocationUpdated};
use weelo_core::model::trip::TripRef;
use weelo_core::usecases::live::{BroadcastReport, LiveBroadcast};
use weelo_dynamo::{DynamoStore, StoreSettings};
use weelo_msk::{BatchResponse, ConsumedRecord, Consumer, PartitionFailure, for_each_partition};

/// The function's settings, read once from the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `SDK_*_TIMEOUT_MS`, `TABLE_*`.
    pub store: StoreSettings,
    /// `LIVE_CONNECTIONS_URL`: the WebSocket API stage's `@connections` endpoint
    /// (`https://{api-id}.execute-api.{region}.amazonaws.com/{stage}`).
    pub connections_url: String,
    /// `KAFKA_FAILURE_REPORTING` (`partial-batch`, or `function-error` behind an on-demand mapping):
    /// how failed records are answered to the event-source mapping.
    pub reporting: weelo_msk::FailureReporting,
}

impl Settings {
    pub fn from_env() -> anyhow::Result<Self> {
        Ok(Self {
            store: StoreSettings::from_env()?,
            connections_url: weelo_aws::required("LIVE_CONNECTIONS_URL")?,
            reporting: weelo_msk::FailureReporting::from_env()?,
        })
    }
}

pub type LiveTracking = Consumer<LiveBroadcast<DynamoStore, ApiGatewayPoster>>;

/// The use case with clients built from `settings`.
pub async fn connect(settings: &Settings) -> anyhow::Result<LiveTracking> {
    let (aws, store) = settings.store.connect().await;
    let broadcast = LiveBroadcast::new(store, ApiGatewayPoster::from_config(&aws, &settings.connections_url));
    Ok(Consumer::new(broadcast, settings.reporting))
}

/// [`connect`] with the settings of the environment.
pub async fn from_env() -> anyhow::Result<LiveTracking> {
    connect(&Settings::from_env()?).await
}

pub async fn handle(consumer: &LiveTracking, event: LambdaEvent<KafkaEvent>) -> Result<BatchResponse, Error> {
    Ok(consumer.answer(for_each_partition(&event.payload, |records| process_partition(consumer, records))).await?)
}

async fn process_partition(consumer: &LiveTracking, records: Vec<ConsumedRecord>) -> Result<(), PartitionFailure> {
    let first = records.first().map_or(0, |r| r.offset);
    let failed =
        |error: weelo_core::ports::StoreError| PartitionFailure { offset: first, reason: format!("{error:#}") };
    let mut points: Vec<LocationUpdated> = Vec::new();
    let mut report = BroadcastReport::default();
    let mut stop = None;
    for record in &records {
        let (id, event) = match record.event() {
            Ok(decoded) => decoded,
            Err(reason) => {
                stop = Some(PartitionFailure { offset: record.offset, reason });
                break;
            }
        };
        if let Some(updates) = event.location_updates(id) {
            points.extend(updates.into_iter().map(|(_, update)| update));
            continue;
        }
        match event {
            DomainEvent::BookingChanged(change) => {
                let trip = TripRef::Booking(change.booking.booking_id);
                report += consumer.on_trip_step(trip, change.step, &change.booking.trip).await.map_err(failed)?;
            }
            DomainEvent::TruckRequestChanged(change) => {
                let trip = TripRef::TruckRequest(change.request.order_id, change.request.truck_request_id);
                report += consumer.on_trip_step(trip, change.step, &change.request.trip).await.map_err(failed)?;
            }
            DomainEvent::BookingCreated(_)
            | DomainEvent::BookingOffered(_)
            | DomainEvent::OrderCreated(_)
            | DomainEvent::OrderCancelled(_)
            | DomainEvent::NotificationFcm(_)
            | DomainEvent::LocationUpdated(_)
            | DomainEvent::LocationsReported(_) => {}
        }
    }
    report += consumer.on_points(&points).await.map_err(failed)?;
    tracing::debug!(?report, "live batch");
    weelo_telemetry::count(weelo_telemetry::LIVE_POSTED, report.posts as u64);
    weelo_telemetry::count(weelo_telemetry::LIVE_GONE, report.gone as u64);
    weelo_telemetry::count(weelo_telemetry::LIVE_DROPPED, report.dropped as u64);
    stop.map_or(Ok(()), Err)
}
