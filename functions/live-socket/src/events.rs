//! The fields of API Gateway's WebSocket events this function reads, and nothing else: the
//! authorizer's REQUEST event and a route's event (`requestContext.eventType` CONNECT, MESSAGE,
//! DISCONNECT; a Lambda authorizer's context keys sit flat in `requestContext.authorizer`).

use serde::Deserialize;
use std::collections::HashMap;
use weelo_core::model::caller::{Caller, Role};
use weelo_core::model::ids::{BookingId, ShareId, UserId};
use weelo_core::model::live::Watcher;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizerRequest {
    pub method_arn: String,
    #[serde(default)]
    headers: Option<HashMap<String, String>>,
    #[serde(default)]
    query_string_parameters: Option<HashMap<String, String>>,
}

impl AuthorizerRequest {
    /// `?token=`, else the `Sec-WebSocket-Protocol` entry that is not `subprotocol`.
    pub fn token(&self, subprotocol: &str) -> Option<String> {
        let query = self.query_string_parameters.as_ref().and_then(|q| q.get("token"));
        if let Some(token) = query.filter(|t| !t.is_empty()) {
            return Some(token.clone());
        }
        let offered = protocols(self.headers.as_ref())?;
        offered.into_iter().find(|p| *p != subprotocol && !p.is_empty()).map(str::to_owned)
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteRequest {
    pub request_context: RouteContext,
    #[serde(default)]
    headers: Option<HashMap<String, String>>,
    #[serde(default)]
    pub body: Option<String>,
}

impl RouteRequest {
    pub fn offers_subprotocol(&self, subprotocol: &str) -> bool {
        protocols(self.headers.as_ref()).is_some_and(|offered| offered.contains(&subprotocol))
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteContext {
    pub connection_id: String,
    pub event_type: String,
    #[serde(default)]
    authorizer: Option<HashMap<String, serde_json::Value>>,
}

impl RouteContext {
    /// Who the authorizer admitted (see `allow` in lib.rs).
    pub fn watcher(&self) -> Option<Watcher> {
        let context = self.authorizer.as_ref()?;
        let text = |key: &str| context.get(key).and_then(|v| v.as_str());
        match text("role")? {
            "viewer" => Some(Watcher::Viewer {
                share: ShareId::parse(text("shareId")?).ok()?,
                booking: BookingId::parse(text("bookingId")?).ok()?,
            }),
            role => {
                Some(Watcher::User(Caller { user_id: UserId::parse(text("userId")?).ok()?, role: Role::parse(role)? }))
            }
        }
    }
}

/// The entries of `Sec-WebSocket-Protocol` (header names compared without case).
fn protocols(headers: Option<&HashMap<String, String>>) -> Option<Vec<&str>> {
    let (_, value) = headers?.iter().find(|(name, _)| name.eq_ignore_ascii_case("sec-websocket-protocol"))?;
    Some(value.split(',').map(str::trim).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_token_comes_from_the_query_or_the_subprotocol_header() {
        let from_query: AuthorizerRequest = serde_json::from_value(json!({
            "type": "REQUEST", "methodArn": "arn", "queryStringParameters": {"token": "abc"}
        }))
        .unwrap();
        assert_eq!(from_query.token("weelo.live.v1").as_deref(), Some("abc"));
        let from_header: AuthorizerRequest = serde_json::from_value(json!({
            "type": "REQUEST", "methodArn": "arn", "headers": {"Sec-WebSocket-Protocol": "weelo.live.v1, s1.x.y"}
        }))
        .unwrap();
        assert_eq!(from_header.token("weelo.live.v1").as_deref(), Some("s1.x.y"));
        let none: AuthorizerRequest = serde_json::from_value(json!({"methodArn": "arn", "headers": {}})).unwrap();
        assert_eq!(none.token("weelo.live.v1"), None);
    }

    #[test]
    fn the_authorizer_context_becomes_the_watcher() {
        let share = ShareId::generate();
        let booking = BookingId::generate();
        let viewer: RouteRequest = serde_json::from_value(json!({"requestContext": {
            "connectionId": "c1", "eventType": "CONNECT",
            "authorizer": {"principalId": "p", "role": "viewer", "shareId": share.to_string(), "bookingId": booking.to_string()}
        }}))
        .unwrap();
        assert_eq!(viewer.request_context.watcher(), Some(Watcher::Viewer { share, booking }));
        let forged: RouteRequest = serde_json::from_value(json!({"requestContext": {
            "connectionId": "c1", "eventType": "CONNECT", "authorizer": {"role": "admin", "userId": "u"}
        }}))
        .unwrap();
        assert_eq!(forged.request_context.watcher(), None);
    }
}
