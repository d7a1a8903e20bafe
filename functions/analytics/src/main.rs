//! Lambda entry point of the `analytics` function: settings → clients → run the handler.

use lambda_runtime::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let metrics = weelo_telemetry::init("analytics")?;
    let consumer = weelo_analytics::connect(&weelo_analytics::Settings::from_env()?, weelo_analytics::stdout()).await?;
    let reporting = weelo_msk::FailureReporting::from_env()?;
    weelo_telemetry::run(metrics, |event| reporting.answer(weelo_analytics::handle(&consumer, event))).await
}
