//! The GPS events on `location.updated`, both keyed by transporter.
//!
//! - [`LocationsReported`] (`com.weelo.location.reported.v1`): what the api publishes, one record
//!   per `POST /v1/tracking/location`, holding all of that request's points (1 to 100). One record
//!   per request instead of one per point: a 100-point request is one CloudEvent envelope, one
//!   produce and one broker append instead of a hundred, and every consumer reads a hundredth of
//!   the records (docs/BENCHMARKS.md has the measured ratio).
//! - [`LocationUpdated`] (`com.weelo.location.updated.v1`): one point per record, what the api
//!   published before. Consumers still read it: the topic keeps 7 days and the archive forever,
//!   and a replay of either must be processed the same way.
//!
//! Consumers see both as the same per-point updates through [`DomainEvent::location_updates`].

use super::events::DomainEvent;
use crate::model::ids::{EventId, UserId};
use crate::model::location::LocationPoint;
use serde::{Deserialize, Serialize};

/// One GPS point of a transporter (the single-point form).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LocationUpdated {
    pub transporter_id: UserId,
    #[serde(flatten)]
    pub point: LocationPoint,
}

/// The points one request of a transporter's app carried, in the order it sent them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LocationsReported {
    pub transporter_id: UserId,
    pub points: Vec<LocationPoint>,
}

impl LocationsReported {
    /// The id of the `index`-th point of the event `id`: derived, so a redelivered record gives
    /// every point the id it had the first time (a history segment is keyed by its first point's).
    pub fn point_id(id: EventId, index: usize) -> EventId {
        EventId::derive(&format!("{id}/point/{index}"))
    }
}

impl DomainEvent {
    /// The GPS points of a location event, each with its own id (the event's own for the
    /// single-point form, [`LocationsReported::point_id`] for the batch form); `None` for any
    /// other event.
    pub fn location_updates(&self, id: EventId) -> Option<Vec<(EventId, LocationUpdated)>> {
        match self {
            DomainEvent::LocationUpdated(update) => Some(vec![(id, update.clone())]),
            DomainEvent::LocationsReported(LocationsReported { transporter_id, points }) => Some(
                points
                    .iter()
                    .enumerate()
                    .map(|(index, point)| {
                        let update = LocationUpdated { transporter_id: transporter_id.clone(), point: point.clone() };
                        (LocationsReported::point_id(id, index), update)
                    })
                    .collect(),
            ),
            _ => None,
        }
    }
}
