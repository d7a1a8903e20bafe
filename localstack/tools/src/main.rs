//! `weelo-local`: the native local stack's helper (see `docs/local-stack.md`). One function per
//! subcommand; the work is in the library.

use anyhow::Context;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::time::Duration;
use weelo_kafka::KafkaConfig;
use weelo_local::{bridge, monitor, provision, runner};

#[derive(Parser)]
#[command(version, about = "Helper of Weelo's native local stack")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create tables, topics and the SNS platform application from infra/definitions; prints the
    /// resulting environment (KEY=value lines) on stdout.
    Provision {
        #[arg(long, default_value = "infra/definitions")]
        definitions: PathBuf,
        #[arg(long, env = "WEELO_TABLE_PREFIX", default_value = "weelo-local-")]
        table_prefix: String,
        #[arg(long, default_value = "weelo-local-fcm")]
        platform_application: String,
    },
    /// Mint a development token signed with the local key (JWT_DEV_PRIVATE_KEY).
    Token {
        #[arg(long)]
        sub: String,
        #[arg(long, value_parser = ["customer", "transporter"])]
        role: String,
        /// Lifetime in seconds.
        #[arg(long, default_value_t = 12 * 3600)]
        ttl: i64,
    },
    /// Print the records published on a topic in the last minutes (and those arriving while it waits).
    Tail {
        #[arg(long)]
        topic: String,
        #[arg(long, default_value_t = 10)]
        minutes: i64,
        /// How long to wait for records, in seconds.
        #[arg(long, default_value_t = 3)]
        wait: u64,
    },
    /// Run the functions as Lambda does: the Invoke API, function URLs (`/lambda-url/<name>/…`)
    /// and the Runtime API their processes poll, on one port; every process's output on stdout.
    Functions {
        #[arg(long, default_value_t = 9000)]
        port: u16,
        #[arg(long, default_value = "infra/definitions")]
        definitions: PathBuf,
        /// Where the function binaries are (`cargo build --bins`).
        #[arg(long, default_value = "target/debug")]
        bin_dir: PathBuf,
        /// KEY=value lines every process gets (`.local/stack.env`).
        #[arg(long)]
        env_file: PathBuf,
        /// Processes per function at most.
        #[arg(long, default_value_t = 4)]
        concurrency: usize,
        /// `NAME=SECONDS`: another timeout for a function than functions.json gives it (fault tests).
        #[arg(long = "timeout", value_parser = parse_timeout)]
        timeouts: Vec<(String, Duration)>,
    },
    /// Run the local MSK event-source mappings: consume each mapping's topic and invoke its function
    /// through the Lambda Invoke API of `weelo-local functions`, as AWS's MSK event source would.
    Bridge {
        #[arg(long, default_value = "infra/definitions")]
        definitions: PathBuf,
        #[arg(long, default_value = "http://127.0.0.1:9000")]
        invoke_url: String,
        /// Prefix of the mappings' on-failure queues and buckets (`<prefix><onFailure>`).
        #[arg(long, env = "WEELO_QUEUE_PREFIX", default_value = "weelo-local-")]
        queue_prefix: String,
        /// Start consumer groups that have no committed offset at the end of their topic instead of
        /// the mapping's starting position: for tests on a broker that holds old test traffic.
        #[arg(long)]
        from_latest: bool,
        /// Start every group at the end of its topic on every start, whatever it committed before
        /// (`make run`: a demo of now, never a replay of what tests and benchmarks left).
        #[arg(long, conflicts_with = "from_latest")]
        from_now: bool,
        /// Appended to every consumer group name, to start a run with fresh groups.
        #[arg(long, default_value = "")]
        group_suffix: String,
        /// Act as mappings in on-demand mode (Terraform's small profile): the function's answer is
        /// not read, and a function error delivers the whole batch again, without limit. Run the
        /// functions with KAFKA_FAILURE_REPORTING=function-error then, or failed records are lost.
        #[arg(long)]
        on_demand: bool,
    },
    /// Show one line per part of a local run (stack, functions, bridge mappings with their lag),
    /// red when something is wrong, and the warnings and errors the functions log.
    Status {
        #[arg(long, default_value = "http://127.0.0.1:9000")]
        functions_url: String,
        #[arg(long, default_value = "infra/definitions")]
        definitions: PathBuf,
        /// The bridge's pid file, to tell when it is not running.
        #[arg(long)]
        bridge_pid: Option<PathBuf>,
        /// Seconds between two looks.
        #[arg(long, default_value_t = 2)]
        every: u64,
    },
    /// Invoke a function every few seconds through the Lambda Invoke API of `weelo-local
    /// functions`, with an EventBridge scheduled event: the local stand-in for an EventBridge schedule.
    Schedule {
        #[arg(long)]
        function: String,
        #[arg(long, default_value_t = 5)]
        every_secs: u64,
        #[arg(long, default_value = "http://127.0.0.1:9000")]
        invoke_url: String,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    weelo_telemetry::cli_logs();
    match Cli::parse().command {
        Command::Provision { definitions, table_prefix, platform_application } => {
            run_provision(definitions, table_prefix, platform_application).await
        }
        Command::Token { sub, role, ttl } => run_token(&sub, &role, ttl),
        Command::Tail { topic, minutes, wait } => run_tail(topic, minutes, wait).await,
        Command::Functions { port, definitions, bin_dir, env_file, concurrency, timeouts } => {
            run_functions(port, definitions, bin_dir, env_file, concurrency, timeouts).await
        }
        Command::Bridge { definitions, invoke_url, queue_prefix, from_latest, from_now, group_suffix, on_demand } => {
            let options = BridgeOptions { from_latest, from_now, group_suffix, on_demand };
            run_bridge(definitions, invoke_url, queue_prefix, options).await
        }
        Command::Status { functions_url, definitions, bridge_pid, every } => {
            run_status(functions_url, definitions, bridge_pid, every).await
        }
        Command::Schedule { function, every_secs, invoke_url } => run_schedule(function, every_secs, invoke_url).await,
    }
}

