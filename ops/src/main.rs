//! `weelo-ops`: the operator's tool. One function per subcommand; the work is in the library
//! (`weelo_ops`, a module per subcommand).

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use weelo_kafka::KafkaConfig;
use weelo_ops::{audit, funnel, lag, metrics, redrive, replay, skip};

#[derive(Parser)]
#[command(version, about = "Operate Weelo's event backbone: lag, replay, redrive, skip, audit, metrics, funnel")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Consumer-group lag of every event-source mapping, per partition.
    Lag(LagArgs),
    /// Re-drive the records a topic received in a time range to a function or another topic.
    Replay(ReplayArgs),
    /// Send dead-lettered records back to their function and report each outcome.
    Redrive(RedriveArgs),
    /// Move a stopped mapping's consumer group past the record its partition is held back by, after
    /// writing it (and any uncommitted records before it) to a dead-letter queue, for `redrive`
    /// once the function is fixed. For on-demand mappings (the small profile), which never set a
    /// record aside. Refuses while the group has members (disable the mapping first), or when the
    /// group is past that record or far before it.
    Skip(SkipArgs),
    /// The audit archive in S3 (`AUDIT_BUCKET`).
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Sum the Embedded Metric Format lines in function logs (files, or stdin when none).
    Metrics { files: Vec<PathBuf> },
    /// The booking funnel per day, city and vehicle type from the audit archive, as the analytics
    /// consumer counts it; optionally drawn as a PNG chart.
    Funnel(FunnelArgs),
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Print every archived event of one booking (or order, or user id), oldest first.
    Query(AuditQueryArgs),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    weelo_telemetry::cli_logs();
    match Cli::parse().command {
        Command::Lag(args) => run_lag(args).await,
        Command::Replay(args) => run_replay(args).await,
        Command::Redrive(args) => run_redrive(args).await,
        Command::Skip(args) => run_skip(args).await,
        Command::Audit { command: AuditCommand::Query(args) } => run_audit_query(args).await,
        Command::Metrics { files } => run_metrics(&files),
        Command::Funnel(args) => run_funnel(args).await,
    }
}

/// `weelo-ops lag`'s arguments.
#[derive(clap::Args)]
struct LagArgs {
    #[arg(long, default_value = "infra/definitions")]
    definitions: PathBuf,
    /// Appended to every group name (as given to `weelo-local bridge --group-suffix`).
    #[arg(long, default_value = "")]
    group_suffix: String,
    /// Print every partition, not only the mapping totals.
    #[arg(long)]
    partitions: bool,
}

async fn run_lag(args: LagArgs) -> anyhow::Result<()> {
    let LagArgs { definitions, group_suffix, partitions } = args;
    let mut mappings = weelo_definitions::load_mappings(&definitions)?;
    for mapping in &mut mappings {
        mapping.group_suffix = group_suffix.clone();
    }
    let config = KafkaConfig::from_env()?;
    let lags = tokio::task::spawn_blocking(move || lag::lag(&config, &mappings)).await??;
    println!("{:<20} {:<30} {:>10}  group", "function", "topic", "lag");
    for mapping in &lags {
        println!("{:<20} {:<30} {:>10}  {}", mapping.function, mapping.topic, mapping.total(), mapping.group);
        if partitions {
            for p in &mapping.partitions {
                let committed = p.committed.map_or("-".to_owned(), |c| c.to_string());
                println!(
                    "    partition {:>3}: committed {committed:>10}, retained {}..{}",
                    p.partition, p.start, p.end
                );
            }
        }
    }
    Ok(())
}

/// `weelo-ops replay`'s arguments.
#[derive(clap::Args)]
struct ReplayArgs {
    #[arg(long)]
    topic: String,
    /// Start of the range (RFC 3339, e.g. 2026-11-26T10:00:00Z).
    #[arg(long)]
    from: DateTime<Utc>,
    /// End of the range, exclusive (default: now).
    #[arg(long)]
    to: Option<DateTime<Utc>>,
    /// Invoke this function with the records, as its event-source mapping would.
    #[arg(long, conflicts_with = "to_topic", required_unless_present = "to_topic")]
    to_function: Option<String>,
    /// Publish the records (same key, value and headers) to this topic.
    #[arg(long)]
    to_topic: Option<String>,
    /// Records per invocation with --to-function.
    #[arg(long, default_value_t = 500)]
    batch_size: usize,
}

