//! Lambda entry point of the `fcm-consumer` function: settings → clients → run the handler.

use lambda_runtime::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    weelo_telemetry::init("fcm-consumer")?;
    let settings = weelo_fcm_consumer::Settings::from_env()?;
    let push = weelo_fcm_consumer::connect(&settings).await?;
    weelo_telemetry::run(|event| settings.reporting.answer(weelo_fcm_consumer::handle(&push, event))).await
}
