//! The `notification.fcm` records the fan-out publishes: one per recipient, with an id derived from
//! its cause, so a redelivered cause yields the same notifications and the fcm-consumer pushes each
//! once.

use super::FANOUT_EVENT_SOURCE;
use crate::contract::events::{DomainEvent, EventRecord, FcmNotification};
use crate::model::ids::{BookingId, EventId, OrderId, UserId};
use chrono::{DateTime, SecondsFormat, Utc};
use std::collections::BTreeMap;

/// What one push says.
pub(super) struct Notice {
    pub kind: &'static str,
    pub title: &'static str,
    pub body: String,
    /// FCM data besides `kind`, which is always there.
    pub data: Vec<(&'static str, String)>,
}

/// A visible push for `recipient`. Its id is derived from `cause`, its kind and `key` (the
/// recipient, or the recipient and the order line): the same cause always yields the same ids,
/// which the fcm-consumer deduplicates on.
pub(super) fn offer_record(cause: EventId, recipient: &UserId, key: &str, notice: Notice) -> EventRecord {
    record(cause, recipient, key, notice, false)
}

/// The data-only push telling `recipient`'s app to drop its offer of `booking` made at
/// `offered_at`, because the booking was `reason` (accepted by someone else, cancelled, expired).
pub(super) fn withdrawal_record(
    cause: EventId, recipient: &UserId, booking: BookingId, reason: &str, offered_at: DateTime<Utc>,
) -> EventRecord {
    let notice = Notice {
        kind: "booking.withdrawn",
        title: "Offer withdrawn",
        body: format!("The booking is no longer available: {reason}"),
        data: vec![("bookingId", booking.to_string()), ("reason", reason.to_owned()), ("offeredAt", stamp(offered_at))],
    };
    record(cause, recipient, recipient.as_str(), notice, true)
}

/// The data-only push telling `recipient`'s app to drop its offer of line `line` of `order` made
/// at `offered_at`.
pub(super) fn order_withdrawal_record(
    cause: EventId, recipient: &UserId, order: OrderId, line: u32, reason: &str, offered_at: DateTime<Utc>,
) -> EventRecord {
    let notice = Notice {
        kind: "order.withdrawn",
        title: "Offer withdrawn",
        body: format!("The order's trucks are no longer available: {reason}"),
        data: vec![
            ("orderId", order.to_string()),
            ("line", line.to_string()),
            ("reason", reason.to_owned()),
            ("offeredAt", stamp(offered_at)),
        ],
    };
    record(cause, recipient, &format!("{recipient}/line/{line}"), notice, true)
}

/// When an offer was made, as its offer push and its withdrawal carry it: RFC 3339 in UTC, to the
/// millisecond (what the offers table keeps), so the app can compare the two as strings or times.
pub(super) fn stamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn record(cause: EventId, recipient: &UserId, key: &str, notice: Notice, data_only: bool) -> EventRecord {
    let mut data = BTreeMap::from([("kind".to_owned(), notice.kind.to_owned())]);
    data.extend(notice.data.into_iter().map(|(k, v)| (k.to_owned(), v)));
    let id = EventId::derive(&format!("{cause}/{}/{key}", notice.kind));
    let event = DomainEvent::NotificationFcm(FcmNotification {
        recipient_id: recipient.clone(),
        kind: notice.kind.to_owned(),
        title: notice.title.to_owned(),
        body: notice.body,
        data,
        data_only,
    });
    event.to_record(id, FANOUT_EVENT_SOURCE, Utc::now())
}
