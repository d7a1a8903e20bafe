//! Lambda entry point of the `fcm-consumer` function: settings → clients → run the handler.

use lambda_runtime::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    weelo_telemetry::init("fcm-consumer")?;
    let push = weelo_fcm_consumer::connect(&weelo_fcm_consumer::Settings::from_env()?).await?;
    weelo_telemetry::run(|event| weelo_fcm_consumer::handle(&push, event)).await
}
