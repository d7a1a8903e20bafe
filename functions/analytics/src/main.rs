//! Lambda entry point of the `analytics` function: settings → clients → run the handler.

use lambda_runtime::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    weelo_telemetry::init("analytics")?;
    let settings = weelo_analytics::Settings::from_env()?;
    let consumer = weelo_analytics::connect(&settings, weelo_analytics::stdout()).await?;
    weelo_telemetry::run(|event| weelo_analytics::handle(&consumer, event)).await
}
