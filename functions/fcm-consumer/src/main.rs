//! Lambda entry point of the `fcm-consumer` function: configuration → clients → run the handler.

use lambda_runtime::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let metrics = weelo_telemetry::init("fcm-consumer")?;
    let service = weelo_fcm_consumer::from_env().await?;
    weelo_telemetry::run(metrics, |event| weelo_fcm_consumer::handle(&service, event)).await
}
