//! Lambda entry point of the `live-tracking` function: settings → clients → run the handler.

use lambda_runtime::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let metrics = weelo_telemetry::init("live-tracking")?;
    let consumer = weelo_live_tracking::connect(&weelo_live_tracking::Settings::from_env()?).await?;
    let reporting = weelo_msk::FailureReporting::from_env()?;
    weelo_telemetry::run(metrics, |event| reporting.answer(weelo_live_tracking::handle(&consumer, event))).await
}
