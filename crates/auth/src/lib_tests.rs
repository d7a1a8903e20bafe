use super::*;
use base64::Engine;

#[test]
fn an_unset_cursor_key_is_named_in_the_error() {
    // GIVEN no CURSOR_KEY, WHEN it is read, THEN the error names the variable.
    let error = cursor_key(None).unwrap_err();
    assert_eq!(error.to_string(), "environment variable CURSOR_KEY is not set");
}

#[test]
fn a_cursor_key_too_short_to_seal_with_is_refused_with_the_reason() {
    // GIVEN a key of 31 bytes, WHEN it is read, THEN the error names the variable and the minimum.
    let short = base64::engine::general_purpose::STANDARD.encode([7u8; 31]);
    let error = cursor_key(Some(short)).unwrap_err();
    assert!(matches!(error, SetupError::CursorKey(CursorKeyError::TooShort)), "{error:?}");
    assert!(error.to_string().starts_with("environment variable CURSOR_KEY must hold at least 32 bytes"), "{error}");
}

#[test]
fn a_cursor_key_of_32_bytes_is_read() {
    // GIVEN a base64 key of 32 bytes, WHEN it is read, THEN it is the key.
    let key = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
    assert_eq!(cursor_key(Some(key.clone())).unwrap(), CursorKey::from_base64(&key).unwrap());
}
