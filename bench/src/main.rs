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
    /// GPS, customers book; prints live progress and a summary line (written into --report if given).
    Remote {
        #[command(flatten)]
        settings: weelo_bench::remote::RemoteSettings,
        /// A markdown report to write the summary into (replacing its earlier section, if any).
        #[arg(long)]
        report: Option<std::path::PathBuf>,
    },
    /// Live tracking over a running local stack with a bridge: point → client latency and one
    /// invocation's fan-out (written into --report if given, replacing its earlier section).
    Live {
        #[command(flatten)]
        settings: weelo_bench::live::LiveSettings,
        #[arg(long)]
        report: Option<std::path::PathBuf>,
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
            report.push_str(&weelo_bench::kept::carried_sections(&previous));
            std::fs::write(&settings.report, &report)?;
            println!("{report}");
            weelo_bench::costs::write(std::path::Path::new("."))?;
            println!("cost table: {}", weelo_bench::costs::TABLE);
        }
        Command::Costs => {
            println!("{}", weelo_bench::costs::write(std::path::Path::new("."))?);
        }
        Command::Remote { settings, report } => {
            let summary = weelo_bench::remote::run(&settings).await?;
            if let Some(path) = report {
                put_section(&path, &summary)?;
            }
            println!("{summary}");
        }
        Command::Live { settings, report } => {
            let section = weelo_bench::live::run(&settings).await?;
            if let Some(path) = report {
                put_section(&path, &section)?;
            }
            println!("{section}");
        }
        Command::Profile(settings) => {
            weelo_bench::profile::run(&settings).await?;
        }
    }
    Ok(())
}

/// Writes `section` into the report at `path`: in place of the section with its heading (a copy
/// `local` carried over, or an earlier run's), else at the end.
fn put_section(path: &std::path::Path, section: &str) -> anyhow::Result<()> {
    let report = std::fs::read_to_string(path)?;
    std::fs::write(path, weelo_bench::kept::replace_section(&report, section))?;
    Ok(())
}
