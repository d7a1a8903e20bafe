//! API Gateway Management API adapter: implements the core's [`ConnectionPoster`] with
//! `PostToConnection` on a WebSocket API's `@connections` endpoint.
//!
//! The endpoint is the stage's own (`https://{api-id}.execute-api.{region}.amazonaws.com/{stage}`
//! in AWS, `LIVE_CONNECTIONS_URL`); locally `weelo-local functions` serves the same API on
//! loopback, so this client needs nothing but that URL to reach either.

use async_trait::async_trait;
use aws_sdk_apigatewaymanagement::Client;
use aws_sdk_apigatewaymanagement::config::http::HttpResponse;
use aws_sdk_apigatewaymanagement::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_apigatewaymanagement::operation::post_to_connection::PostToConnectionError;
use aws_sdk_apigatewaymanagement::primitives::Blob;
use weelo_core::model::live::ConnectionId;
use weelo_core::ports::{ConnectionPoster, PostError};

/// Posts to the connections of one WebSocket API stage.
#[derive(Clone, Debug)]
pub struct ApiGatewayPoster {
    client: Client,
}

impl ApiGatewayPoster {
    /// A client of the `@connections` API at `endpoint` (the stage's URL).
    pub fn from_config(aws: &aws_config::SdkConfig, endpoint: &str) -> Self {
        let config = aws_sdk_apigatewaymanagement::config::Builder::from(aws).endpoint_url(endpoint).build();
        Self { client: Client::from_conf(config) }
    }
}

#[async_trait]
impl ConnectionPoster for ApiGatewayPoster {
    async fn post(&self, connection: &ConnectionId, message: &str) -> Result<(), PostError> {
        let result = self
            .client
            .post_to_connection()
            .connection_id(connection.as_str())
            .data(Blob::new(message.as_bytes()))
            .send()
            .await;
        result.map(|_| ()).map_err(classify)
    }
}

/// 410 `GoneException` → gone; 429 `LimitExceededException` (or any throttling) → throttled.
fn classify(error: SdkError<PostToConnectionError, HttpResponse>) -> PostError {
    let status = error.raw_response().map(|r| r.status().as_u16());
    match (error.code(), status) {
        (Some("GoneException"), _) | (_, Some(410)) => PostError::Gone,
        (Some("LimitExceededException" | "ThrottlingException" | "TooManyRequestsException"), _) | (_, Some(429)) => {
            PostError::Throttled
        }
        (code, status) => PostError::Failed(format!("{} (status {status:?})", code.unwrap_or("no error code"))),
    }
}
