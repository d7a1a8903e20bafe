//! Lambda entry point of the `fcm-consumer` function: configuration → clients → run the handler.

use lambda_runtime::{Error, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let service = weelo_fcm_consumer::from_env().await?;
    run(service_fn(|event| weelo_fcm_consumer::handle(&service, event))).await
}
