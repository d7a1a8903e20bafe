//! Event contracts: the Kafka topics, the domain events published on them, and their wire form,
//! CloudEvents 1.0 structured JSON with the aggregate id as the record key.
//!
//! Consumers deduplicate on the CloudEvents `id`, which is why every [`EventRecord`] carries it
//! outside the payload too (the outbox is keyed by it).

use crate::model::booking::{Booking, BookingStatus};
use crate::model::geo::Place;
use crate::model::ids::{BookingId, EventId, OrderId, UserId};
use crate::model::order::{Order, TruckRequest, TruckRequestStatus};
use crate::model::trip::TripStep;
use crate::model::vehicle::VehicleType;
use chrono::{DateTime, Utc};
use cloudevents::{AttributesReader, Data, EventBuilder, EventBuilderV10};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub use super::locations::{LocationUpdated, LocationsReported};

/// The Kafka topics. Their partitions and retention live in `infra/definitions/topics.json`,
/// which the local provisioner and Terraform both read; a test keeps this list and that file equal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Topic {
    /// Every event of every booking, keyed by booking: one partition sees a booking's whole life
    /// in order (created, accepted, released, accepted again, …).
    BookingEvents,
    /// Every event of every order and its truck requests, keyed by order.
    OrderEvents,
    LocationUpdated,
    NotificationFcm,
}

impl Topic {
    pub const ALL: [Topic; 4] =
        [Topic::BookingEvents, Topic::OrderEvents, Topic::LocationUpdated, Topic::NotificationFcm];

    pub fn name(self) -> &'static str {
        match self {
            Topic::BookingEvents => "booking.events",
            Topic::OrderEvents => "order.events",
            Topic::LocationUpdated => "location.updated",
            Topic::NotificationFcm => "notification.fcm",
        }
    }

    pub fn from_name(name: &str) -> Option<Topic> {
        Topic::ALL.into_iter().find(|t| t.name() == name)
    }
}

/// A booking took a step of its trip (accepted, arrived, …, expired): the step, and the booking
/// as it is after it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BookingChanged {
    pub step: TripStep,
    pub previous_status: BookingStatus,
    /// The transporter the step concerns: who accepted, arrived, picked up, delivered or
    /// released, or whose trip the customer cancelled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transporter_id: Option<UserId>,
    #[serde(flatten)]
    pub booking: Booking,
}

impl BookingChanged {
    /// CloudEvents `type` of the step.
    pub fn event_type(step: TripStep) -> &'static str {
        match step {
            TripStep::Open => "com.weelo.booking.opened.v1",
            TripStep::Accept => "com.weelo.booking.accepted.v1",
            TripStep::Arrive => "com.weelo.booking.arrived.v1",
            TripStep::PickUp => "com.weelo.booking.picked-up.v1",
            TripStep::Deliver => "com.weelo.booking.delivered.v1",
            TripStep::Release => "com.weelo.booking.released.v1",
            TripStep::Cancel => "com.weelo.booking.cancelled.v1",
            TripStep::Widen => "com.weelo.booking.widened.v1",
            TripStep::Expire => "com.weelo.booking.expired.v1",
        }
    }
}

/// Which search offered a booking: the first (when it is created or opened), again after its
/// transporter released it, or the wider rings after the first found nobody in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OfferRound {
    First,
    Again,
    Wider,
}

/// The fan-out offered a booking to `transporters` transporters (one push each): what analytics
/// counts as "offered" and "transporters reached", and times from `createdAt`. Published by
/// order-fanout on `booking.events` (keyed by the booking, so after its `created`), with an id
/// derived from its cause like the pushes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BookingOffered {
    pub booking_id: BookingId,
    pub vehicle_type: VehicleType,
    pub pickup: Place,
    pub created_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled_at: Option<DateTime<Utc>>,
    pub round: OfferRound,
    /// Nobody had been offered the booking before: its first offer (the first round, or the
    /// wider one when the first found nobody).
    pub first_offer: bool,
    pub transporters: u32,
}

