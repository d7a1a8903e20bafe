//! Lambda entry point of the `location-consumer` function: settings → clients → run the handler.

use lambda_runtime::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let metrics = weelo_telemetry::init("location-consumer")?;
    let consumer = weelo_location_consumer::connect(&weelo_location_consumer::Settings::from_env()?).await?;
    let reporting = weelo_msk::FailureReporting::from_env()?;
    weelo_telemetry::run(metrics, |event| reporting.answer(weelo_location_consumer::handle(&consumer, event))).await
}
