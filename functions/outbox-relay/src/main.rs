//! Lambda entry point of the `outbox-relay` function: configuration → clients → run the handler.

use lambda_runtime::{Error, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let relay = weelo_outbox_relay::Relay::from_env().await?;
    run(service_fn(|event| weelo_outbox_relay::handle(&relay, event))).await
}
