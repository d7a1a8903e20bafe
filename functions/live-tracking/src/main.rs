//! Lambda entry point of the `live-tracking` function: settings → clients → run the handler.

use lambda_runtime::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    weelo_telemetry::init("live-tracking")?;
    let settings = weelo_live_tracking::Settings::from_env()?;
    let consumer = weelo_live_tracking::connect(&settings).await?;
    weelo_telemetry::run(|event| settings.reporting.answer(weelo_live_tracking::handle(&consumer, event))).await
}
