//! A live-tracking WebSocket client for the flows (tokio-tungstenite), as an app or the shared
//! page connects: the token in the query string or in `Sec-WebSocket-Protocol`.

use futures::{SinkExt, StreamExt};
use serde_json::Value;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Socket = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

/// Where the local gateway serves the socket, for the local Lambda service at `invoke_url`.
pub fn socket_url(invoke_url: &str) -> String {
    format!("{}/websocket", invoke_url.replacen("http://", "ws://", 1))
}

pub struct LiveClient {
    socket: Socket,
    /// Every message received, in order.
    pub received: Vec<Value>,
}

/// How the token travels.
pub enum Carry {
    Query,
    Subprotocol,
}

impl LiveClient {
    /// Connects with `token`; `Err(status)` when the handshake is refused.
    pub async fn connect(url: &str, token: &str, carry: Carry) -> Result<Self, u16> {
        let mut request = match carry {
            Carry::Query => format!("{url}?token={token}").into_client_request().expect("a ws URL"),
            Carry::Subprotocol => {
                let mut request = url.into_client_request().expect("a ws URL");
                let offered = format!("weelo.live.v1, {token}").parse().expect("a header value");
                request.headers_mut().insert("sec-websocket-protocol", offered);
                request
            }
        };
        request.headers_mut().insert("user-agent", "weelo-e2e".parse().unwrap());
        match tokio_tungstenite::connect_async(request).await {
            Ok((socket, response)) => {
                if matches!(carry, Carry::Subprotocol) {
                    let chosen =
                        response.headers().get("sec-websocket-protocol").map(|v| v.to_str().unwrap().to_owned());
                    assert_eq!(chosen.as_deref(), Some("weelo.live.v1"), "the gateway selects the subprotocol");
                }
                Ok(Self { socket, received: Vec::new() })
            }
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => Err(response.status().as_u16()),
            Err(other) => panic!("connecting to {url}: {other}"),
        }
    }

    pub async fn send(&mut self, message: Value) {
        self.socket.send(Message::Text(message.to_string().into())).await.expect("sending on the socket");
    }

    /// The next message of `kind` (`type`), waiting up to `seconds`; earlier ones are kept too.
    pub async fn next_of(&mut self, kind: &str, seconds: u64) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(seconds);
        loop {
            let frame = tokio::time::timeout_at(deadline, self.socket.next()).await.ok()??;
            if let Ok(Message::Text(text)) = frame {
                let value: Value = serde_json::from_str(&text).expect("JSON from the socket");
                self.received.push(value.clone());
                if value["type"] == kind {
                    return Some(value);
                }
            }
        }
    }

    /// Reads whatever arrives for `seconds`.
    pub async fn drain(&mut self, seconds: u64) {
        while self.next_of("nothing-matches", seconds).await.is_some() {}
    }

    /// The `recordedAt` (ms) of every position received, in arrival order.
    pub fn positions(&self) -> Vec<i64> {
        self.received
            .iter()
            .filter(|m| m["type"] == "position")
            .map(|m| {
                m["recordedAt"].as_str().unwrap().parse::<chrono::DateTime<chrono::Utc>>().unwrap().timestamp_millis()
            })
            .collect()
    }

    /// The statuses received, in arrival order.
    pub fn statuses(&self) -> Vec<String> {
        self.received
            .iter()
            .filter(|m| m["type"] == "status")
            .map(|m| m["status"].as_str().unwrap().to_owned())
            .collect()
    }

    /// Leaves without a close handshake (a phone that lost its network).
    pub fn vanish(self) {
        drop(self.socket);
    }
}