async fn run_replay(args: ReplayArgs) -> anyhow::Result<()> {
    let ReplayArgs { topic, from, to, to_function, to_topic, batch_size } = args;
    let target = match (to_function, to_topic) {
        (Some(name), _) => replay::Target::Function { name, batch_size },
        (None, Some(topic)) => replay::Target::Topic(topic),
        (None, None) => unreachable!("clap requires one target"),
    };
    let report = replay::replay(&KafkaConfig::from_env()?, &topic, from, to, target).await?;
    println!("replayed {} records in {} invocations", report.records, report.invocations);
    for (partition, offset, reason) in &report.failed {
        println!("FAILED {partition}@{offset}: {reason}");
    }
    anyhow::ensure!(report.failed.is_empty(), "{} partitions stopped on a failing record", report.failed.len());
    Ok(())
}

/// `weelo-ops redrive`'s arguments.
#[derive(clap::Args)]
struct RedriveArgs {
    /// The dead-letter queue's name (a mapping's SQS on-failure destination).
    #[arg(long, conflicts_with = "bucket", required_unless_present = "bucket")]
    dlq: Option<String>,
    /// The bucket's name (a mapping's S3 on-failure destination: one object per failed batch,
    /// with its records, so nothing is read back from Kafka).
    #[arg(long)]
    bucket: Option<String>,
    /// Invoke this function instead of the one named in each message.
    #[arg(long)]
    function: Option<String>,
    /// Stop after this many messages.
    #[arg(long, default_value_t = 1000)]
    max: usize,
}

async fn run_redrive(args: RedriveArgs) -> anyhow::Result<()> {
    let RedriveArgs { dlq, bucket, function, max } = args;
    let source = match (dlq, bucket) {
        (Some(queue), _) => redrive::Source::Queue(queue),
        (None, Some(bucket)) => redrive::Source::Bucket(bucket),
        (None, None) => unreachable!("clap requires one source"),
    };
    let outcomes = redrive::redrive(&source, function.as_deref(), max).await?;
    let mut failed = 0;
    for outcome in &outcomes {
        match outcome {
            redrive::Redriven::Processed { function, topic, offset } => {
                println!("processed     {topic}@{offset} by {function}")
            }
            redrive::Redriven::FailedAgain { function, topic, offset, reason } => {
                failed += 1;
                println!("failed again  {topic}@{offset} by {function}: {reason}")
            }
            redrive::Redriven::NotRedrivable { reason } => {
                failed += 1;
                println!("left in place {reason}")
            }
        }
    }
    let items = source.items();
    println!("{} {items}: {} processed, {failed} left in {source}", outcomes.len(), outcomes.len() - failed);
    anyhow::ensure!(failed == 0, "{failed} {items} are still dead-lettered");
    Ok(())
}

/// `weelo-ops skip`'s arguments.
#[derive(clap::Args)]
struct SkipArgs {
    #[arg(long, default_value = "infra/definitions")]
    definitions: PathBuf,
    /// The mapping's function (the short name, as in event-source-mappings.json).
    #[arg(long)]
    function: String,
    #[arg(long)]
    topic: String,
    #[arg(long)]
    partition: i32,
    /// The failing record's offset (from the function's error). The group may stand up to 1000
    /// records before it: those are written to the queue too.
    #[arg(long)]
    offset: i64,
    /// The dead-letter queue to write the record to (the mapping's on-failure queue, with the
    /// stack's prefix: weelo-prod-fcm-consumer-dlq).
    #[arg(long)]
    dlq: String,
    /// Why, kept in the dead letter.
    #[arg(long, default_value = "stopped its partition")]
    reason: String,
    /// Appended to the group name (as given to `weelo-local bridge --group-suffix`).
    #[arg(long, default_value = "")]
    group_suffix: String,
}

