//! [`KafkaEventBus`]: publishes event records with an idempotent, `acks=all` producer that is
//! created once per cold start and reused by every invocation.

use crate::{KafkaConfig, KafkaContext};
use async_trait::async_trait;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::util::Timeout;
use std::time::Duration;
use weelo_core::contract::events::EventRecord;
use weelo_core::ports::{EventBus, PublishError};

#[derive(Clone)]
pub struct KafkaEventBus {
    producer: FutureProducer<KafkaContext>,
    publish_timeout: Duration,
}

impl KafkaEventBus {
    pub async fn connect(config: &KafkaConfig) -> Result<Self, rdkafka::error::KafkaError> {
        let context = KafkaContext::for_config(config).await;
        let producer = config
            .client_config()
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("message.timeout.ms", config.publish_timeout.as_millis().to_string())
            // No lingering: a function runs one invocation at a time and queues a call's records at
            // once, so waiting for more only delays the answer (it cost every booking 2-3 ms). Records
            // queued while a produce request is in flight still go out together in the next one.
            .set("linger.ms", "0")
            .set("compression.type", "lz4")
            .create_with_context(context)?;
        Ok(Self { producer, publish_timeout: config.publish_timeout })
    }

    /// Waits until every queued record is delivered or failed (call before a process exits).
    pub fn flush(&self, timeout: Duration) {
        let _ = self.producer.flush(Timeout::After(timeout));
    }
}

#[async_trait]
impl EventBus for KafkaEventBus {
    async fn publish(&self, records: &[EventRecord]) -> Result<(), PublishError> {
        let started = std::time::Instant::now();
        let deliveries = records.iter().map(|record| {
            let headers = OwnedHeaders::new()
                .insert(Header { key: "content-type", value: Some("application/cloudevents+json; charset=UTF-8") })
                .insert(Header { key: "ce_id", value: Some(record.event_id.to_string().as_str()) });
            let message = FutureRecord::to(&record.topic)
                .key(record.key.as_bytes())
                .payload(record.payload.as_bytes())
                .headers(headers);
            self.producer.send(message, Timeout::After(self.publish_timeout))
        });
        let results = futures::future::join_all(deliveries).await;
        let failures: Vec<String> =
            results.into_iter().filter_map(|r| r.err().map(|(error, _)| error.to_string())).collect();
        // One latency sample per call: the records of a call are acknowledged together.
        weelo_telemetry::record_latency(weelo_telemetry::PUBLISH_LATENCY, started.elapsed().as_secs_f64() * 1000.0);
        metrics::counter!(weelo_telemetry::PUBLISHED).increment((records.len() - failures.len()) as u64);
        metrics::counter!(weelo_telemetry::PUBLISH_FAILED).increment(failures.len() as u64);
        match failures.first() {
            None => Ok(()),
            Some(first) => Err(PublishError(format!(
                "{} of {} records not acknowledged (first: {first})",
                failures.len(),
                records.len()
            ))),
        }
    }
}
