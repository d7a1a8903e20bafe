//! Invoking a consumer function with an MSK event, as its event-source mapping would, and reading
//! its partial batch response. Uses Lambda's Invoke API: in AWS the real one, locally the one
//! local Lambda service serves (`weelo-local functions`, `AWS_ENDPOINT_URL_LAMBDA`).

use aws_lambda_events::kafka::KafkaEvent;
use aws_sdk_lambda::primitives::Blob;
use weelo_msk::BatchResponse;

/// What one invocation said about its batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Every record was processed.
    Processed,
    /// The function reported these `(partition, offset)` as the first failure of their partitions.
    PartlyFailed(Vec<(String, i64)>),
    /// The function failed as a whole (error, timeout, crash) or could not be reached.
    Failed(String),
}

pub struct Invoker {
    client: aws_sdk_lambda::Client,
}

impl Invoker {
    pub async fn from_env() -> Self {
        let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        Self { client: aws_sdk_lambda::Client::new(&aws) }
    }

    pub async fn invoke(&self, function: &str, event: &KafkaEvent) -> Outcome {
        let payload = serde_json::to_vec(event).expect("an MSK event serialises");
        let response = match self.client.invoke().function_name(function).payload(Blob::new(payload)).send().await {
            Ok(response) => response,
            Err(error) => return Outcome::Failed(aws_sdk_lambda::error::DisplayErrorContext(error).to_string()),
        };
        let body = response.payload().map(|b| b.as_ref().to_vec()).unwrap_or_default();
        if let Some(kind) = response.function_error() {
            return Outcome::Failed(format!("{kind}: {}", String::from_utf8_lossy(&body)));
        }
        match serde_json::from_slice::<BatchResponse>(&body) {
            Ok(answer) if answer.is_success() => Outcome::Processed,
            Ok(answer) => Outcome::PartlyFailed(
                answer
                    .batch_item_failures
                    .into_iter()
                    .map(|f| (f.item_identifier.partition, f.item_identifier.offset))
                    .collect(),
            ),
            Err(error) => {
                Outcome::Failed(format!("not a batch response ({error}): {}", String::from_utf8_lossy(&body)))
            }
        }
    }
}
