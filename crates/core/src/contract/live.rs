//! The live-tracking WebSocket's contract (docs/live-tracking.md): the messages clients send, and
//! the tokens of shared links.
//!
//! A share token is `s1.` and a [`CursorKey`] seal of `<shareId>|<expiresAtMs>` under its own
//! scope: opaque to its holder (the booking is found through the share's record), unforgeable,
//! and refused after its expiry before anything is read.

use crate::contract::cursor::CursorKey;
use crate::error::ValidationError;
use crate::model::ids::{BookingId, OrderId, ShareId};
use crate::model::live::Subject;
use crate::ports::PagePosition;
use chrono::{DateTime, Utc};

/// The largest message a client may send (API Gateway takes up to 128 KiB; ours are tiny).
pub const MAX_CLIENT_MESSAGE_BYTES: usize = 1024;

const SHARE_SCOPE: &str = "weelo share link v1";
const SHARE_PREFIX: &str = "s1.";

/// What a client asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientRequest {
    Subscribe(Subject),
    Unsubscribe(Subject),
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    action: String,
    #[serde(default)]
    booking: Option<String>,
    #[serde(default)]
    order: Option<String>,
}

impl ClientRequest {
    /// `{"action": "subscribe" | "unsubscribe", "booking": id}`, `… "order": id`, or no subject
    /// (the shared link's booking).
    pub fn parse(body: &str) -> Result<Self, ValidationError> {
        if body.len() > MAX_CLIENT_MESSAGE_BYTES {
            return Err(ValidationError::single("message", "is longer than 1 KiB"));
        }
        let wire: Wire = serde_json::from_str(body)
            .map_err(|_| ValidationError::single("message", "is not {\"action\": …, \"booking\" | \"order\": id}"))?;
        let subject = match (wire.booking, wire.order) {
            (Some(_), Some(_)) => return Err(ValidationError::single("message", "names both a booking and an order")),
            (Some(id), None) => Subject::Booking(
                BookingId::parse(&id).map_err(|_| ValidationError::single("booking", "is not a booking id"))?,
            ),
            (None, Some(id)) => {
                Subject::Order(OrderId::parse(&id).map_err(|_| ValidationError::single("order", "is not an order id"))?)
            }
            (None, None) => Subject::Shared,
        };
        match wire.action.as_str() {
            "subscribe" => Ok(ClientRequest::Subscribe(subject)),
            "unsubscribe" => Ok(ClientRequest::Unsubscribe(subject)),
            _ => Err(ValidationError::single("action", "must be subscribe or unsubscribe")),
        }
    }
}

/// The token of shared link `share` that expires at `expires_at`.
pub fn seal_share_token(key: &CursorKey, share: ShareId, expires_at: DateTime<Utc>) -> String {
    let position = PagePosition::new(format!("{share}|{}", expires_at.timestamp_millis()));
    format!("{SHARE_PREFIX}{}", key.seal(SHARE_SCOPE, &position))
}

/// Whether `token` looks like a share token (and not a JWT): the authorizer's first question.
pub fn is_share_token(token: &str) -> bool {
    token.starts_with(SHARE_PREFIX)
}

/// Why a share token was refused (told to nobody but the logs' counters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ShareTokenError {
    #[error("not a share token this key sealed")]
    Invalid,
    #[error("expired")]
    Expired,
}

/// The share a token names, if this key sealed it and it has not expired at `now`.
pub fn open_share_token(key: &CursorKey, token: &str, now: DateTime<Utc>) -> Result<ShareId, ShareTokenError> {
    let sealed = token.strip_prefix(SHARE_PREFIX).ok_or(ShareTokenError::Invalid)?;
    let position = key.open(SHARE_SCOPE, sealed).map_err(|_| ShareTokenError::Invalid)?;
    let (share, expires) = position.as_str().split_once('|').ok_or(ShareTokenError::Invalid)?;
    let share = ShareId::parse(share).map_err(|_| ShareTokenError::Invalid)?;
    let expires: i64 = expires.parse().map_err(|_| ShareTokenError::Invalid)?;
    if now.timestamp_millis() >= expires {
        return Err(ShareTokenError::Expired);
    }
    Ok(share)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use chrono::Duration;

    fn key(byte: u8) -> CursorKey {
        CursorKey::from_base64(&base64::engine::general_purpose::STANDARD.encode([byte; 32])).unwrap()
    }

    #[test]
    fn a_share_token_opens_to_its_share_until_it_expires() {
        let (share, now) = (ShareId::generate(), Utc::now());
        let token = seal_share_token(&key(1), share, now + Duration::hours(1));
        assert!(is_share_token(&token));
        assert_eq!(open_share_token(&key(1), &token, now), Ok(share));
        assert_eq!(open_share_token(&key(1), &token, now + Duration::hours(2)), Err(ShareTokenError::Expired));
    }

    #[test]
    fn another_key_a_cursor_or_a_jwt_is_not_a_share_token() {
        let (share, now) = (ShareId::generate(), Utc::now());
        let token = seal_share_token(&key(1), share, now + Duration::hours(1));
        assert_eq!(open_share_token(&key(2), &token, now), Err(ShareTokenError::Invalid));
        let cursor = key(1).seal("anything", &PagePosition::new(format!("{share}|{}", i64::MAX)));
        assert_eq!(open_share_token(&key(1), &format!("s1.{cursor}"), now), Err(ShareTokenError::Invalid));
        assert!(!is_share_token("eyJhbGciOiJSUzI1NiJ9.e30.c2ln"));
    }

    #[test]
    fn client_messages_name_one_subject_and_an_action() {
        let id = BookingId::generate();
        let parsed = ClientRequest::parse(&format!(r#"{{"action":"subscribe","booking":"{id}"}}"#));
        assert_eq!(parsed, Ok(ClientRequest::Subscribe(Subject::Booking(id))));
        assert_eq!(
            ClientRequest::parse(r#"{"action":"unsubscribe"}"#),
            Ok(ClientRequest::Unsubscribe(Subject::Shared))
        );
        for bad in [
            r#"{"action":"subscribe","booking":"nope"}"#,
            r#"{"action":"publish"}"#,
            r#"{"action":"subscribe","extra":1}"#,
            "not json",
        ] {
            assert!(ClientRequest::parse(bad).is_err(), "{bad}");
        }
    }
}
