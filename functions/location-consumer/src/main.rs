//! Lambda entry point of the `location-consumer` function: configuration → clients → run the handler.

use lambda_runtime::{Error, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let consumer = weelo_location_consumer::from_env().await?;
    run(service_fn(|event| weelo_location_consumer::handle(&consumer, event))).await
}
