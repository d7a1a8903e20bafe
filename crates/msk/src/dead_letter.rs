//! [`DeadLetter`]: one record set aside into an SQS queue, in the form the local bridge writes for a
//! mapping's on-failure destination and `weelo-ops skip` writes for a record it skips, and that
//! `weelo-ops redrive` reads back. (AWS's own destination records name offsets only; redrive reads
//! those too, `ops/src/redrive/letter.rs`.)

use crate::RecordId;
use base64::Engine;
use serde::{Deserialize, Serialize};

/// The most an SQS message holds.
pub const SQS_MAX_MESSAGE_BYTES: usize = 256 * 1024;
/// The most of an error a letter keeps (a function's error body has no limit of its own).
pub const MAX_ERROR_BYTES: usize = 4 * 1024;

/// One record set aside, with the function it was for and why. Key and value are base64; a value
/// (and then a key) too big for one message is left out ([`DeadLetter::to_message`]) and read
/// back from Kafka by its offset, within the topic's retention.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeadLetter {
    pub function: String,
    /// As `topic`, `partition` and `offset`.
    #[serde(flatten)]
    pub record: RecordId,
    pub key: Option<String>,
    pub value: Option<String>,
    /// The value's size when it was left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_bytes: Option<usize>,
    /// The key's size when it was left out too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_bytes: Option<usize>,
    pub error: String,
    /// When it was set aside (RFC 3339).
    #[serde(default)]
    pub failed_at: String,
}

/// Where a record was, and what it held.
#[derive(Debug, Clone, Copy)]
pub struct RecordAt<'a> {
    pub topic: &'a str,
    pub partition: i32,
    pub offset: i64,
    pub key: Option<&'a [u8]>,
    pub value: Option<&'a [u8]>,
}

impl DeadLetter {
    /// `record`, set aside now from `function` because of `error` (its first [`MAX_ERROR_BYTES`]).
    pub fn new(function: &str, record: RecordAt<'_>, mut error: String) -> Self {
        if error.len() > MAX_ERROR_BYTES {
            let mut end = MAX_ERROR_BYTES;
            while !error.is_char_boundary(end) {
                end -= 1;
            }
            error.truncate(end);
            error.push('…');
        }
        let b64 = base64::engine::general_purpose::STANDARD;
        Self {
            function: function.to_owned(),
            record: RecordId { topic: record.topic.to_owned(), partition: record.partition, offset: record.offset },
            key: record.key.map(|k| b64.encode(k)),
            value: record.value.map(|v| b64.encode(v)),
            value_bytes: None,
            key_bytes: None,
            error,
            failed_at: chrono::Utc::now().to_rfc3339(),
        }
    }

    /// The message body: the whole letter; when that would not fit in an SQS message, the letter
    /// without its value, and then without its key too (named by its offset, as AWS's own
    /// destination records are). It always fits: what is left is bounded.
    pub fn to_message(&self) -> String {
        let serialised = |letter: &Self| serde_json::to_string(letter).expect("a dead letter serialises");
        let decoded_len = |v: &String| v.len() / 4 * 3 - v.bytes().rev().take_while(|b| *b == b'=').count();
        let whole = serialised(self);
        if whole.len() <= SQS_MAX_MESSAGE_BYTES {
            return whole;
        }
        let mut named = Self { value: None, value_bytes: self.value.as_ref().map(decoded_len), ..self.clone() };
        let without_value = serialised(&named);
        if without_value.len() <= SQS_MAX_MESSAGE_BYTES {
            return without_value;
        }
        named.key_bytes = named.key.take().as_ref().map(decoded_len);
        serialised(&named)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn letter(value: &[u8]) -> DeadLetter {
        let at = RecordAt { topic: "t", partition: 3, offset: 41, key: Some(b"k"), value: Some(value) };
        DeadLetter::new("fcm-consumer", at, "boom".to_owned())
    }

    #[test]
    fn a_letter_that_fits_carries_its_record_and_reads_back_the_same() {
        // GIVEN a record of a few bytes set aside
        let letter = letter(b"hello");
        // WHEN it becomes a message and is read back
        let read: DeadLetter = serde_json::from_str(&letter.to_message()).unwrap();
        // THEN it is the same letter, its value carried
        assert_eq!(read, letter);
        assert_eq!(read.value.as_deref(), Some("aGVsbG8="));
    }

    #[test]
    fn the_message_names_its_fields_as_redrive_and_the_bridge_always_did() {
        // GIVEN a small record set aside
        let message = letter(b"v").to_message();
        // THEN its fields are the camelCase names the queue's readers know, and nothing was left out
        let fields: serde_json::Value = serde_json::from_str(&message).unwrap();
        let mut names: Vec<&str> = fields.as_object().unwrap().keys().map(String::as_str).collect();
        names.sort_unstable();
        assert_eq!(names, ["error", "failedAt", "function", "key", "offset", "partition", "topic", "value"]);
    }

    #[test]
    fn a_record_too_big_for_a_message_is_named_by_its_offset_with_its_size() {
        // GIVEN a record of 300,001 bytes, more than an SQS message holds
        let letter = letter(&vec![7u8; 300_001]);
        // WHEN it becomes a message
        let message = letter.to_message();
        // THEN the message fits, names the record by partition and offset, and says how big it was
        assert!(message.len() <= SQS_MAX_MESSAGE_BYTES);
        assert!(message.contains(r#""valueBytes":300001"#), "{message}");
        let read: DeadLetter = serde_json::from_str(&message).unwrap();
        assert_eq!(
            (read.record.partition, read.record.offset, read.value, read.value_bytes),
            (3, 41, None, Some(300_001))
        );
        assert_eq!(read.key.as_deref(), Some("aw=="));
    }

    #[test]
    fn a_huge_key_and_error_still_make_a_message_that_fits() {
        // GIVEN a record with a 300 KB key and value, failed with a 300 KB error
        let at = RecordAt { topic: "t", partition: 0, offset: 7, key: Some(&[1u8; 300_002]), value: Some(b"v") };
        let letter = DeadLetter::new("order-fanout", at, "é".repeat(150_000));
        // WHEN it becomes a message
        let message = letter.to_message();
        // THEN it fits, the error cut to its first 4 KiB, key and value named by their sizes
        assert!(message.len() <= SQS_MAX_MESSAGE_BYTES);
        let read: DeadLetter = serde_json::from_str(&message).unwrap();
        assert!(read.error.len() <= MAX_ERROR_BYTES + '…'.len_utf8() && read.error.ends_with('…'));
        assert_eq!((read.key, read.key_bytes, read.value, read.value_bytes), (None, Some(300_002), None, Some(1)));
    }
}
