//! `weelo-ops skip`: moves a stopped consumer group past one record, after writing it to a
//! dead-letter queue in the local bridge's format, so that `weelo-ops redrive` sends it back once
//! its function can take it. It is for a mapping in on-demand mode (the small profile), which never
//! sets a failing record aside: the record holds back its partition until it succeeds or expires
//! (`docs/operations.md`, "A partition that does not move").
//!
//! An on-demand mapping commits nothing while a batch fails, so the group may stand a few records
//! before the failing one: those are written to the queue too (a redrive of one already processed
//! changes nothing, every consumer being idempotent), and nothing the group has not committed is
//! ever passed without a copy. It refuses, changing nothing, while the group has members (disable
//! the mapping first: its pollers are the members), when the group is already past the record or
//! more than [`MAX_SKIPPED`] records before it, and when the group moved while it worked.

use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};
use std::time::{Duration, Instant};
use weelo_kafka::{KafkaConfig, KafkaContext};
use weelo_msk::{ConsumedRecord, DeadLetter, RecordAt};

const TIMEOUT: Duration = Duration::from_secs(10);
/// At most this many records are written to the queue in one skip (the group's position up to the
/// named record).
pub const MAX_SKIPPED: i64 = 1000;

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

/// Writes the records from the group's position up to the named one to `skip.dlq`, then commits
/// the group past them; returns how many were written. Nothing is committed unless every one was
/// written.
pub async fn skip(config: &KafkaConfig, skip: &Skip) -> anyhow::Result<usize> {
    let (checked, wanted) = (config.clone(), skip.clone());
    let (from, records) = tokio::task::spawn_blocking(move || stopped_records(&checked, &wanted)).await??;
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let sqs = aws_sdk_sqs::Client::new(&aws);
    let url = sqs.get_queue_url().queue_name(&skip.dlq).send().await?.queue_url.unwrap_or_default();
    for record in &records {
        sqs.send_message().queue_url(&url).message_body(dead_letter(skip, record)).send().await?;
    }
    let (committing, wanted) = (config.clone(), skip.clone());
    tokio::task::spawn_blocking(move || commit_past(&committing, &wanted, from)).await??;
    Ok(records.len())
}

/// The dead letter's message ([`DeadLetter`], which `redrive` reads; a record too big for a
/// message is named by its offset only, and `redrive` reads it back from Kafka).
pub fn dead_letter(skip: &Skip, record: &ConsumedRecord) -> String {
    let error = if record.offset == skip.offset {
        format!("skipped by weelo-ops: {}", skip.reason)
    } else {
        format!("skipped by weelo-ops before offset {} (maybe processed already): {}", skip.offset, skip.reason)
    };
    let at = RecordAt {
        topic: &record.topic,
        partition: record.partition,
        offset: record.offset,
        key: record.key.as_deref(),
        value: record.value.as_deref(),
    };
    DeadLetter::new(&skip.function, at, error).to_message()
}

/// The group's position and the records from there up to the named one, once the group is checked
/// to be empty and at most [`MAX_SKIPPED`] records before it.
fn stopped_records(config: &KafkaConfig, skip: &Skip) -> anyhow::Result<(i64, Vec<ConsumedRecord>)> {
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
    let from = committed.filter(|from| (skip.offset - MAX_SKIPPED..=skip.offset).contains(from));
    let Some(from) = from else {
        anyhow::bail!(
            "group {} is at {} on {}-{}, not at {} or up to {MAX_SKIPPED} records before it: nothing skipped",
            skip.group,
            committed.map_or("no committed offset".to_owned(), |o| format!("offset {o}")),
            skip.topic,
            skip.partition,
            skip.offset
        )
    };
    Ok((from, read_range(config, skip, from)?))
}

/// Commits the offset after the record, if the group is still where it was read, and checks it took.
fn commit_past(config: &KafkaConfig, skip: &Skip, from: i64) -> anyhow::Result<()> {
    let group = as_group(config, &skip.group)?;
    let now = committed(&group, skip)?;
    anyhow::ensure!(now == Some(from), "the group moved from {from} to {now:?} meanwhile: nothing committed");
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

/// Reads the records from `from` to the named offset, outside any group.
fn read_range(config: &KafkaConfig, skip: &Skip, from: i64) -> anyhow::Result<Vec<ConsumedRecord>> {
    let reader: BaseConsumer<KafkaContext> = config
        .client_config()
        .set("group.id", format!("weelo-ops-skip-{}", uuid::Uuid::new_v4()))
        .set("enable.auto.commit", "false")
        .create_with_context(KafkaContext::default())?;
    let mut at = TopicPartitionList::new();
    at.add_partition_offset(&skip.topic, skip.partition, Offset::Offset(from))?;
    reader.assign(&at)?;
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut records: Vec<ConsumedRecord> = Vec::new();
    while Instant::now() < deadline {
        match reader.poll(Duration::from_millis(200)) {
            Some(Ok(message)) if message.offset() < skip.offset => records.push(weelo_kafka::consumed(&message)),
            Some(Ok(message)) if message.offset() == skip.offset => {
                records.push(weelo_kafka::consumed(&message));
                // The group's own position must still be retained: if retention took it, records
                // the group never processed are gone, and a skip would hide that.
                anyhow::ensure!(
                    records.first().is_some_and(|r| r.offset == from),
                    "{}-{}@{from} is no longer retained: nothing skipped",
                    skip.topic,
                    skip.partition
                );
                return Ok(records);
            }
            Some(Ok(_)) => anyhow::bail!("{}-{}@{} is no longer retained", skip.topic, skip.partition, skip.offset),
            Some(Err(error)) => tracing::debug!(%error, "skip read error"),
            None => {}
        }
    }
    anyhow::bail!("{}-{}@{from}..={} could not be read within 30 s", skip.topic, skip.partition, skip.offset)
}
