//! The `live-socket` function: the live-tracking WebSocket API's REQUEST authorizer and its route
//! integration (`$connect`, `$disconnect`, `subscribe`, `unsubscribe`, `$default`), told apart by
//! the event's shape (docs/live-tracking.md). The use cases are `weelo_core::usecases::live`.
//!
//! The token comes in the query string (`?token=`) or, from a browser, as the second entry of
//! `Sec-WebSocket-Protocol` (`weelo.live.v1, <token>`). It is never logged: the handler logs
//! outcomes, not events.

mod events;

use events::{AuthorizerRequest, RouteRequest};
use lambda_runtime::{Error, LambdaEvent};
use serde_json::{Value, json};
use weelo_auth::{EdgeSettings, TokenVerifier};
use weelo_core::contract::live::is_share_token;
use weelo_core::model::live::{ConnectionId, Watcher};
use weelo_core::usecases::live::LiveSocket;
use weelo_dynamo::{DynamoStore, StoreSettings};

/// The subprotocol a browser offers with its token, and which `$connect` selects.
pub const SUBPROTOCOL: &str = "weelo.live.v1";

/// The function's settings, read once from the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `SDK_*_TIMEOUT_MS`, `TABLE_*`.
    pub store: StoreSettings,
    /// `JWT_*` (the HTTP API's token settings) and `CURSOR_KEY` (share tokens are sealed with it).
    pub edge: EdgeSettings,
}

impl Settings {
    pub fn from_env() -> anyhow::Result<Self> {
        Ok(Self { store: StoreSettings::from_env()?, edge: EdgeSettings::from_env()? })
    }
}

pub struct LiveSocketFunction {
    pub socket: LiveSocket<DynamoStore>,
    verifier: TokenVerifier,
}

/// The use cases with clients built from `settings`.
pub async fn connect(settings: &Settings) -> anyhow::Result<LiveSocketFunction> {
    let (_, store) = settings.store.connect().await;
    let verifier = TokenVerifier::load(&settings.edge.jwt).await?;
    Ok(LiveSocketFunction { socket: LiveSocket::new(store, settings.edge.cursor_key.clone()), verifier })
}

/// One event: an authorizer request, or a route's.
pub async fn handle(function: &LiveSocketFunction, event: LambdaEvent<Value>) -> Result<Value, Error> {
    let payload = event.payload;
    if payload.get("methodArn").is_some() {
        let request: AuthorizerRequest = serde_json::from_value(payload)?;
        return authorize(function, request).await;
    }
    let request: RouteRequest = serde_json::from_value(payload)?;
    route(function, request).await
}

async fn authorize(function: &LiveSocketFunction, request: AuthorizerRequest) -> Result<Value, Error> {
    let Some(token) = request.token(SUBPROTOCOL) else {
        tracing::info!("connection refused: no token");
        return Ok(deny());
    };
    let watcher = if is_share_token(&token) {
        match function.socket.admit_share(&token, chrono::Utc::now()).await {
            Ok(watcher) => watcher,
            Err(weelo_core::usecases::live::ShareRefusal::Store(error)) => return Err(error.into()),
            Err(refusal) => {
                tracing::info!(%refusal, "shared link refused");
                return Ok(deny());
            }
        }
    } else {
        match function.verifier.verify(&token) {
            Ok(caller) => Watcher::User(caller),
            Err(error) => {
                tracing::info!(?error, "connection refused: token");
                return Ok(deny());
            }
        }
    };
    Ok(allow(&request.method_arn, &watcher))
}

async fn route(function: &LiveSocketFunction, request: RouteRequest) -> Result<Value, Error> {
    let context = &request.request_context;
    let id = ConnectionId::parse(&context.connection_id).map_err(|_| "malformed connection id")?;
    match context.event_type.as_str() {
        "CONNECT" => {
            let watcher = context.watcher().ok_or("$connect without an authorizer context")?;
            function.socket.connect(id, watcher, chrono::Utc::now()).await?;
            let mut answer = json!({ "statusCode": 200 });
            if request.offers_subprotocol(SUBPROTOCOL) {
                answer["headers"] = json!({ "Sec-WebSocket-Protocol": SUBPROTOCOL });
            }
            Ok(answer)
        }
        "DISCONNECT" => {
            function.socket.disconnect(&id).await?;
            Ok(json!({ "statusCode": 200 }))
        }
        _ => {
            let reply = function.socket.message(&id, request.body.as_deref().unwrap_or_default()).await?;
            Ok(json!({ "statusCode": 200, "body": reply.to_json() }))
        }
    }
}

/// An IAM policy allowing this connection, with who it is as the context `$connect` reads.
fn allow(method_arn: &str, watcher: &Watcher) -> Value {
    let (principal, context) = match watcher {
        Watcher::User(caller) => {
            (caller.user_id.to_string(), json!({ "userId": caller.user_id.to_string(), "role": caller.role.as_str() }))
        }
        Watcher::Viewer { share, booking } => (
            format!("share:{share}"),
            json!({ "role": "viewer", "shareId": share.to_string(), "bookingId": booking.to_string() }),
        ),
    };
    json!({
        "principalId": principal,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{ "Action": "execute-api:Invoke", "Effect": "Allow", "Resource": method_arn }],
        },
        "context": context,
    })
}

/// API Gateway answers the handshake 403.
fn deny() -> Value {
    json!({
        "principalId": "anonymous",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{ "Action": "execute-api:Invoke", "Effect": "Deny", "Resource": "*" }],
        },
    })
}