async fn run_provision(definitions: PathBuf, table_prefix: String, platform_application: String) -> anyhow::Result<()> {
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let dynamo = aws_sdk_dynamodb::Client::new(&aws);
    for (env, table) in provision::tables(&dynamo, &definitions, &table_prefix).await? {
        println!("{env}={table}");
    }
    provision::topics(&KafkaConfig::from_env()?, &definitions, 1).await.context("creating or updating topics")?;
    let sns = aws_sdk_sns::Client::new(&aws);
    let arn = provision::platform_application(&sns, &platform_application, "local-placeholder-credential").await?;
    println!("SNS_PLATFORM_APPLICATION_ARN={arn}");
    let bucket = format!("{table_prefix}audit");
    let region = aws.region().map(|r| r.to_string()).unwrap_or_default();
    let s3 = weelo_audit::s3_client(&aws);
    provision::bucket(&s3, &bucket, &region).await.context("creating the audit bucket")?;
    println!("AUDIT_BUCKET={bucket}");
    let prefix = std::env::var("WEELO_QUEUE_PREFIX").unwrap_or_else(|_| "weelo-local-".into());
    provision::on_failure_destinations(&aws_sdk_sqs::Client::new(&aws), &s3, &definitions, &prefix, &region)
        .await
        .context("creating the mappings' on-failure queues and buckets")
}

fn run_token(sub: &str, role: &str, ttl: i64) -> anyhow::Result<()> {
    println!("{}", weelo_local::dev_tokens::dev_token(sub, role, ttl)?);
    Ok(())
}

async fn run_tail(topic: String, minutes: i64, wait: u64) -> anyhow::Result<()> {
    let config = KafkaConfig::from_env()?;
    let since = chrono::Utc::now() - chrono::Duration::minutes(minutes);
    let records = tokio::task::spawn_blocking(move || {
        weelo_kafka::read_records(&config, &topic, since, Duration::from_secs(wait), |_, _| false)
    })
    .await??;
    for record in records {
        let text = record.value_text();
        let value = serde_json::from_str::<serde_json::Value>(&text).unwrap_or(text.into());
        let line = serde_json::json!({
            "partition": record.partition, "offset": record.offset, "key": record.key_text(), "value": value,
        });
        println!("{line}");
    }
    Ok(())
}

async fn run_functions(
    port: u16, definitions: PathBuf, bin_dir: PathBuf, env_file: PathBuf, concurrency: usize,
    timeouts: Vec<(String, Duration)>,
) -> anyhow::Result<()> {
    let configs = runner::configs_from_definitions(&definitions, &bin_dir, concurrency, &timeouts)?;
    let mut env = runner::read_env_file(&env_file).with_context(|| format!("reading {}", env_file.display()))?;
    let region = env.iter().find(|(k, _)| k == "AWS_REGION").map_or("local".to_owned(), |(_, v)| v.clone());
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.context("binding the port")?;
    let base_url = format!("http://127.0.0.1:{port}");
    // What Terraform sets in AWS: the addresses of this service's own WebSocket API and page.
    let own = [
        ("LIVE_CONNECTIONS_URL", format!("{base_url}/websocket")),
        ("LIVE_SOCKET_URL", format!("ws://127.0.0.1:{port}/websocket")),
        ("SHARE_PAGE_URL", format!("{base_url}/lambda-url/api/track")),
    ];
    env.retain(|(key, _)| !own.iter().any(|(name, _)| name == key));
    env.extend(own.into_iter().map(|(name, value)| (name.to_owned(), value)));
    let count = configs.len();
    let host = runner::Host { base_url: base_url.clone(), env, region, logs: Default::default() };
    let service = runner::Service::new(configs, host);
    // Scripts and tests wait for this line.
    eprintln!("functions: ready: {count} functions on {base_url} (binaries in {})", bin_dir.display());
    runner::serve(service, listener).await
}

