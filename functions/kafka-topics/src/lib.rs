//! The `kafka-topics` function: makes the cluster's topics match the definitions it is given (the
//! content of `infra/definitions/topics.json`): creates missing topics, adds partitions, sets
//! retention; refuses, changing nothing, a definition with fewer partitions than its topic has.
//! MSK Serverless has no topic resource in Terraform's AWS provider, so `terraform apply` invokes
//! this function inside the VPC, with IAM auth, whenever the topic definitions change. On the first
//! apply that can be before the role's new policy has reached MSK: refused access is tried again
//! for a while ([`retry`]). Counts `TopicsCreated`, `TopicsUpdated` and `AccessRetried` (see
//! `weelo-telemetry`).

pub mod retry;

use lambda_runtime::{Error, LambdaEvent};
use retry::{RetryPolicy, TokioClock, TopicsError, retry_access_denied};
use serde::{Deserialize, Serialize};
use weelo_kafka::{KafkaConfig, TopicDefinition};

/// The invocation payload: `topics.json` as it is (other fields, such as `$comment`, are ignored).
#[derive(Debug, Deserialize)]
pub struct TopicsRequest {
    pub topics: Vec<TopicDefinition>,
}

/// The invocation's result (Terraform's `kafka_topics` output).
#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicsReport {
    pub created: Vec<String>,
    /// One line per change to an existing topic, e.g. `location.updated: partitions 12 → 24`.
    pub updated: Vec<String>,
    /// The existing topics, changed or not.
    pub existing: Vec<String>,
}

/// The function's settings, read once from the environment.
pub struct Settings {
    pub kafka: KafkaConfig,
    /// Replication factor for new topics; -1 lets the cluster choose (MSK Serverless always
    /// replicates three ways; a single local broker has one copy).
    pub replication: i32,
    /// How long refused access is tried again (see [`retry`]). Not from the environment: every
    /// variable a function reads must be set by Terraform (infra/checks), and one minute is what
    /// IAM's propagation needs; a test or another caller sets its own.
    pub retry: RetryPolicy,
}

impl Settings {
    /// `KAFKA_*` and `KAFKA_TOPIC_REPLICATION` (default -1); refusals tried again for
    /// [`RetryPolicy::DEFAULT_BUDGET`].
    pub fn from_env() -> anyhow::Result<Self> {
        Ok(Self {
            kafka: KafkaConfig::from_env()?,
            replication: weelo_aws::parsed_or("KAFKA_TOPIC_REPLICATION", -1)?,
            retry: RetryPolicy::within(RetryPolicy::DEFAULT_BUDGET),
        })
    }
}

pub async fn handle(settings: &Settings, event: LambdaEvent<TopicsRequest>) -> Result<TopicsReport, Error> {
    let topics = event.payload.topics;
    if topics.is_empty() {
        return Err(TopicsError::NoTopics.into());
    }
    // The error keeps the whole chain of causes, so the failed invocation (and the `terraform
    // apply` that made it) says why, not only what.
    let changes = retry_access_denied(&settings.retry, &TokioClock::start(), || {
        weelo_kafka::ensure_topics(&settings.kafka, &topics, settings.replication)
    })
    .await?;
    metrics::counter!(weelo_telemetry::TOPICS_CREATED).increment(changes.created.len() as u64);
    metrics::counter!(weelo_telemetry::TOPICS_UPDATED).increment(changes.updated.len() as u64);
    let existing = topics.iter().map(|t| t.name.clone()).filter(|name| !changes.created.contains(name)).collect();
    tracing::info!(created = ?changes.created, updated = ?changes.updated, ?existing, "topics ensured");
    Ok(TopicsReport { created: changes.created, updated: changes.updated, existing })
}
