//! Lambda entry point of the `fcm-consumer` function: settings → clients → run the handler.

use lambda_runtime::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let metrics = weelo_telemetry::init("fcm-consumer")?;
    let push = weelo_fcm_consumer::connect(&weelo_fcm_consumer::Settings::from_env()?).await?;
    let reporting = weelo_msk::FailureReporting::from_env()?;
    weelo_telemetry::run(metrics, |event| reporting.answer(weelo_fcm_consumer::handle(&push, event))).await
}
