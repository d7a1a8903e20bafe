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
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let Command::Local(settings) = Cli::parse().command;
    let report = weelo_bench::report::run(&settings).await?;
    std::fs::write(&settings.report, &report)?;
    println!("{report}");
    Ok(())
}
