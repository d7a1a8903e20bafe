//! `weelo-ops redrive`: sends dead-lettered records back to their function, one by one, and says
//! what happened to each. A record the function now processes is deleted from the queue; one that
//! fails again stays there (visible again at once) with the new reason reported.
//!
//! The messages are those the local bridge writes: the record itself plus `function` and `error`;
//! a record too big for an SQS message comes without its value and is read back from Kafka at its
//! offset (while the topic still retains it: 7 days). In AWS an MSK mapping's SQS destination
//! receives only the batch's metadata in a format of its own; such a message is reported as
//! needing `weelo-ops replay` for its offsets, and left in the queue.

use crate::invoke::{Invoker, Outcome};
use base64::Engine;
use rdkafka::Timestamp;
use rdkafka::message::OwnedMessage;
use serde::Deserialize;

/// A dead letter as the local bridge writes it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeadLetter {
    pub function: String,
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub key: Option<String>,
    pub value: Option<String>,
    pub error: String,
}

impl DeadLetter {
    /// The record: from the message, or from Kafka when the message only names it.
    async fn record(&self) -> anyhow::Result<OwnedMessage> {
        if self.value.is_none() {
            let config = weelo_kafka::KafkaConfig::from_env()?;
            let (topic, partition, offset) = (self.topic.clone(), self.partition, self.offset);
            return tokio::task::spawn_blocking(move || {
                let range = crate::replay::PartitionRange { partition, start: offset, end: offset + 1 };
                let mut found = None;
                crate::replay::read_range(&config, &topic, range, 1, |mut chunk| {
                    found = chunk.pop();
                    Ok(())
                })?;
                found.ok_or_else(|| anyhow::anyhow!("{topic}-{partition}@{offset} is no longer in Kafka"))
            })
            .await?;
        }
        Ok(self.record_in_message())
    }

    fn record_in_message(&self) -> OwnedMessage {
        let b64 = base64::engine::general_purpose::STANDARD;
        let decode = |text: &Option<String>| text.as_deref().and_then(|t| b64.decode(t).ok());
        OwnedMessage::new(
            decode(&self.value),
            decode(&self.key),
            self.topic.clone(),
            Timestamp::now(),
            self.partition,
            self.offset,
            None,
        )
    }
}

/// What became of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redriven {
    /// Processed by the function and deleted from the queue.
    Processed { function: String, topic: String, offset: i64 },
    /// Failed again; left in the queue.
    FailedAgain { function: String, topic: String, offset: i64, reason: String },
    /// Not a record the tool can send (e.g. AWS's metadata-only destination record); left in the queue.
    NotRedrivable { reason: String },
}

/// Redrives every message of the queue named `queue` (at most `max`). `function` overrides the
/// function named in each message (in AWS names carry the stack's prefix).
pub async fn redrive(queue: &str, function: Option<&str>, max: usize) -> anyhow::Result<Vec<Redriven>> {
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let sqs = aws_sdk_sqs::Client::new(&aws);
    let url = sqs.get_queue_url().queue_name(queue).send().await?.queue_url.unwrap_or_default();
    let invoker = Invoker::from_env().await;
    let bar = crate::progress(max as u64, &format!("redriving {queue}"));
    let mut outcomes = Vec::new();
    // A message left in the queue is not received twice in one run: it stays invisible until
    // the run ends, then its visibility is reset so the next run (or a person) sees it at once.
    let mut kept = Vec::new();
    while outcomes.len() < max {
        let received = sqs
            .receive_message()
            .queue_url(&url)
            .max_number_of_messages(10.min((max - outcomes.len()) as i32))
            .visibility_timeout(300)
            .wait_time_seconds(1)
            .send()
            .await?;
        if received.messages().is_empty() {
            break;
        }
        for message in received.messages() {
            let handle = message.receipt_handle().unwrap_or_default().to_owned();
            let outcome = match serde_json::from_str::<DeadLetter>(message.body().unwrap_or_default()) {
                Err(error) => Redriven::NotRedrivable {
                    reason: format!(
                        "not a record the bridge dead-lettered ({error}); for an AWS destination record use `weelo-ops replay` with its offsets"
                    ),
                },
                Ok(letter) => {
                    let target = function.unwrap_or(&letter.function).to_owned();
                    let record = match letter.record().await {
                        Ok(record) => record,
                        Err(error) => {
                            kept.push(handle);
                            outcomes.push(Redriven::NotRedrivable { reason: format!("{error:#}") });
                            bar.inc(1);
                            continue;
                        }
                    };
                    let event = weelo_kafka::msk_event(&format!("weelo-ops:redrive:{queue}"), &[record]);
                    match invoker.invoke(&target, &event).await {
                        Outcome::Processed => {
                            sqs.delete_message().queue_url(&url).receipt_handle(&handle).send().await?;
                            Redriven::Processed { function: target, topic: letter.topic, offset: letter.offset }
                        }
                        Outcome::PartlyFailed(_) => Redriven::FailedAgain {
                            function: target,
                            topic: letter.topic,
                            offset: letter.offset,
                            reason: format!(
                                "the function failed the record again (dead-lettered for: {})",
                                letter.error
                            ),
                        },
                        Outcome::Failed(reason) => Redriven::FailedAgain {
                            function: target,
                            topic: letter.topic,
                            offset: letter.offset,
                            reason,
                        },
                    }
                }
            };
            if !matches!(outcome, Redriven::Processed { .. }) {
                kept.push(handle);
            }
            outcomes.push(outcome);
            bar.inc(1);
        }
    }
    for handle in kept {
        sqs.change_message_visibility().queue_url(&url).receipt_handle(handle).visibility_timeout(0).send().await?;
    }
    bar.finish_and_clear();
    Ok(outcomes)
}
