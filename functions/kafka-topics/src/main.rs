//! Lambda entry point of the `kafka-topics` function: settings → run the handler.

use lambda_runtime::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    weelo_telemetry::init("kafka-topics")?;
    let settings = weelo_kafka_topics::Settings::from_env()?;
    weelo_telemetry::run(|event| weelo_kafka_topics::handle(&settings, event)).await
}
