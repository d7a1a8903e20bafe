//! Lambda entry point of the `kafka-topics` function: settings → run the handler.

use lambda_runtime::{Error, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let settings = weelo_kafka_topics::Settings::from_env()?;
    run(service_fn(|event| weelo_kafka_topics::handle(&settings, event))).await
}
