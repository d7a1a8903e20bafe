//! Every push the system sends to a phone: its `kind`, who gets it, the FCM `data` keys an app acts
//! on, and whether the phone shows it. The push table of `docs/pushes.md` is [`markdown_table`] (a test keeps
//! them equal), and the use cases' tests check every push they see against [`conforms`].

use crate::contract::events::FcmNotification;

/// One kind of push.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PushSpec {
    pub kind: &'static str,
    pub to: &'static str,
    /// The `data` keys besides `kind`, always all of them.
    pub data: &'static [&'static str],
    /// Shown on the phone; otherwise a data message the app handles silently.
    pub shown: bool,
    /// What the app does with it.
    pub then: &'static str,
}

const STEP: &[&str] = &["bookingId", "status", "transporterId"];
const TRUCK: &[&str] = &["orderId", "truckRequestId", "line", "status", "transporterId"];

/// A push the customer sees on their phone.
const fn to_customer(kind: &'static str, data: &'static [&'static str], then: &'static str) -> PushSpec {
    PushSpec { kind, to: "the customer", data, shown: true, then }
}

/// The customer cancelled the trip the transporter (`to`) is on.
const fn trip_cancelled(kind: &'static str, to: &'static str, data: &'static [&'static str]) -> PushSpec {
    PushSpec { kind, to, data, shown: true, then: "ends the trip; they are offered work again" }
}

pub const PUSHES: [PushSpec; 18] = [
    PushSpec {
        kind: "booking.offered",
        to: "each matched transporter (again after a release; the next ring after the first window)",
        data: &["bookingId", "vehicleType", "distanceM", "offeredAt"],
        shown: true,
        then: "`GET /bookings/{id}`, `POST /bookings/{id}/accept`",
    },
    PushSpec {
        kind: "booking.withdrawn",
        to: "each offered transporter, when another accepts or it is cancelled or expires",
        data: &["bookingId", "reason", "offeredAt"],
        shown: false,
        then: "drops the offer if it was offered at or before `offeredAt` (a later offer stands; `reason`: `accepted`, `cancelled`, `expired`)",
    },
    trip_cancelled("booking.cancelled", "the transporter on the trip, when the customer cancels", &["bookingId"]),
    to_customer("booking.accepted", STEP, "`GET /bookings/{id}/location`"),
    to_customer("booking.arrived", STEP, "meets the truck"),
    to_customer("booking.picked-up", STEP, "follows the truck"),
    to_customer("booking.delivered", STEP, "`GET /bookings/{id}`"),
    to_customer("booking.released", STEP, "waits: it is offered again (`transporterId` is who released it)"),
    to_customer("booking.expired", &["bookingId", "status"], "books again (\"no truck found\")"),
    PushSpec {
        kind: "order.offered",
        to: "each matched transporter, once per order line (again after a release; the next ring after the first window)",
        data: &["orderId", "line", "vehicleType", "trucks", "offeredAt"],
        shown: true,
        then: "`GET /orders/{id}` (the truck requests of its offered lines), then accept one of them",
    },
    PushSpec {
        kind: "order.withdrawn",
        to: "each transporter offered a line, once nothing on it searches or the order is cancelled",
        data: &["orderId", "line", "reason", "offeredAt"],
        shown: false,
        then: "drops the line's offer if it was offered at or before `offeredAt` (`reason`: `accepted`, `expired`, `cancelled`)",
    },
    trip_cancelled(
        "order.truck-cancelled",
        "the transporter on a truck's trip, when the customer cancels the order",
        &["orderId", "truckRequestId"],
    ),
    to_customer("order.truck-accepted", TRUCK, "`GET /orders/{id}`"),
    to_customer("order.truck-arrived", TRUCK, "meets the truck"),
    to_customer("order.truck-picked-up", TRUCK, "follows the truck"),
    to_customer("order.truck-delivered", TRUCK, "`GET /orders/{id}`"),
    to_customer(
        "order.truck-released",
        TRUCK,
        "waits: the truck is offered again (`transporterId` is who released it)",
    ),
    PushSpec {
        kind: "order.line-expired",
        to: "the customer, once per line",
        data: &["orderId", "line", "vehicleType"],
        shown: true,
        then: "orders those trucks again (`line` counts from 1)",
    },
];

/// The push of `kind`.
pub fn spec(kind: &str) -> Option<&'static PushSpec> {
    PUSHES.iter().find(|spec| spec.kind == kind)
}

/// Whether `notification` is a push of a listed kind with exactly its data keys, shown or not as
/// listed; the reason when it is not.
pub fn conforms(notification: &FcmNotification) -> Result<(), String> {
    let spec = spec(&notification.kind).ok_or_else(|| format!("unlisted kind {}", notification.kind))?;
    let mut expected: Vec<&str> = spec.data.iter().copied().chain(["kind"]).collect();
    expected.sort_unstable();
    let sent: Vec<&str> = notification.data.keys().map(String::as_str).collect();
    if sent != expected {
        return Err(format!("{}: data keys {sent:?}, listed {expected:?}", spec.kind));
    }
    if notification.data.get("kind") != Some(&notification.kind) {
        return Err(format!("{}: data.kind differs", spec.kind));
    }
    if notification.data_only == spec.shown {
        return Err(format!("{}: shown on the phone is {}, listed {}", spec.kind, !notification.data_only, spec.shown));
    }
    Ok(())
}

/// The table of pushes in `docs/pushes.md`.
pub fn markdown_table() -> String {
    let mut table =
        String::from("| `kind` | to | `data` besides `kind` | shown | the app then |\n|---|---|---|---|---|\n");
    for spec in PUSHES {
        let data: Vec<String> = spec.data.iter().map(|key| format!("`{key}`")).collect();
        let shown = if spec.shown { "yes" } else { "no (data message)" };
        table.push_str(&format!("| `{}` | {} | {} | {shown} | {} |\n", spec.kind, spec.to, data.join(", "), spec.then));
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pushes_doc() -> String {
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/pushes.md")).expect("docs/pushes.md")
    }

    #[test]
    fn the_push_docs_list_exactly_the_pushes_the_code_sends() {
        let table = markdown_table();
        assert!(pushes_doc().contains(&table), "docs/pushes.md's push table differs; it should read:\n{table}");
    }

    #[test]
    fn every_kind_is_listed_once() {
        for spec in PUSHES {
            assert_eq!(PUSHES.iter().filter(|s| s.kind == spec.kind).count(), 1, "{}", spec.kind);
        }
    }
}