/// A truck request took a step of its trip: the step, and the truck request as it is after it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TruckRequestChanged {
    pub step: TripStep,
    pub previous_status: TruckRequestStatus,
    /// The order's customer, who hears of the step.
    pub customer_id: UserId,
    /// The transporter the step concerns (as in [`BookingChanged`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transporter_id: Option<UserId>,
    #[serde(flatten)]
    pub request: TruckRequest,
}

impl TruckRequestChanged {
    /// CloudEvents `type` of the step.
    pub fn event_type(step: TripStep) -> &'static str {
        match step {
            TripStep::Open => "com.weelo.order.truck-request-opened.v1",
            TripStep::Accept => "com.weelo.order.truck-request-accepted.v1",
            TripStep::Arrive => "com.weelo.order.truck-request-arrived.v1",
            TripStep::PickUp => "com.weelo.order.truck-request-picked-up.v1",
            TripStep::Deliver => "com.weelo.order.truck-request-delivered.v1",
            TripStep::Release => "com.weelo.order.truck-request-released.v1",
            TripStep::Cancel => "com.weelo.order.truck-request-cancelled.v1",
            TripStep::Widen => "com.weelo.order.truck-request-widened.v1",
            TripStep::Expire => "com.weelo.order.truck-request-expired.v1",
        }
    }
}

/// The customer cancelled the order; order-fanout cancels its truck requests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderCancelled {
    pub order_id: OrderId,
    pub customer_id: UserId,
    pub cancelled_at: DateTime<Utc>,
}

/// A push notification for one user, on all of their devices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FcmNotification {
    pub recipient_id: UserId,
    /// What happened, for the app to route on (`booking.offered`, `booking.accepted`, …).
    pub kind: String,
    pub title: String,
    pub body: String,
    /// FCM `data` payload: string values only, as FCM requires.
    #[serde(default)]
    pub data: BTreeMap<String, String>,
    /// Sent as an FCM data message without a notification: the phone shows nothing and the app
    /// acts on `data` (e.g. drops a withdrawn offer). `title` and `body` then only describe it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub data_only: bool,
}

/// Everything that happens in Weelo that another component may react to.
#[derive(Debug, Clone, PartialEq)]
pub enum DomainEvent {
    BookingCreated(Booking),
    BookingChanged(BookingChanged),
    BookingOffered(BookingOffered),
    OrderCreated(Order),
    OrderCancelled(OrderCancelled),
    TruckRequestChanged(TruckRequestChanged),
    /// One GPS point: what the api published before [`DomainEvent::LocationsReported`].
    LocationUpdated(LocationUpdated),
    /// The GPS points of one ingest request.
    LocationsReported(LocationsReported),
    NotificationFcm(FcmNotification),
}

/// A domain event in its wire form, ready for the outbox and for Kafka.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventRecord {
    pub event_id: EventId,
    pub topic: String,
    pub key: String,
    /// The CloudEvent, structured-mode JSON.
    pub payload: String,
}

/// A decoded event with its id and its CloudEvents `time`.
#[derive(Debug, Clone, PartialEq)]
pub struct TimedEvent {
    pub id: EventId,
    pub time: DateTime<Utc>,
    pub event: DomainEvent,
}

/// Why a Kafka record could not be turned back into a domain event.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("not a CloudEvents 1.0 JSON event: {0}")]
    NotCloudEvent(String),
    #[error("unknown event type {0:?}")]
    UnknownType(String),
    #[error("event has no JSON data")]
    MissingData,
    #[error("event data does not match {ty}: {reason}")]
    BadData { ty: String, reason: String },
}

