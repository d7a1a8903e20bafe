//! `weelo-ops redrive`: sends dead-lettered records back to their function, one message (or
//! object) at a time, and says what happened to each. A message whose records the function now
//! processes is deleted from its queue or bucket; one that fails again stays there (in a queue,
//! visible again at once) with the new reason reported.
//!
//! A mapping's on-failure destination is an SQS queue or an S3 bucket ([`Source`]), and three kinds
//! of message are understood:
//! - the local bridge's queue message: the record itself plus `function` and `error`; a record too
//!   big for an SQS message comes without its value and is read back from Kafka at its offset;
//! - AWS's own on-failure record of an MSK mapping in a queue: metadata only
//!   (`requestContext.functionArn` and `KafkaBatchInfo.recordsInfo`, first and last offset per
//!   topic-partition), so every record of the batch is read back from Kafka, which must still hold
//!   it (retention: 7 days);
//! - the same record as AWS (or the local bridge) writes it to an S3 bucket, which adds `payload`,
//!   the whole invocation event: its records are sent back as they are, Kafka is not read.

mod bucket;
mod letter;

pub use letter::{AwsDestinationRecord, Letter};
pub use weelo_msk::DeadLetter;

use crate::invoke::{Invoker, Outcome};

/// What became of one message (or object).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redriven {
    /// Processed by the function and deleted from its queue or bucket.
    Processed { function: String, topic: String, offset: i64 },
    /// Failed again; left where it was.
    FailedAgain { function: String, topic: String, offset: i64, reason: String },
    /// Not a message the tool understands, or its records are gone from Kafka; left where it was.
    NotRedrivable { reason: String },
}

/// Where the dead letters are: a mapping's on-failure destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// An SQS queue, by name: one message per record or per failed batch.
    Queue(String),
    /// An S3 bucket, by name: one object per failed batch.
    Bucket(String),
}

impl Source {
    /// What it holds, in the plural, for the report.
    pub fn items(&self) -> &'static str {
        match self {
            Source::Queue(_) => "messages",
            Source::Bucket(_) => "objects",
        }
    }
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Queue(name) => f.write_str(name),
            Source::Bucket(name) => write!(f, "s3://{name}"),
        }
    }
}

/// Redrives every message of `source` (at most `max`). `function` overrides the function named in
/// each message (in AWS names carry the stack's prefix).
pub async fn redrive(source: &Source, function: Option<&str>, max: usize) -> anyhow::Result<Vec<Redriven>> {
    match source {
        Source::Queue(queue) => redrive_queue(queue, function, max).await,
        Source::Bucket(name) => bucket::redrive_bucket(name, function, max).await,
    }
}

async fn redrive_queue(queue: &str, function: Option<&str>, max: usize) -> anyhow::Result<Vec<Redriven>> {
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
            let outcome = redrive_one(&invoker, queue, function, message.body().unwrap_or_default()).await;
            if matches!(outcome, Redriven::Processed { .. }) {
                sqs.delete_message().queue_url(&url).receipt_handle(&handle).send().await?;
            } else {
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

/// Sends the records of one dead letter (`body`, from `source`) back to its function (or `function`).
async fn redrive_one(invoker: &Invoker, source: &str, function: Option<&str>, body: &str) -> Redriven {
    let letter = match Letter::parse(body) {
        Ok(letter) => letter,
        Err(reason) => return Redriven::NotRedrivable { reason },
    };
    let target = function.unwrap_or(&letter.function).to_owned();
    let (topic, offset) = letter.first();
    let records = match letter.records().await {
        Ok(records) => records,
        Err(error) => return Redriven::NotRedrivable { reason: format!("{error:#}") },
    };
    let event = weelo_msk::encode(&format!("weelo-ops:redrive:{source}"), None, &records);
    match invoker.invoke(&target, &event).await {
        Outcome::Processed => Redriven::Processed { function: target, topic, offset },
        Outcome::PartlyFailed(_) => {
            let reason = format!("the function failed the record again (dead-lettered for: {})", letter.error);
            Redriven::FailedAgain { function: target, topic, offset, reason }
        }
        Outcome::Failed(reason) => Redriven::FailedAgain { function: target, topic, offset, reason },
    }
}