/// How `weelo-local bridge` runs the mappings (see its flags).
struct BridgeOptions {
    from_latest: bool,
    from_now: bool,
    group_suffix: String,
    on_demand: bool,
}

async fn run_bridge(
    definitions: PathBuf, invoke_url: String, queue_prefix: String, options: BridgeOptions,
) -> anyhow::Result<()> {
    let BridgeOptions { from_latest, from_now, group_suffix, on_demand } = options;
    let kafka = KafkaConfig::from_env()?;
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let dead_letters = bridge::DeadLetters::new(&aws, queue_prefix);
    let invoker = bridge::HttpInvoker { client: reqwest::Client::new(), base_url: invoke_url };
    let mut mappings = bridge::load_mappings(&definitions)?;
    for mapping in &mut mappings {
        mapping.group_suffix = group_suffix.clone();
        mapping.on_demand = on_demand;
        if from_latest {
            mapping.starting_position = "LATEST".into();
        }
    }
    let start = if from_now { bridge::Start::Now } else { bridge::Start::AsMapped };
    let consumers = futures::future::try_join_all(mappings.iter().map(|m| bridge::connect(&kafka, m, start))).await?;
    // Scripts and tests wait for this line before publishing: from here on nothing is missed.
    eprintln!("bridge: ready: {} mappings, invoking through {}", mappings.len(), invoker.base_url);
    let runs = consumers.into_iter().zip(&mappings).map(|(consumer, mapping)| {
        bridge::run_mapping(consumer, mapping, &invoker, &dead_letters, std::future::pending::<()>())
    });
    for result in futures::future::join_all(runs).await {
        result?;
    }
    Ok(())
}

async fn run_status(
    functions_url: String, definitions: PathBuf, bridge_pid: Option<PathBuf>, every: u64,
) -> anyhow::Result<()> {
    let address = |name: &str| {
        let value = std::env::var(name).unwrap_or_default();
        let value = value.split(',').next().unwrap_or_default();
        value.trim_start_matches("http://").trim_start_matches("https://").trim_end_matches('/').to_owned()
    };
    let stack = vec![
        ("kafka".to_owned(), address("KAFKA_BOOTSTRAP_SERVERS")),
        ("dynamodb".to_owned(), address("AWS_ENDPOINT_URL_DYNAMODB")),
        ("moto".to_owned(), address("AWS_ENDPOINT_URL")),
    ];
    monitor::watch(monitor::Watched {
        service_url: functions_url,
        stack,
        bridge_pid,
        kafka: KafkaConfig::from_env()?,
        mappings: bridge::load_mappings(&definitions)?,
        every: Duration::from_secs(every.max(1)),
    })
    .await
}

async fn run_schedule(function: String, every_secs: u64, invoke_url: String) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    let url = format!("{invoke_url}/2015-03-31/functions/{function}/invocations");
    let mut ticker = tokio::time::interval(Duration::from_secs(every_secs));
    loop {
        ticker.tick().await;
        let event = serde_json::json!({
            "version": "0", "id": weelo_core::model::ids::EventId::generate().to_string(), "detail-type": "Scheduled Event",
            "source": "aws.events", "account": "000000000000",
            "time": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "region": std::env::var("AWS_REGION").unwrap_or_default(), "resources": [], "detail": {}
        });
        match client.post(&url).json(&event).send().await {
            Ok(response) if response.headers().contains_key("x-amz-function-error") => {
                tracing::warn!(%function, error = response.text().await.unwrap_or_default(), "scheduled invocation failed")
            }
            Ok(response) if response.status().is_success() => {
                tracing::debug!(%function, body = response.text().await.unwrap_or_default(), "scheduled invocation")
            }
            Ok(response) => tracing::warn!(%function, status = %response.status(), "scheduled invocation failed"),
            Err(error) => tracing::warn!(%function, %error, "scheduled invocation not delivered"),
        }
    }
}

/// `NAME=SECONDS` of `--timeout`.
fn parse_timeout(text: &str) -> Result<(String, Duration), String> {
    let (name, seconds) = text.split_once('=').ok_or("expected NAME=SECONDS")?;
    let seconds: f64 = seconds.parse().map_err(|_| format!("{seconds:?} is not a number of seconds"))?;
    if !(seconds > 0.0 && seconds <= 900.0) {
        return Err("a timeout is from 0 to 900 seconds".into());
    }
    Ok((name.to_owned(), Duration::from_secs_f64(seconds)))
}
