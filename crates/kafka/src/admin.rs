//! Topic administration: makes the cluster's topics match `infra/definitions/topics.json`. Used by
//! the local provisioner and by the MSK topic bootstrap (the `kafka-topics` function), so editing
//! that file and applying is how partitions are added and retention is changed in every
//! environment.

use crate::access::AccessDenied;
use crate::{KafkaConfig, KafkaContext};
use anyhow::Context;
use rdkafka::admin::{AdminClient, AdminOptions, NewPartitions, NewTopic, ResourceSpecifier, TopicReplication};
use rdkafka::error::KafkaError;
use rdkafka::types::RDKafkaErrorCode;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use weelo_definitions::TopicDefinition;

const RETENTION: &str = "retention.ms";
const TIMEOUT: Duration = Duration::from_secs(30);

/// What [`ensure_topics`] changed; a topic named in neither list already matched its definition.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicChanges {
    pub created: Vec<String>,
    /// One line per change to an existing topic, e.g. `location.updated: partitions 12 → 24`.
    pub updated: Vec<String>,
}

/// Creates every missing topic, adds partitions to topics that have fewer than their definition,
/// and sets `retention.ms` where it differs. A failure because the cluster refused this client's
/// identity or permissions is an [`AccessDenied`] (see `anyhow::Error::downcast_ref`).
///
/// A definition with fewer partitions than its topic has is refused (Kafka cannot remove
/// partitions; recreating the topic would drop its records), and then nothing is changed at all:
/// every definition is checked against the cluster before the first change.
///
/// Adding partitions moves some keys to another partition from then on, so per-key order holds
/// again only once the records written before the change are consumed; that is the price of
/// more consumer parallelism, chosen by whoever edits the definition.
pub async fn ensure_topics(
    config: &KafkaConfig, topics: &[TopicDefinition], replication: i32,
) -> anyhow::Result<TopicChanges> {
    let context = KafkaContext::for_config(config).await;
    let authentication = context.authentication_failures();
    let admin: Arc<AdminClient<KafkaContext>> = Arc::new(config.client_config().create_with_context(context)?);
    apply(&admin, topics, replication).await.map_err(|error| AccessDenied::classify(error, authentication.seen()))
}

/// [`ensure_topics`] once the client is made. A refusal keeps its [`KafkaError`] in the chain of
/// causes, so [`AccessDenied::classify`] can tell an access refused from any other failure.
async fn apply(
    admin: &Arc<AdminClient<KafkaContext>>, topics: &[TopicDefinition], replication: i32,
) -> anyhow::Result<TopicChanges> {
    let existing = partition_counts(admin).await.context("listing the cluster's topics")?;
    let shrinking: Vec<String> = topics
        .iter()
        .filter_map(|t| {
            let has = *existing.get(&t.name)?;
            (t.partitions < has).then(|| format!("{}: defined with {} partitions, has {has}", t.name, t.partitions))
        })
        .collect();
    anyhow::ensure!(
        shrinking.is_empty(),
        "Kafka cannot remove partitions, so nothing was changed: {}",
        shrinking.join("; ")
    );
    let (new, old): (Vec<&TopicDefinition>, Vec<&TopicDefinition>) =
        topics.iter().partition(|t| !existing.contains_key(&t.name));
    let mut changes = TopicChanges { created: create(admin, &new, replication).await?, updated: Vec::new() };
    changes.updated.extend(add_partitions(admin, &old, &existing).await?);
    changes.updated.extend(set_retention(admin, &old).await?);
    Ok(changes)
}

/// A refusal of one topic's operation, its code kept in the chain of causes.
fn refused(what: String, code: RDKafkaErrorCode) -> anyhow::Error {
    anyhow::Error::new(KafkaError::AdminOp(code)).context(what)
}

