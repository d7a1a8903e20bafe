//! `weelo-ops`, the operator's tool, as a library: each module is one subcommand, so tests drive
//! the same code an operator runs. Configuration comes from the environment like the functions'
//! (`KAFKA_*`, `AWS_*`, `AUDIT_BUCKET`); locally `.local/stack.env` holds it and
//! `AWS_ENDPOINT_URL_LAMBDA` points the Lambda client at the local Lambda service (`weelo-local functions`).

pub mod audit;
pub mod funnel;
pub mod invoke;
pub mod lag;
pub mod metrics;
pub mod redrive;
pub mod replay;
pub mod skip;

/// A progress bar on stderr that stays out of the way when stderr is not a terminal (CI, pipes).
pub fn progress(total: u64, what: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(total);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({per_sec}, eta {eta})")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    bar.set_message(what.to_owned());
    bar
}
