//! Lambda entry point of the `outbox-relay` function: settings → clients → run the handler.

use lambda_runtime::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    weelo_telemetry::init("outbox-relay")?;
    let relay = weelo_outbox_relay::connect(&weelo_outbox_relay::Settings::from_env()?).await?;
    weelo_telemetry::run(|event| weelo_outbox_relay::handle(&relay, event)).await
}
