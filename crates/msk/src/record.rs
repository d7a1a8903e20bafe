//! [`ConsumedRecord`]: one Kafka record as a consumer sees it, however it arrived (an `aws:kafka`
//! event, the broker itself, a dead-letter message).

use serde::{Deserialize, Serialize};
use weelo_core::contract::events::DomainEvent;
use weelo_core::model::ids::EventId;

/// What names a Kafka record: its topic, partition and offset. Archive readers keep one record
/// per id; dead letters and the archive's lines carry it as three fields.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RecordId {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumedRecord {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    /// Milliseconds since the epoch (the record's create time; 0 when unknown).
    pub timestamp_ms: i64,
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    pub headers: Vec<(String, Vec<u8>)>,
}

impl ConsumedRecord {
    pub fn id(&self) -> RecordId {
        RecordId { topic: self.topic.clone(), partition: self.partition, offset: self.offset }
    }

    /// `<topic>-<partition>`: how a batch and a partial batch response name the partition.
    pub fn partition_id(&self) -> String {
        format!("{}-{}", self.topic, self.partition)
    }

    /// The key as text (lossy).
    pub fn key_text(&self) -> Option<String> {
        self.key.as_deref().map(|k| String::from_utf8_lossy(k).into_owned())
    }

    /// The value as text (lossy; empty when there is none).
    pub fn value_text(&self) -> String {
        self.value.as_deref().map(|v| String::from_utf8_lossy(v).into_owned()).unwrap_or_default()
    }

    /// The domain event the value holds, or why it holds none.
    pub fn event(&self) -> Result<(EventId, DomainEvent), String> {
        let value = self.value.as_deref().ok_or_else(|| "record has no value".to_owned())?;
        DomainEvent::from_payload(value).map_err(|e| e.to_string())
    }
}
