//! `weelo-bench`: measures the figures of `docs/BENCHMARKS.md` (see `make bench`).

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(version, about = "Benchmarks of Weelo's functions against the native local stack")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run every figure against the local stack (environment from .local/stack.env) and write the report.
    Local(weelo_bench::report::Settings),
    /// Load a running API over HTTP (deployed, or local under `weelo-local functions`): trucks stream
    /// GPS, customers book; prints live progress and a summary line (appended to --append-to if given).
    Remote {
        #[command(flatten)]
        settings: weelo_bench::remote::RemoteSettings,
        /// A markdown report to append the summary to.
        #[arg(long)]
        append_to: Option<std::path::PathBuf>,
    },
    /// Live tracking over a running local stack with a bridge: point → client latency and one
    /// invocation's fan-out (appended to --append-to if given).
    Live {
        #[command(flatten)]
        settings: weelo_bench::live::LiveSettings,
        #[arg(long)]
        append_to: Option<std::path::PathBuf>,
    },
    /// Generate the monthly cost table (docs/COSTS.md) and the README's seed total from the counts of
    /// the last `make bench` (docs/BENCHMARKS.json), infra/prices.json and infra/cost-model.json.
    Costs,
    /// Run one hot path in rounds, printing each round's rate: for a profiler (`localstack/profile.sh`).
    Profile(weelo_bench::profile::ProfileSettings),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Local(settings) => {
            let previous = std::fs::read_to_string(&settings.report).unwrap_or_default();
            let mut report = weelo_bench::report::run(&settings).await?;
            let kept = weelo_bench::kept::kept_part(&previous);
            if !kept.is_empty() {
                report.push_str(&format!("\n{kept}\n"));
            }
            std::fs::write(&settings.report, &report)?;
            println!("{report}");
            weelo_bench::costs::write(std::path::Path::new("."))?;
            println!("cost table: {}", weelo_bench::costs::TABLE);
        }
        Command::Costs => {
            println!("{}", weelo_bench::costs::write(std::path::Path::new("."))?);
        }
        Command::Remote { settings, append_to } => {
            let summary = weelo_bench::remote::run(&settings).await?;
            if let Some(path) = append_to {
                use std::io::Write as _;
                std::fs::OpenOptions::new().append(true).open(path)?.write_all(summary.as_bytes())?;
            }
            println!("{summary}");
        }
        Command::Live { settings, append_to } => {
            let section = weelo_bench::live::run(&settings).await?;
            if let Some(path) = append_to {
                use std::io::Write as _;
                std::fs::OpenOptions::new().append(true).open(path)?.write_all(section.as_bytes())?;
            }
            println!("{section}");
        }
        Command::Profile(settings) => {
            weelo_bench::profile::run(&settings).await?;
        }
    }
    Ok(())
}
