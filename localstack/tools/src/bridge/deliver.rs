//! Delivering one partition's batch as an MSK event-source mapping does. In provisioned mode (the
//! default): the invocation, the partial batch response honoured, retries with backoff, bisection
//! of a batch that makes the function fail, and then the mapping's on-failure destination. In
//! on-demand mode ([`Mapping::on_demand`]): any answer is success, and a function error delivers
//! the whole batch again, without limit (in AWS until the records expire).

use super::{DeadLetters, Invoke, InvokeError, Mapping};
use aws_lambda_events::kafka::KafkaEvent;
use rdkafka::message::{Message, OwnedMessage};
use std::time::Duration;
use weelo_msk::BatchResponse;

/// What the bridge did for one partition batch, for logs and tests.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct BatchOutcome {
    pub invocations: usize,
    pub dead_lettered: usize,
}

/// Delivers one partition's records until each is processed or sent to the on-failure destination.
pub async fn deliver<I: Invoke>(
    mapping: &Mapping, invoker: &I, dead_letters: &DeadLetters, records: Vec<OwnedMessage>,
) -> anyhow::Result<BatchOutcome> {
    if mapping.on_demand {
        return Ok(deliver_on_demand(mapping, invoker, &records).await);
    }
    let mut outcome = BatchOutcome::default();
    let mut queue: Vec<Vec<OwnedMessage>> = vec![records];
    while let Some(mut batch) = queue.pop() {
        let mut attempt = 0u32;
        while !batch.is_empty() {
            outcome.invocations += 1;
            let result = invoke_once(mapping, invoker, &batch).await;
            match result {
                Ok(None) => break,
                Ok(Some(failed_at)) => {
                    // Everything before the failed record is done; the rest is retried from there.
                    batch.retain(|r| r.offset() >= failed_at);
                    attempt += 1;
                    if attempt > mapping.maximum_retry_attempts {
                        let poison = batch.remove(0);
                        dead_letters
                            .send(mapping, std::slice::from_ref(&poison), "reported as failed by the function")
                            .await?;
                        outcome.dead_lettered += 1;
                        attempt = 0;
                    }
                }
                Err(error) => {
                    attempt += 1;
                    if attempt > mapping.maximum_retry_attempts {
                        if mapping.bisect_batch_on_function_error && batch.len() > 1 {
                            let second = batch.split_off(batch.len() / 2);
                            queue.push(second);
                            queue.push(std::mem::take(&mut batch));
                            break;
                        }
                        dead_letters.send(mapping, &batch, &error.to_string()).await?;
                        outcome.dead_lettered += batch.len();
                        break;
                    }
                    tracing::warn!(function = %mapping.function, attempt, %error, "invocation failed; retrying");
                }
            }
            tokio::time::sleep(backoff(attempt)).await;
        }
    }
    Ok(outcome)
}

/// An on-demand mapping's delivery: again and again until the function answers without error;
/// what it answers is not read (no partial batch responses in on-demand mode).
async fn deliver_on_demand<I: Invoke>(mapping: &Mapping, invoker: &I, batch: &[OwnedMessage]) -> BatchOutcome {
    let mut outcome = BatchOutcome::default();
    let mut attempt = 0u32;
    loop {
        outcome.invocations += 1;
        let payload = serde_json::to_vec(&msk_event(mapping, batch)).expect("an MSK event serialises");
        let timeout = Duration::from_secs(mapping.function_timeout_seconds);
        match tokio::time::timeout(timeout, invoker.invoke(&mapping.function, payload)).await {
            Ok(Ok(_)) => return outcome,
            Ok(Err(error)) => {
                tracing::warn!(function = %mapping.function, attempt, %error, "invocation failed; delivering the batch again")
            }
            Err(_) => {
                tracing::warn!(function = %mapping.function, attempt, "invocation timed out; delivering the batch again")
            }
        }
        attempt += 1;
        tokio::time::sleep(backoff(attempt)).await;
    }
}

pub(super) fn backoff(attempt: u32) -> Duration {
    if attempt == 0 { Duration::ZERO } else { Duration::from_millis((100u64 << attempt.min(5)).min(3000)) }
}

/// One invocation: `Ok(None)` all done, `Ok(Some(offset))` failed from that offset on.
async fn invoke_once<I: Invoke>(
    mapping: &Mapping, invoker: &I, batch: &[OwnedMessage],
) -> Result<Option<i64>, InvokeError> {
    let payload = serde_json::to_vec(&msk_event(mapping, batch)).expect("an MSK event serialises");
    let timeout = Duration::from_secs(mapping.function_timeout_seconds);
    let body = tokio::time::timeout(timeout, invoker.invoke(&mapping.function, payload))
        .await
        .map_err(|_| InvokeError::Timeout(timeout))??;
    let trimmed = String::from_utf8_lossy(&body);
    if trimmed.trim().is_empty() || trimmed.trim() == "null" {
        return Ok(None);
    }
    let response: BatchResponse =
        serde_json::from_slice(&body).map_err(|e| InvokeError::InvalidResponse(e.to_string()))?;
    let partition = batch.first().map(|r| format!("{}-{}", r.topic(), r.partition())).unwrap_or_default();
    let mut failed_at = None;
    for failure in response.batch_item_failures {
        let id = failure.item_identifier;
        // Lambda treats a failure naming a record that was not in the batch as a failed batch.
        if id.partition != partition || !batch.iter().any(|r| r.offset() == id.offset) {
            return Err(InvokeError::InvalidResponse(format!("unknown record {}@{}", id.partition, id.offset)));
        }
        failed_at = Some(failed_at.map_or(id.offset, |o: i64| o.min(id.offset)));
    }
    Ok(failed_at)
}

/// The event as Lambda's MSK event source delivers it to the mapping's function.
pub fn msk_event(mapping: &Mapping, batch: &[OwnedMessage]) -> KafkaEvent {
    let arn = format!("arn:aws:kafka:local:000000000000:cluster/weelo-local/{}", mapping.function);
    weelo_msk::encode(&arn, None, &batch.iter().map(weelo_kafka::consumed).collect::<Vec<_>>())
}
