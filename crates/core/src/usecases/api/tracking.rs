//! [`TrackingIngest`]: truck apps stream GPS points into `location.updated`, one record per request.

use super::API_EVENT_SOURCE;
use crate::contract::events::{DomainEvent, LocationsReported};
use crate::error::ServiceError;
use crate::model::caller::Transporter;
use crate::model::ids::EventId;
use crate::model::location::LocationPoint;
use crate::ports::EventBus;
use chrono::Utc;

/// GPS ingest over the event bus.
pub struct TrackingIngest<B> {
    bus: B,
}

impl<B: EventBus> TrackingIngest<B> {
    pub fn new(bus: B) -> Self {
        Self { bus }
    }

    /// `POST /v1/tracking/location`: the request's points as one event (see
    /// [`LocationsReported`]). GPS points skip the outbox: a point is worth little a few seconds
    /// later and the volume would cost a DynamoDB write each. The answer is 202 only once Kafka
    /// acknowledged the record; otherwise 503, and the app keeps its buffer and retries.
    pub async fn ingest(&self, transporter: &Transporter, points: Vec<LocationPoint>) -> Result<usize, ServiceError> {
        let accepted = points.len();
        let reported = LocationsReported { transporter_id: transporter.id().clone(), points };
        let record =
            DomainEvent::LocationsReported(reported).to_record(EventId::generate(), API_EVENT_SOURCE, Utc::now());
        self.bus.publish(std::slice::from_ref(&record)).await.map_err(|error| {
            tracing::warn!(%error, points = accepted, "location points not accepted: event stream unavailable");
            ServiceError::Unavailable { what: "the event stream" }
        })?;
        Ok(accepted)
    }
}
