//! `weelo-ops skip`: moves a stopped consumer group past one record, after writing the record to a
//! dead-letter queue in the local bridge's format, so that `weelo-ops redrive` sends it back once
//! its function can take it. It is for a mapping in on-demand mode (the small profile), which never
//! sets a failing record aside: the record stops its partition until it succeeds or expires
//! (`docs/operations.md`, "A partition that does not move").
//!
//! It refuses, changing nothing, while the group has members (disable the mapping first: its
//! pollers are the members) and unless the group's next record on that partition is the one named,
//! so it can only ever skip the record the partition is stopped on.

use base64::Engine;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};
use serde_json::json;
use std::time::{Duration, Instant};
use weelo_kafka::{KafkaConfig, KafkaContext};
use weelo_msk::ConsumedRecord;

const TIMEOUT: Duration = Duration::from_secs(10);
/// An SQS message holds at most 256 KiB; a bigger record is named by its offset only, as the
/// bridge does, and `redrive` reads it back from Kafka.
const SQS_MAX_MESSAGE_BYTES: usize = 256 * 1024;

/// The record to skip and where it goes.
#[derive(Debug, Clone)]
pub struct Skip {
    /// The consumer group (`weelo-<function>-<topic>`, as Terraform and the bridge name it).
    pub group: String,
    /// The function the record goes back to on `redrive`.
    pub function: String,
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    /// The queue the record is written to (a mapping's dead-letter queue).
    pub dlq: String,
    /// Why, written in the dead letter's `error`.
    pub reason: String,
}

/// Writes the record to `skip.dlq`, then commits the group past it. Nothing is committed when the
/// record could not be written.
pub async fn skip(config: &KafkaConfig, skip: &Skip) -> anyhow::Result<()> {
    let (checked, wanted) = (config.clone(), skip.clone());
    let record = tokio::task::spawn_blocking(move || stopped_record(&checked, &wanted)).await??;
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let sqs = aws_sdk_sqs::Client::new(&aws);
    let url = sqs.get_queue_url().queue_name(&skip.dlq).send().await?.queue_url.unwrap_or_default();
    sqs.send_message().queue_url(&url).message_body(dead_letter(skip, &record)).send().await?;
    let (committing, wanted) = (config.clone(), skip.clone());
    tokio::task::spawn_blocking(move || commit_past(&committing, &wanted)).await?
}

/// The dead letter, in the local bridge's queue format (`redrive::DeadLetter`).
pub fn dead_letter(skip: &Skip, record: &ConsumedRecord) -> String {
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut body = json!({
        "function": skip.function,
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "key": record.key.as_deref().map(|k| b64.encode(k)),
        "value": record.value.as_deref().map(|v| b64.encode(v)),
        "error": format!("skipped by weelo-ops: {}", skip.reason),
        "failedAt": chrono::Utc::now().to_rfc3339(),
    });
    if body.to_string().len() > SQS_MAX_MESSAGE_BYTES {
        body["value"] = serde_json::Value::Null;
        body["valueBytes"] = record.value.as_ref().map_or(0, Vec::len).into();
    }
    body.to_string()
}

/// The record the group is stopped on, once the group is checked to be empty and at that record.
fn stopped_record(config: &KafkaConfig, skip: &Skip) -> anyhow::Result<ConsumedRecord> {
    let group = as_group(config, &skip.group)?;
    let listed = group.fetch_group_list(Some(&skip.group), TIMEOUT)?;
    if let Some(found) = listed.groups().iter().find(|g| g.name() == skip.group) {
        let members = found.members().len();
        anyhow::ensure!(
            members == 0,
            "group {} has {members} member(s) ({}): disable its event-source mapping first, and wait until it is Disabled",
            skip.group,
            found.state()
        );
    }
    let committed = committed(&group, skip)?;
    anyhow::ensure!(
        committed == Some(skip.offset),
        "group {} is at {} on {}-{}, not at {}: nothing skipped",
        skip.group,
        committed.map_or("no committed offset".to_owned(), |o| format!("offset {o}")),
        skip.topic,
        skip.partition,
        skip.offset
    );
    read_at(config, skip)
}

/// Commits the offset after the record, and checks it took.
fn commit_past(config: &KafkaConfig, skip: &Skip) -> anyhow::Result<()> {
    let group = as_group(config, &skip.group)?;
    let mut next = TopicPartitionList::new();
    next.add_partition_offset(&skip.topic, skip.partition, Offset::Offset(skip.offset + 1))?;
    group.commit(&next, CommitMode::Sync)?;
    let now = committed(&group, skip)?;
    anyhow::ensure!(now == Some(skip.offset + 1), "the commit did not take: the group is at {now:?}");
    Ok(())
}

fn as_group(config: &KafkaConfig, group: &str) -> anyhow::Result<BaseConsumer<KafkaContext>> {
    Ok(config
        .client_config()
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .create_with_context(KafkaContext::default())?)
}

fn committed(group: &BaseConsumer<KafkaContext>, skip: &Skip) -> anyhow::Result<Option<i64>> {
    let mut wanted = TopicPartitionList::new();
    wanted.add_partition(&skip.topic, skip.partition);
    let offsets = group.committed_offsets(wanted, TIMEOUT)?;
    Ok(offsets.elements().first().and_then(|e| match e.offset() {
        Offset::Offset(o) => Some(o),
        _ => None,
    }))
}

/// Reads the one record at the offset, outside any group.
fn read_at(config: &KafkaConfig, skip: &Skip) -> anyhow::Result<ConsumedRecord> {
    let reader: BaseConsumer<KafkaContext> = config
        .client_config()
        .set("group.id", format!("weelo-ops-skip-{}", uuid::Uuid::new_v4()))
        .set("enable.auto.commit", "false")
        .create_with_context(KafkaContext::default())?;
    let mut at = TopicPartitionList::new();
    at.add_partition_offset(&skip.topic, skip.partition, Offset::Offset(skip.offset))?;
    reader.assign(&at)?;
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        match reader.poll(Duration::from_millis(200)) {
            Some(Ok(message)) if message.offset() == skip.offset => return Ok(weelo_kafka::consumed(&message)),
            Some(Ok(_)) => anyhow::bail!("{}-{}@{} is no longer retained", skip.topic, skip.partition, skip.offset),
            Some(Err(error)) => tracing::debug!(%error, "skip read error"),
            None => {}
        }
    }
    anyhow::bail!("{}-{}@{} could not be read within 30 s", skip.topic, skip.partition, skip.offset)
}
