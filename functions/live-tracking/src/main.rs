//! Lambda entry point of the `live-tracking` function: settings → clients → run the handler.

use lambda_runtime::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    weelo_telemetry::init("live-tracking")?;
    let consumer = weelo_live_tracking::connect(&weelo_live_tracking::Settings::from_env()?).await?;
    weelo_telemetry::run(|event| weelo_live_tracking::handle(&consumer, event)).await
}
