//! The `aws:kafka` event both ways: as an MSK event-source mapping delivers a batch to a function
//! (records grouped by `<topic>-<partition>`, key and value base64-encoded), decoded into
//! [`ConsumedRecord`]s, and built from them (the local bridge, `weelo-ops replay`/`redrive`, tests).

use crate::record::ConsumedRecord;
use aws_lambda_events::encodings::MillisecondTimestamp;
use aws_lambda_events::kafka::{KafkaEvent, KafkaRecord};
use base64::Engine;
use std::collections::{BTreeMap, HashMap};

/// The records of `event` by partition (`<topic>-<partition>`), each partition in offset order.
/// A key or value that is not base64 (no mapping sends one) is kept as its text.
pub fn decode(event: &KafkaEvent) -> BTreeMap<String, Vec<ConsumedRecord>> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let bytes =
        |text: &Option<String>| text.as_deref().map(|t| b64.decode(t).unwrap_or_else(|_| t.as_bytes().to_vec()));
    let mut partitions: BTreeMap<String, Vec<ConsumedRecord>> = BTreeMap::new();
    for (batch_key, records) in &event.records {
        for record in records {
            let topic = record.topic.clone().unwrap_or_else(|| topic_of(batch_key).to_owned());
            let consumed = ConsumedRecord {
                topic,
                partition: i32::try_from(record.partition).unwrap_or_default(),
                offset: record.offset,
                timestamp_ms: record.timestamp.0.timestamp_millis(),
                key: bytes(&record.key),
                value: bytes(&record.value),
                headers: record
                    .headers
                    .iter()
                    .flat_map(|h| h.iter().map(|(k, v)| (k.clone(), v.iter().map(|b| *b as u8).collect())))
                    .collect(),
            };
            partitions.entry(consumed.partition_id()).or_default().push(consumed);
        }
    }
    for records in partitions.values_mut() {
        records.sort_by_key(|r| r.offset);
    }
    partitions
}

/// `records` as the event an MSK event-source mapping with this source would deliver them in.
pub fn encode(event_source_arn: &str, bootstrap_servers: Option<&str>, records: &[ConsumedRecord]) -> KafkaEvent {
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut batches: HashMap<String, Vec<KafkaRecord>> = HashMap::new();
    for consumed in records {
        let mut record = KafkaRecord::default();
        record.topic = Some(consumed.topic.clone());
        record.partition = i64::from(consumed.partition);
        record.offset = consumed.offset;
        record.timestamp =
            MillisecondTimestamp(chrono::DateTime::from_timestamp_millis(consumed.timestamp_ms).unwrap_or_default());
        record.timestamp_type = Some("CREATE_TIME".into());
        record.key = consumed.key.as_deref().map(|k| b64.encode(k));
        record.value = consumed.value.as_deref().map(|v| b64.encode(v));
        record.headers = consumed
            .headers
            .iter()
            .map(|(k, v)| HashMap::from([(k.clone(), v.iter().map(|b| *b as i8).collect())]))
            .collect();
        batches.entry(consumed.partition_id()).or_default().push(record);
    }
    let mut event = KafkaEvent::default();
    event.event_source = Some("aws:kafka".into());
    event.event_source_arn = Some(event_source_arn.to_owned());
    event.bootstrap_servers = bootstrap_servers.map(str::to_owned);
    event.records = batches;
    event
}

/// The topic of a batch key `<topic>-<partition>`.
fn topic_of(batch_key: &str) -> &str {
    batch_key.rsplit_once('-').map_or(batch_key, |(topic, _)| topic)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_encode_and_decode_back_unchanged_in_offset_order() {
        // GIVEN records of two partitions, one out of order, one without a key or valid JSON
        let record = |partition, offset, value: &[u8]| ConsumedRecord {
            topic: "t.x".into(),
            partition,
            offset,
            timestamp_ms: 1_800_000_000_123,
            key: (offset != 3).then(|| b"k".to_vec()),
            value: Some(value.to_vec()),
            headers: vec![("h".into(), vec![1, 255])],
        };
        let records = [record(0, 2, b"b"), record(0, 1, b"a"), record(1, 3, b"\xff\x00")];
        // WHEN encoded as an MSK event and decoded again
        let event = encode("arn:test", Some("broker:9092"), &records);
        let decoded = decode(&event);
        // THEN each partition holds its records in offset order, byte for byte
        assert_eq!(event.records["t.x-0"].len(), 2);
        assert_eq!(decoded["t.x-0"], [records[1].clone(), records[0].clone()]);
        assert_eq!(decoded["t.x-1"], [records[2].clone()]);
        assert_eq!(event.bootstrap_servers.as_deref(), Some("broker:9092"));
    }
}
