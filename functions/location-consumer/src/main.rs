//! Lambda entry point of the `location-consumer` function: settings → clients → run the handler.

use lambda_runtime::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    weelo_telemetry::init("location-consumer")?;
    let consumer = weelo_location_consumer::connect(&weelo_location_consumer::Settings::from_env()?).await?;
    weelo_telemetry::run(|event| weelo_location_consumer::handle(&consumer, event)).await
}
