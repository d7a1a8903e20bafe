//! Lambda entry point of the `deadline-sweeper` function: settings → clients → run the handler.

use lambda_runtime::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    weelo_telemetry::init("deadline-sweeper")?;
    let sweeper = weelo_deadline_sweeper::connect(&weelo_deadline_sweeper::Settings::from_env()?).await?;
    weelo_telemetry::run(|event| weelo_deadline_sweeper::handle(&sweeper, event)).await
}
