//! Lambda entry point of the `location-consumer` consumer. A skeleton until the consumers issue: it decodes each
//! MSK record into a domain event and logs it, so the event contract is exercised end to end, but
//! it has no effects yet.

use aws_lambda_events::kafka::KafkaEvent;
use base64::Engine;
use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use weelo_core::events::DomainEvent;

async fn handle(event: LambdaEvent<KafkaEvent>) -> Result<(), Error> {
    for record in event.payload.records.values().flatten() {
        let value = record.value.as_deref().unwrap_or_default();
        let decoded = base64::engine::general_purpose::STANDARD.decode(value).map_err(Error::from);
        match decoded.and_then(|bytes| DomainEvent::from_payload(&bytes).map_err(Error::from)) {
            Ok((id, event)) => tracing::info!(%id, kind = event.event_type(), "received"),
            Err(error) => tracing::warn!(%error, offset = record.offset, "undecodable record"),
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    run(service_fn(handle)).await
}
