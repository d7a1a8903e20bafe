//! Topic administration: creates the topics of `infra/definitions/topics.json` if they are missing.
//! Used by the local provisioner and by the MSK topic bootstrap.

use crate::{KafkaConfig, KafkaContext};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::types::RDKafkaErrorCode;
use serde::Deserialize;
use std::time::Duration;

/// One entry of `infra/definitions/topics.json`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TopicSpec {
    pub name: String,
    pub partitions: i32,
    pub retention_ms: i64,
}

/// Creates every missing topic; existing topics are left alone. Returns the names it created.
pub async fn ensure_topics(
    config: &KafkaConfig,
    topics: &[TopicSpec],
    replication: i32,
) -> anyhow::Result<Vec<String>> {
    let context = KafkaContext::for_config(config).await;
    let admin: AdminClient<KafkaContext> = config.client_config().create_with_context(context)?;
    let retention: Vec<String> = topics.iter().map(|t| t.retention_ms.to_string()).collect();
    let new_topics: Vec<NewTopic<'_>> = topics
        .iter()
        .zip(&retention)
        .map(|(t, retention)| {
            NewTopic::new(&t.name, t.partitions, TopicReplication::Fixed(replication)).set("retention.ms", retention)
        })
        .collect();
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
    let mut created = Vec::new();
    for result in admin.create_topics(&new_topics, &options).await? {
        match result {
            Ok(name) => created.push(name),
            Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((name, code)) => anyhow::bail!("creating topic {name} failed: {code}"),
        }
    }
    Ok(created)
}
