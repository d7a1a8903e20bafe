//! The `fcm-consumer` function: consumes `notification.fcm` (and `booking.accepted`,
//! `order.truck-request-accepted`, to tell the customer) and pushes to every device of the
//! recipient through SNS mobile push (see `weelo_core::push`). A transient failure reports only
//! that record as failed; devices already reached are not pushed again on the retry.

use aws_lambda_events::kafka::KafkaEvent;
use lambda_runtime::{Error, LambdaEvent};
use weelo_consumer::{BatchResponse, process_in_order};
use weelo_core::ports::{DeviceStore, PushLog, PushSender};
use weelo_core::push::PushService;
use weelo_dynamo::DynamoStore;
use weelo_sns::SnsPushSender;

pub type FcmConsumer = PushService<DynamoStore, SnsPushSender>;

pub async fn from_env() -> anyhow::Result<FcmConsumer> {
    let aws = weelo_aws::sdk_config().await?;
    Ok(PushService { store: DynamoStore::from_env(&aws)?, sender: SnsPushSender::new(aws_sdk_sns::Client::new(&aws)) })
}

/// Generic over the store and the sender so the benchmark can put a per-push delay in front of SNS.
pub async fn handle<S, P>(service: &PushService<S, P>, event: LambdaEvent<KafkaEvent>) -> Result<BatchResponse, Error>
where
    S: DeviceStore + PushLog,
    P: PushSender,
{
    Ok(process_in_order(&event.payload, |id, domain_event| async move {
        let report = service.on_event(id, &domain_event).await?;
        tracing::debug!(%id, ?report, "delivered");
        Ok::<(), weelo_core::push::DeliveryError>(())
    })
    .await)
}