/// Every topic on the cluster with its number of partitions.
async fn partition_counts(admin: &Arc<AdminClient<KafkaContext>>) -> anyhow::Result<BTreeMap<String, i32>> {
    // librdkafka's metadata call blocks its thread until the broker answers.
    let admin = Arc::clone(admin);
    let metadata = tokio::task::spawn_blocking(move || admin.inner().fetch_metadata(None, TIMEOUT)).await??;
    // A topic the broker reports an error for (no leader yet, say) counts as missing: creating
    // it then answers TopicAlreadyExists, which changes nothing.
    Ok(metadata
        .topics()
        .iter()
        .filter(|t| t.error().is_none())
        .map(|t| (t.name().to_owned(), t.partitions().len() as i32))
        .collect())
}

async fn create(
    admin: &AdminClient<KafkaContext>, topics: &[&TopicDefinition], replication: i32,
) -> anyhow::Result<Vec<String>> {
    if topics.is_empty() {
        // librdkafka refuses a request for no topics.
        return Ok(Vec::new());
    }
    let retention: Vec<String> = topics.iter().map(|t| t.retention_ms.to_string()).collect();
    let new_topics: Vec<NewTopic<'_>> = topics
        .iter()
        .zip(&retention)
        .map(|(t, retention)| {
            NewTopic::new(&t.name, t.partitions, TopicReplication::Fixed(replication)).set(RETENTION, retention)
        })
        .collect();
    let mut created = Vec::new();
    for result in admin.create_topics(&new_topics, &options()).await.context("creating topics")? {
        match result {
            Ok(name) => created.push(name),
            // Created meanwhile by another run; as it was just made from the same file, it matches.
            Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((name, code)) => return Err(refused(format!("creating topic {name} failed"), code)),
        }
    }
    Ok(created)
}

async fn add_partitions(
    admin: &AdminClient<KafkaContext>, topics: &[&TopicDefinition], existing: &BTreeMap<String, i32>,
) -> anyhow::Result<Vec<String>> {
    let growing: Vec<(&TopicDefinition, i32)> =
        topics.iter().filter_map(|t| Some((*t, existing[&t.name])).filter(|(t, has)| t.partitions > *has)).collect();
    if growing.is_empty() {
        return Ok(Vec::new());
    }
    let requests: Vec<NewPartitions<'_>> =
        growing.iter().map(|(t, _)| NewPartitions::new(&t.name, t.partitions as usize)).collect();
    let results = admin.create_partitions(&requests, &options()).await.context("adding partitions")?;
    let mut updated = Vec::new();
    for ((topic, had), result) in growing.iter().zip(results) {
        match result {
            Ok(_) => updated.push(format!("{}: partitions {had} → {}", topic.name, topic.partitions)),
            Err((name, code)) => return Err(refused(format!("adding partitions to {name} failed"), code)),
        }
    }
    Ok(updated)
}

async fn set_retention(
    admin: &Arc<AdminClient<KafkaContext>>, topics: &[&TopicDefinition],
) -> anyhow::Result<Vec<String>> {
    if topics.is_empty() {
        return Ok(Vec::new());
    }
    let specifiers: Vec<ResourceSpecifier<'_>> = topics.iter().map(|t| ResourceSpecifier::Topic(&t.name)).collect();
    let described =
        admin.describe_configs(&specifiers, &config_options()).await.context("reading topic configurations")?;
    let mut updated = Vec::new();
    for (topic, resource) in topics.iter().zip(described) {
        let resource =
            resource.map_err(|code| refused(format!("reading the configuration of {} failed", topic.name), code))?;
        let wanted = topic.retention_ms.to_string();
        let current = resource.get(RETENTION).and_then(|entry| entry.value.clone()).unwrap_or_default();
        if current == wanted {
            continue;
        }
        crate::topic_config::set_topic_configs(admin, &topic.name, &[(RETENTION, &wanted)], TIMEOUT)
            .await
            .with_context(|| format!("setting {RETENTION} of {}", topic.name))?;
        updated.push(format!("{}: {RETENTION} {current} → {wanted}", topic.name));
    }
    Ok(updated)
}

/// For operations the controller carries out (creating topics and partitions): waits for them.
fn options() -> AdminOptions {
    config_options().operation_timeout(Some(TIMEOUT))
}

/// For reading configurations, which librdkafka refuses an operation timeout.
fn config_options() -> AdminOptions {
    AdminOptions::new().request_timeout(Some(TIMEOUT))
}
