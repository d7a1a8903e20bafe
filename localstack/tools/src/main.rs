//! `weelo-local`: helper of the native local stack (see `localstack/README.md`).

use anyhow::Context;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::time::Duration;
use weelo_kafka::KafkaConfig;
use weelo_local::{bridge, provision};

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
    /// Run the local MSK event-source mappings: consume each mapping's topic and invoke its function
    /// through the Lambda Invoke API of `cargo lambda watch`, as AWS's MSK event source would.
    Bridge {
        #[arg(long, default_value = "infra/definitions")]
        definitions: PathBuf,
        #[arg(long, default_value = "http://127.0.0.1:9000")]
        invoke_url: String,
        #[arg(long, env = "WEELO_QUEUE_PREFIX", default_value = "weelo-local-")]
        queue_prefix: String,
        /// Start consumer groups that have no committed offset at the end of their topic instead of
        /// the mapping's starting position: for demos and smoke tests on a broker that holds old test traffic.
        #[arg(long)]
        from_latest: bool,
        /// Appended to every consumer group name, to start a run with fresh groups.
        #[arg(long, default_value = "")]
        group_suffix: String,
    },
    /// Invoke a function every few seconds through the Lambda Invoke API of `cargo lambda watch`,
    /// with an EventBridge scheduled event: the local stand-in for an EventBridge schedule.
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
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("WEELO_LOG").unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::Provision { definitions, table_prefix, platform_application } => {
            let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
            let dynamo = aws_sdk_dynamodb::Client::new(&aws);
            for (env, table) in provision::tables(&dynamo, &definitions, &table_prefix).await? {
                println!("{env}={table}");
            }
            provision::topics(&KafkaConfig::from_env()?, &definitions, 1)
                .await
                .context("creating or updating topics")?;
            let sns = aws_sdk_sns::Client::new(&aws);
            let arn =
                provision::platform_application(&sns, &platform_application, "local-placeholder-credential").await?;
            println!("SNS_PLATFORM_APPLICATION_ARN={arn}");
            let bucket = format!("{table_prefix}audit");
            let region = aws.region().map(|r| r.to_string()).unwrap_or_default();
            provision::audit_bucket(&weelo_audit::s3_client(&aws), &bucket, &region)
                .await
                .context("creating the audit bucket")?;
            println!("AUDIT_BUCKET={bucket}");
            let queue_prefix = std::env::var("WEELO_QUEUE_PREFIX").unwrap_or_else(|_| "weelo-local-".into());
            provision::dead_letter_queues(&aws_sdk_sqs::Client::new(&aws), &definitions, &queue_prefix)
                .await
                .context("creating the dead-letter queues")?;
        }
        Command::Bridge { definitions, invoke_url, queue_prefix, from_latest, group_suffix } => {
            let kafka = KafkaConfig::from_env()?;
            let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
            let dead_letters = bridge::DeadLetters { sqs: aws_sdk_sqs::Client::new(&aws), queue_prefix };
            let invoker = bridge::HttpInvoker { client: reqwest::Client::new(), base_url: invoke_url };
            let mut mappings = bridge::load_mappings(&definitions).map_err(anyhow::Error::msg)?;
            for mapping in &mut mappings {
                mapping.group_suffix = group_suffix.clone();
                if from_latest {
                    mapping.starting_position = "LATEST".into();
                }
            }
            let consumers = futures::future::try_join_all(mappings.iter().map(|m| bridge::connect(&kafka, m))).await?;
            // Scripts and tests wait for this line before publishing: from here on nothing is missed.
            eprintln!("bridge: ready: {} mappings, invoking through {}", mappings.len(), invoker.base_url);
            let runs = consumers.into_iter().zip(&mappings).map(|(consumer, mapping)| {
                bridge::run_mapping(consumer, mapping, &invoker, &dead_letters, std::future::pending::<()>())
            });
            for result in futures::future::join_all(runs).await {
                result?;
            }
        }
        Command::Token { sub, role, ttl } => {
            let key_path = std::env::var("JWT_DEV_PRIVATE_KEY")
                .context("JWT_DEV_PRIVATE_KEY is not set (source .local/stack.env)")?;
            let pem = std::fs::read(&key_path).with_context(|| format!("reading {key_path}"))?;
            let issuer = std::env::var("JWT_ISSUER").context("JWT_ISSUER is not set")?;
            let audience = std::env::var("JWT_AUDIENCE").ok();
            let role_claim = std::env::var("JWT_ROLE_CLAIM").unwrap_or_else(|_| "custom:role".into());
            let key_id = std::env::var("JWT_DEV_KEY_ID").unwrap_or_else(|_| "weelo-local-1".into());
            let token = weelo_auth::mint(&weelo_auth::MintRequest {
                private_key_pem: &pem,
                key_id: &key_id,
                issuer: &issuer,
                audience: audience.as_deref(),
                role_claim: &role_claim,
                subject: &sub,
                role: &role,
                lifetime_secs: ttl,
            })?;
            println!("{token}");
        }
        Command::Tail { topic, minutes, wait } => {
            let config = KafkaConfig::from_env()?;
            let since = chrono::Utc::now() - chrono::Duration::minutes(minutes);
            let records = tokio::task::spawn_blocking(move || {
                weelo_kafka::read_records(&config, &topic, since, Duration::from_secs(wait), |_, _| false)
            })
            .await??;
            for record in records {
                println!(
                    "{}",
                    serde_json::json!({
                        "partition": record.partition, "offset": record.offset, "key": record.key,
                        "value": serde_json::from_str::<serde_json::Value>(&record.payload).unwrap_or(record.payload.into()),
                    })
                );
            }
        }
        Command::Schedule { function, every_secs, invoke_url } => {
            let client = reqwest::Client::new();
            let url = format!("{invoke_url}/2015-03-31/functions/{function}/invocations");
            let mut ticker = tokio::time::interval(Duration::from_secs(every_secs));
            loop {
                ticker.tick().await;
                let event = serde_json::json!({
                    "version": "0", "id": uuid_v4(), "detail-type": "Scheduled Event", "source": "aws.events",
                    "account": "000000000000", "time": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    "region": std::env::var("AWS_REGION").unwrap_or_default(), "resources": [], "detail": {}
                });
                match client.post(&url).json(&event).send().await {
                    Ok(response) if response.status().is_success() => {
                        tracing::debug!(%function, body = response.text().await.unwrap_or_default(), "scheduled invocation")
                    }
                    Ok(response) => {
                        tracing::warn!(%function, status = %response.status(), "scheduled invocation failed")
                    }
                    Err(error) => {
                        tracing::warn!(%function, %error, "scheduled invocation not delivered")
                    }
                }
            }
        }
    }
    Ok(())
}

fn uuid_v4() -> String {
    weelo_core::ids::EventId::generate().to_string()
}