impl DomainEvent {
    /// CloudEvents `type`; the `.v1` suffix versions the data schema.
    pub fn event_type(&self) -> &'static str {
        match self {
            DomainEvent::BookingCreated(_) => "com.weelo.booking.created.v1",
            DomainEvent::BookingChanged(e) => BookingChanged::event_type(e.step),
            DomainEvent::BookingOffered(_) => "com.weelo.booking.offered.v1",
            DomainEvent::OrderCreated(_) => "com.weelo.order.created.v1",
            DomainEvent::OrderCancelled(_) => "com.weelo.order.cancelled.v1",
            DomainEvent::TruckRequestChanged(e) => TruckRequestChanged::event_type(e.step),
            DomainEvent::LocationUpdated(_) => "com.weelo.location.updated.v1",
            DomainEvent::LocationsReported(_) => "com.weelo.location.reported.v1",
            DomainEvent::NotificationFcm(_) => "com.weelo.notification.fcm.v1",
        }
    }

    pub fn topic(&self) -> Topic {
        match self {
            DomainEvent::BookingCreated(_) | DomainEvent::BookingChanged(_) | DomainEvent::BookingOffered(_) => {
                Topic::BookingEvents
            }
            DomainEvent::OrderCreated(_) | DomainEvent::OrderCancelled(_) | DomainEvent::TruckRequestChanged(_) => {
                Topic::OrderEvents
            }
            DomainEvent::LocationUpdated(_) | DomainEvent::LocationsReported(_) => Topic::LocationUpdated,
            DomainEvent::NotificationFcm(_) => Topic::NotificationFcm,
        }
    }

    /// The record key, which is the aggregate id: all events of one booking, order, transporter or
    /// recipient land on one partition, in order.
    pub fn key(&self) -> String {
        match self {
            DomainEvent::BookingCreated(b) => b.booking_id.to_string(),
            DomainEvent::BookingChanged(e) => e.booking.booking_id.to_string(),
            DomainEvent::BookingOffered(e) => e.booking_id.to_string(),
            DomainEvent::OrderCreated(o) => o.order_id.to_string(),
            DomainEvent::OrderCancelled(e) => e.order_id.to_string(),
            DomainEvent::TruckRequestChanged(e) => e.request.order_id.to_string(),
            DomainEvent::LocationUpdated(e) => e.transporter_id.to_string(),
            DomainEvent::LocationsReported(e) => e.transporter_id.to_string(),
            DomainEvent::NotificationFcm(n) => n.recipient_id.to_string(),
        }
    }

    /// CloudEvents `subject`: the aggregate, typed, e.g. `booking/0190…`.
    pub fn subject(&self) -> String {
        let kind = match self {
            DomainEvent::BookingCreated(_) | DomainEvent::BookingChanged(_) | DomainEvent::BookingOffered(_) => {
                "booking"
            }
            DomainEvent::OrderCreated(_) | DomainEvent::OrderCancelled(_) | DomainEvent::TruckRequestChanged(_) => {
                "order"
            }
            DomainEvent::LocationUpdated(_) | DomainEvent::LocationsReported(_) => "transporter",
            DomainEvent::NotificationFcm(_) => "user",
        };
        format!("{kind}/{}", self.key())
    }

    fn data(&self) -> Result<serde_json::Value, serde_json::Error> {
        match self {
            DomainEvent::BookingCreated(v) => serde_json::to_value(v),
            DomainEvent::BookingChanged(v) => serde_json::to_value(v),
            DomainEvent::BookingOffered(v) => serde_json::to_value(v),
            DomainEvent::OrderCreated(v) => serde_json::to_value(v),
            DomainEvent::OrderCancelled(v) => serde_json::to_value(v),
            DomainEvent::TruckRequestChanged(v) => serde_json::to_value(v),
            DomainEvent::LocationUpdated(v) => serde_json::to_value(v),
            DomainEvent::LocationsReported(v) => serde_json::to_value(v),
            DomainEvent::NotificationFcm(v) => serde_json::to_value(v),
        }
    }

    /// Wraps the event in a CloudEvent from `source` (e.g. `/weelo/api`).
    pub fn to_record(&self, id: EventId, source: &str, time: DateTime<Utc>) -> EventRecord {
        // Serialising plain data structs to JSON cannot fail, and the builder only fails on a
        // missing required attribute, all of which are set here.
        let data = self.data().expect("event data serialises to JSON");
        let event = EventBuilderV10::new()
            .id(id.to_string())
            .source(source)
            .ty(self.event_type())
            .subject(self.subject())
            .time(time)
            .data("application/json", data)
            .build()
            .expect("every required CloudEvents attribute is set");
        EventRecord {
            event_id: id,
            topic: self.topic().name().to_owned(),
            key: self.key(),
            payload: serde_json::to_string(&event).expect("a CloudEvent serialises to JSON"),
        }
    }

    /// Decodes a record value (CloudEvents structured JSON) back into the event and its id.
    pub fn from_payload(payload: &[u8]) -> Result<(EventId, DomainEvent), DecodeError> {
        Self::from_payload_timed(payload).map(|timed| (timed.id, timed.event))
    }

    /// [`DomainEvent::from_payload`] with the CloudEvents `time`: when it happened, which is not
    /// when it reached Kafka (the outbox relay may publish it later).
    pub fn from_payload_timed(payload: &[u8]) -> Result<TimedEvent, DecodeError> {
        let event: cloudevents::Event =
            serde_json::from_slice(payload).map_err(|e| DecodeError::NotCloudEvent(e.to_string()))?;
        let id = EventId::parse(event.id()).map_err(|_| DecodeError::NotCloudEvent("id is not a UUID".into()))?;
        let time = event.time().copied().ok_or_else(|| DecodeError::NotCloudEvent("no time".into()))?;
        let ty = event.ty().to_owned();
        let data = match event.data() {
            Some(Data::Json(value)) => value.clone(),
            Some(Data::String(text)) => serde_json::from_str(text).map_err(|_| DecodeError::MissingData)?,
            _ => return Err(DecodeError::MissingData),
        };
        let domain = match ty.as_str() {
            "com.weelo.booking.created.v1" => DomainEvent::BookingCreated(parse(&ty, data)?),
            step_type if is_step::<BookingChanged>(step_type) => DomainEvent::BookingChanged(parse_step(&ty, data)?),
            "com.weelo.booking.offered.v1" => DomainEvent::BookingOffered(parse(&ty, data)?),
            "com.weelo.order.created.v1" => DomainEvent::OrderCreated(parse(&ty, data)?),
            "com.weelo.order.cancelled.v1" => DomainEvent::OrderCancelled(parse(&ty, data)?),
            step_type if is_step::<TruckRequestChanged>(step_type) => {
                DomainEvent::TruckRequestChanged(parse_step(&ty, data)?)
            }
            "com.weelo.location.updated.v1" => DomainEvent::LocationUpdated(parse(&ty, data)?),
            "com.weelo.location.reported.v1" => DomainEvent::LocationsReported(parse(&ty, data)?),
            "com.weelo.notification.fcm.v1" => DomainEvent::NotificationFcm(parse(&ty, data)?),
            _ => return Err(DecodeError::UnknownType(ty)),
        };
        Ok(TimedEvent { id, time, event: domain })
    }
}

