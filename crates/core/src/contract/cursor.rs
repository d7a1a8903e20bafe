//! Cursors: where a page of a list ended, handed to the client sealed.
//!
//! A cursor is `base64url(position) . base64url(HMAC-SHA256(key, scope, position))`. The position is
//! the store's own resume point (for DynamoDB, the index key of the last item read); the scope names
//! the caller, the list and its filters. So a client can hold a cursor and give it back, but cannot
//! make one, change one, use another user's or use one with another query: each of those fails the
//! MAC and answers 400, before the store is asked anything. The key comes from configuration
//! (`CURSOR_KEY`); rotating it invalidates the cursors in flight, which costs a client one restart
//! of its listing.

use crate::error::ValidationError;
use crate::ports::PagePosition;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use std::fmt;

/// The secret cursors are sealed with: at least 32 random bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct CursorKey(Vec<u8>);

/// Why a configured cursor key was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CursorKeyError {
    #[error("is not base64")]
    NotBase64,
    #[error("must hold at least {} bytes (e.g. `openssl rand -base64 32`)", CursorKey::MIN_BYTES)]
    TooShort,
}

impl CursorKey {
    pub const MIN_BYTES: usize = 32;

    /// The key as configured: standard base64 of at least [`Self::MIN_BYTES`] bytes.
    pub fn from_base64(text: &str) -> Result<Self, CursorKeyError> {
        let bytes = STANDARD.decode(text.trim()).map_err(|_| CursorKeyError::NotBase64)?;
        if bytes.len() < Self::MIN_BYTES {
            return Err(CursorKeyError::TooShort);
        }
        Ok(Self(bytes))
    }

    /// The cursor a client gets for `position` in the list named by `scope`.
    pub fn seal(&self, scope: &str, position: &PagePosition) -> String {
        let tag = self.mac(scope, position.as_str()).finalize().into_bytes();
        format!("{}.{}", URL_SAFE_NO_PAD.encode(position.as_str()), URL_SAFE_NO_PAD.encode(tag))
    }

    /// The position in `cursor`, if this key sealed it for `scope`; otherwise a 400 naming `cursor`.
    pub fn open(&self, scope: &str, cursor: &str) -> Result<PagePosition, ValidationError> {
        let refused = || ValidationError::single("cursor", "is not a cursor this list gave out");
        let (position, tag) = cursor.split_once('.').ok_or_else(refused)?;
        let position = URL_SAFE_NO_PAD.decode(position).map_err(|_| refused())?;
        let position = String::from_utf8(position).map_err(|_| refused())?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| refused())?;
        // Constant-time comparison: the time taken says nothing about how much of a forgery matched.
        self.mac(scope, &position).verify_slice(&tag).map_err(|_| refused())?;
        Ok(PagePosition::new(position))
    }

    /// The MAC over the scope and the position, each prefixed with its length so that no two
    /// different pairs feed it the same bytes.
    fn mac(&self, scope: &str, position: &str) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0).expect("HMAC takes a key of any length");
        for part in [scope, position] {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part.as_bytes());
        }
        mac
    }
}

impl fmt::Debug for CursorKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CursorKey(redacted)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> CursorKey {
        CursorKey::from_base64(&STANDARD.encode([byte; 32])).unwrap()
    }

    fn position() -> PagePosition {
        PagePosition::new(r#"{"bookingId":"b-1","createdAtMs":1}"#.to_owned())
    }

    #[test]
    fn a_sealed_cursor_opens_to_its_position_with_the_same_key_and_scope() {
        let cursor = key(1).seal("ravi|bookings|status=", &position());
        assert_eq!(key(1).open("ravi|bookings|status=", &cursor), Ok(position()));
    }

    #[test]
    fn another_scope_another_key_or_any_change_to_the_cursor_is_refused() {
        let cursor = key(1).seal("ravi|bookings|status=", &position());
        let (body, tag) = cursor.split_once('.').unwrap();
        let forged_body = format!("{}.{tag}", URL_SAFE_NO_PAD.encode(r#"{"bookingId":"b-2","createdAtMs":1}"#));
        let flipped_tag = format!("{body}.{}{}", if tag.starts_with('A') { "B" } else { "A" }, &tag[1..]);
        for (why, scope, cursor, with) in [
            ("another user", "asha|bookings|status=", cursor.clone(), key(1)),
            ("another query", "ravi|bookings|status=accepted", cursor.clone(), key(1)),
            ("another key", "ravi|bookings|status=", cursor.clone(), key(2)),
            ("truncated", "ravi|bookings|status=", cursor[..cursor.len() - 3].to_owned(), key(1)),
            ("no tag", "ravi|bookings|status=", body.to_owned(), key(1)),
            ("forged position", "ravi|bookings|status=", forged_body, key(1)),
            ("altered tag", "ravi|bookings|status=", flipped_tag, key(1)),
            ("not base64", "ravi|bookings|status=", "%%%.%%%".to_owned(), key(1)),
        ] {
            let refused = with.open(scope, &cursor).unwrap_err();
            assert_eq!(refused.details[0].field, "cursor", "{why}");
        }
    }

    #[test]
    fn a_configured_key_must_be_base64_of_at_least_32_bytes() {
        assert_eq!(CursorKey::from_base64("not base64!"), Err(CursorKeyError::NotBase64));
        assert_eq!(CursorKey::from_base64(&STANDARD.encode([7u8; 31])), Err(CursorKeyError::TooShort));
        assert!(CursorKey::from_base64(&STANDARD.encode([7u8; 32])).is_ok());
    }
}
