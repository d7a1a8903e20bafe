//! Identifiers. Aggregate ids are UUIDs (v7 for new aggregates, so they sort by creation time;
//! v5 where an id must be derived deterministically, so a redelivered event or a repeated request
//! maps to the same item). User ids come from the token's `sub` claim.

use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

/// The id was not of the expected shape. Carries nothing: path ids that do not parse are "not found".
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("malformed identifier")]
pub struct MalformedId;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh, time-ordered id.
            pub fn generate() -> Self {
                Self(Uuid::now_v7())
            }

            pub fn parse(text: &str) -> Result<Self, MalformedId> {
                Uuid::try_parse(text).map(Self).map_err(|_| MalformedId)
            }

            pub fn as_uuid(&self) -> &Uuid {
                &self.0
            }
        }

        impl From<Uuid> for $name {
            fn from(value: Uuid) -> Self {
                Self(value)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }
    };
}

uuid_id!(
    /// A single-truck booking.
    BookingId
);
uuid_id!(
    /// A shared tracking link of a booking (`POST /v1/bookings/{id}/share`).
    ShareId
);
uuid_id!(
    /// A multi-truck order.
    OrderId
);
uuid_id!(
    /// One truck of an order; derived from the order id and its position, see [`TruckRequestId::derive`].
    TruckRequestId
);
uuid_id!(
    /// A registered push device; derived from its owner and token, see [`DeviceId::derive`].
    DeviceId
);
uuid_id!(
    /// A CloudEvents `id`: consumers deduplicate on it.
    EventId
);

impl TruckRequestId {
    /// The id of the `seq`-th truck (0-based) of order line `line`: the same inputs always give the
    /// same id, so creating an order's truck requests twice creates nothing new.
    pub fn derive(order: OrderId, line: usize, seq: u32) -> Self {
        Self(Uuid::new_v5(order.as_uuid(), format!("truck-request/{line}/{seq}").as_bytes()))
    }
}

impl DeviceId {
    /// Registering the same token twice for the same user yields the same device.
    pub fn derive(owner: &UserId, token: &str) -> Self {
        const NAMESPACE: Uuid = Uuid::from_u128(0x5f1d_3c2a_9b4e_4f7a_8c61_2d0e_b7a4_19c3);
        Self(Uuid::new_v5(&NAMESPACE, format!("{}\n{}", owner.as_str(), token).as_bytes()))
    }
}

impl EventId {
    /// An event id derived from what caused it, so a redelivered cause yields the same event.
    pub fn derive(cause: &str) -> Self {
        const NAMESPACE: Uuid = Uuid::from_u128(0x0b7e_6a51_2c3d_4e8f_9a01_b2c3_d4e5_f607);
        Self(Uuid::new_v5(&NAMESPACE, cause.as_bytes()))
    }
}

/// A printable id kept as it came: 1 to `MAX_LEN` (128) ASCII letters and digits and the
/// punctuation given, and nothing else, so that it cannot break out of a composite key.
macro_rules! text_id {
    ($(#[$doc:meta])* $name:ident, punctuation: $punctuation:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, ::serde::Serialize, ::serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub const MAX_LEN: usize = 128;

            pub fn parse(text: &str) -> Result<Self, $crate::model::ids::MalformedId> {
                let valid = !text.is_empty()
                    && text.len() <= Self::MAX_LEN
                    && text.bytes().all(|b| b.is_ascii_alphanumeric() || $punctuation.contains(&b));
                if valid { Ok(Self(text.to_owned())) } else { Err($crate::model::ids::MalformedId) }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}
pub(crate) use text_id;

text_id! {
    /// A user (customer or transporter): the `sub` claim of a verified token. Accepts what
    /// identity providers put in `sub` (Cognito: a UUID): `[A-Za-z0-9._:@-]`.
    UserId, punctuation: b"._:@-"
}

#[cfg(test)]
#[path = "ids_tests.rs"]
mod tests;