async fn run_skip(args: SkipArgs) -> anyhow::Result<()> {
    let SkipArgs { definitions, function, topic, partition, offset, dlq, reason, group_suffix } = args;
    let mut mapping = weelo_definitions::load_mappings(&definitions)?
        .into_iter()
        .find(|m| m.function == function && m.topic == topic)
        .with_context(|| format!("no mapping of {function} on {topic} in {}", definitions.display()))?;
    mapping.group_suffix = group_suffix;
    let skip = skip::Skip { group: mapping.consumer_group(), function, topic, partition, offset, dlq, reason };
    let written = skip::skip(&KafkaConfig::from_env()?, &skip).await?;
    println!(
        "skipped {}-{partition}@{offset}: {written} record(s) up to it written to {}, group {} now at {}; enable the \
         mapping again, and once {} can take it: weelo-ops redrive --dlq {} (in AWS add --function with the \
         deployed name, e.g. weelo-prod-{})",
        skip.topic,
        skip.dlq,
        skip.group,
        offset + 1,
        skip.function,
        skip.dlq,
        skip.function
    );
    Ok(())
}

/// `weelo-ops audit query`'s arguments.
#[derive(clap::Args)]
struct AuditQueryArgs {
    #[arg(long)]
    booking: String,
    /// How many days back to search, today included.
    #[arg(long, default_value_t = 7)]
    days: i64,
    /// Also search location.updated (large).
    #[arg(long)]
    include_locations: bool,
}

async fn run_audit_query(args: AuditQueryArgs) -> anyhow::Result<()> {
    let AuditQueryArgs { booking, days, include_locations } = args;
    let records = audit::query(&booking, days, include_locations).await.context("querying the audit archive")?;
    for record in &records {
        println!("{}", audit::line(record));
    }
    eprintln!("{} archived events mention {booking}", records.len());
    Ok(())
}

/// `weelo-ops funnel`'s arguments.
#[derive(clap::Args)]
struct FunnelArgs {
    /// How many days back, today included.
    #[arg(long, default_value_t = 1)]
    days: i64,
    /// The cities told apart (`Name:lat,lng,radiusKm;…`), as the analytics function's setting.
    #[arg(long, env = "ANALYTICS_CITIES", default_value = "")]
    cities: String,
    /// Write the funnel and the time to accept as a PNG chart here.
    #[arg(long)]
    chart: Option<PathBuf>,
}

async fn run_funnel(args: FunnelArgs) -> anyhow::Result<()> {
    let FunnelArgs { days, cities, chart } = args;
    let cities = weelo_core::usecases::analytics::cities::Cities::parse(&cities)
        .map_err(|e| anyhow::anyhow!("--cities: {e}"))?;
    let counted = funnel::read(days, &cities).await.context("reading the audit archive")?;
    print!("{}", funnel::table(&counted));
    if let Some(path) = chart.as_deref() {
        let title = format!("Weelo booking funnel, last {days} day(s), from the audit archive");
        funnel::chart(&counted, &title, path).with_context(|| format!("drawing {}", path.display()))?;
        eprintln!("chart written to {}", path.display());
    }
    Ok(())
}

fn run_metrics(files: &[PathBuf]) -> anyhow::Result<()> {
    let summary = if files.is_empty() {
        metrics::summarise(std::io::stdin().lock())
    } else {
        let mut text = Vec::new();
        for file in files {
            text.extend(std::fs::read(file).with_context(|| format!("reading {}", file.display()))?);
            text.push(b'\n');
        }
        metrics::summarise(text.as_slice())
    };
    println!("{:<20} {:<16} {:>12} {:>10} {:>10}", "function", "metric", "sum/count", "p50", "p99");
    for ((function, metric), series) in &summary {
        if series.unit == "Milliseconds" {
            let (p50, p99) = (series.percentile(0.5), series.percentile(0.99));
            println!("{function:<20} {metric:<16} {:>12} {p50:>8.1}ms {p99:>8.1}ms", series.values.len());
        } else {
            println!("{function:<20} {metric:<16} {:>12}", series.sum());
        }
    }
    Ok(())
}
