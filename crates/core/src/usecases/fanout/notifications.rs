//! The `notification.fcm` records the fan-out publishes: one per recipient, with an id derived from
//! its cause, so a redelivered cause yields the same notifications and the fcm-consumer pushes each
//! once.

use super::FANOUT_EVENT_SOURCE;
use crate::contract::events::{DomainEvent, EventRecord, FcmNotification};
use crate::model::ids::{EventId, UserId};
use chrono::Utc;
use std::collections::BTreeMap;

pub(super) fn notification(
    cause: EventId,
    recipient: &UserId,
    kind: &str,
    title: &str,
    body: &str,
    data: BTreeMap<String, String>,
) -> EventRecord {
    notification_keyed(cause, recipient, recipient.as_str(), kind, title, body, data)
}

/// A `notification.fcm` record whose id is derived from its cause and `key`: the same cause
/// always yields the same notification ids, which the fcm-consumer deduplicates on.
pub(super) fn notification_keyed(
    cause: EventId,
    recipient: &UserId,
    key: &str,
    kind: &str,
    title: &str,
    body: &str,
    data: BTreeMap<String, String>,
) -> EventRecord {
    let event = DomainEvent::NotificationFcm(FcmNotification {
        recipient_id: recipient.clone(),
        kind: kind.to_owned(),
        title: title.to_owned(),
        body: body.to_owned(),
        data,
    });
    event.to_record(EventId::derive(&format!("{cause}/{kind}/{key}")), FANOUT_EVENT_SOURCE, Utc::now())
}
