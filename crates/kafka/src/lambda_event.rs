//! The other side of the consumers' contract: Kafka records packed into the event an MSK
//! event-source mapping would invoke a function with.

use aws_lambda_events::encodings::MillisecondTimestamp;
use aws_lambda_events::kafka::{KafkaEvent, KafkaRecord};
use base64::Engine;
use rdkafka::Message;
use rdkafka::message::{Headers, OwnedMessage};
use std::collections::HashMap;

/// Records as Lambda's MSK event source delivers them to a function: grouped by `<topic>-<partition>`,
/// key and value base64-encoded. The local bridge and `weelo-ops replay`/`redrive` build their
/// invocations with it.
pub fn msk_event(event_source_arn: &str, batch: &[OwnedMessage]) -> KafkaEvent {
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut records: HashMap<String, Vec<KafkaRecord>> = HashMap::new();
    for message in batch {
        let mut record = KafkaRecord::default();
        record.topic = Some(message.topic().to_owned());
        record.partition = i64::from(message.partition());
        record.offset = message.offset();
        record.timestamp = MillisecondTimestamp(
            chrono::DateTime::from_timestamp_millis(message.timestamp().to_millis().unwrap_or_default())
                .unwrap_or_default(),
        );
        record.timestamp_type = Some("CREATE_TIME".into());
        record.key = message.key().map(|k| b64.encode(k));
        record.value = message.payload().map(|v| b64.encode(v));
        record.headers = message
            .headers()
            .map(|headers| {
                headers
                    .iter()
                    .map(|h| {
                        HashMap::from([(
                            h.key.to_owned(),
                            h.value.unwrap_or_default().iter().map(|b| *b as i8).collect(),
                        )])
                    })
                    .collect()
            })
            .unwrap_or_default();
        records.entry(format!("{}-{}", message.topic(), message.partition())).or_default().push(record);
    }
    let mut event = KafkaEvent::default();
    event.event_source = Some("aws:kafka".into());
    event.event_source_arn = Some(event_source_arn.to_owned());
    event.bootstrap_servers = std::env::var("KAFKA_BOOTSTRAP_SERVERS").ok();
    event.records = records;
    event
}