fn parse<T: serde::de::DeserializeOwned>(ty: &str, data: serde_json::Value) -> Result<T, DecodeError> {
    serde_json::from_value(data).map_err(|e| DecodeError::BadData { ty: ty.to_owned(), reason: e.to_string() })
}

/// The change events of a trip, one CloudEvents `type` per step.
trait StepChange: serde::de::DeserializeOwned {
    fn type_of(step: TripStep) -> &'static str;
    fn step(&self) -> TripStep;
}

impl StepChange for BookingChanged {
    fn type_of(step: TripStep) -> &'static str {
        Self::event_type(step)
    }
    fn step(&self) -> TripStep {
        self.step
    }
}

impl StepChange for TruckRequestChanged {
    fn type_of(step: TripStep) -> &'static str {
        Self::event_type(step)
    }
    fn step(&self) -> TripStep {
        self.step
    }
}

/// Whether `ty` is the type of one of `T`'s steps.
fn is_step<T: StepChange>(ty: &str) -> bool {
    TripStep::ALL.iter().any(|step| T::type_of(*step) == ty)
}

/// `data` as a `T` whose step is the one its type `ty` names.
fn parse_step<T: StepChange>(ty: &str, data: serde_json::Value) -> Result<T, DecodeError> {
    let changed: T = parse(ty, data)?;
    if T::type_of(changed.step()) != ty {
        let reason = format!("its step is {:?}", changed.step());
        return Err(DecodeError::BadData { ty: ty.to_owned(), reason });
    }
    Ok(changed)
}

#[cfg(test)]
#[path = "events_tests.rs"]
mod tests;
