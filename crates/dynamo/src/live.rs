//! [`LiveStore`] and [`ShareStore`]: live tracking's connections, the trips they watch, and the
//! shared links. In `live-connections`, a connection is one item (`sk = connection`) and each
//! watched trip another (`sk = trip#<trip>`), all under the connection id, so a disconnect reads
//! and deletes one partition. Index `by-trip` finds a trip's watchers; the sparse `by-transporter`
//! finds a truck's (a watch carries `transporterId` only while its trip has a truck).

use crate::DynamoStore;
use crate::requests::*;
use async_trait::async_trait;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, DeleteRequest, WriteRequest};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use weelo_core::model::caller::{Caller, Role};
use weelo_core::model::ids::{BookingId, ShareId, UserId};
use weelo_core::model::live::{ConnectionId, LiveConnection, ShareLink, Watch, Watcher};
use weelo_core::model::trip::TripRef;
use weelo_core::ports::{LiveStore, ShareStore, StoreError};

const CONNECTION_SK: &str = "connection";
const BY_TRIP: &str = "by-trip";
const BY_TRANSPORTER: &str = "by-transporter";

#[serde_with::skip_serializing_none]
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConnectionItem {
    connection_id: String,
    sk: String,
    user_id: Option<UserId>,
    role: Option<Role>,
    share_id: Option<ShareId>,
    booking_id: Option<BookingId>,
    expires_at: i64,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ShareItem {
    share_id: ShareId,
    booking_id: BookingId,
    customer_id: UserId,
    created_at: DateTime<Utc>,
    expires_at_ms: i64,
    /// Epoch seconds: the table's TTL.
    expires_at: i64,
}

fn watch_sk(trip: &TripRef) -> String {
    format!("trip#{trip}")
}

fn connection_key(connection: &ConnectionId, sk: String) -> Item {
    HashMap::from([
        ("connectionId".to_owned(), AttributeValue::S(connection.as_str().to_owned())),
        ("sk".to_owned(), AttributeValue::S(sk)),
    ])
}

/// An update of `connection`'s watch of `trip`.
fn watch_update(store: &DynamoStore, connection: &ConnectionId, trip: &TripRef) -> UpdateItemFluentBuilder {
    let key = connection_key(connection, watch_sk(trip));
    store.update_at(&store.tables.live_connections, key)
}

/// `update` with `set` (`SET …` or empty) and the watch's truck: set to `transporter`, or removed
/// (which takes the watch out of the sparse `by-transporter` index).
fn with_truck(update: UpdateItemFluentBuilder, set: &str, transporter: Option<&UserId>) -> UpdateItemFluentBuilder {
    match transporter {
        Some(truck) => {
            let set = if set.is_empty() { "SET ".to_owned() } else { format!("{set}, ") };
            update
                .update_expression(format!("{set}transporterId = :truck"))
                .expression_attribute_values(":truck", AttributeValue::S(truck.as_str().to_owned()))
        }
        None => update.update_expression(format!("{set} REMOVE transporterId").trim_start().to_owned()),
    }
}

fn text(item: &Item, name: &str) -> Option<String> {
    item.get(name).and_then(|v| v.as_s().ok()).cloned()
}

fn malformed(what: &str) -> StoreError {
    StoreError::new(false, anyhow::anyhow!("live-connections: malformed {what}"))
}

#[async_trait]
impl LiveStore for DynamoStore {
    async fn put_connection(&self, connection: &LiveConnection) -> Result<(), StoreError> {
        let (user_id, role, share_id, booking_id) = match &connection.watcher {
            Watcher::User(caller) => (Some(caller.user_id.clone()), Some(caller.role), None, None),
            Watcher::Viewer { share, booking } => (None, None, Some(*share), Some(*booking)),
        };
        let item = ConnectionItem {
            connection_id: connection.id.as_str().to_owned(),
            sk: CONNECTION_SK.to_owned(),
            user_id,
            role,
            share_id,
            booking_id,
            expires_at: connection.expires_at.timestamp(),
        };
        let table = &self.tables.live_connections;
        self.client.put_item().table_name(table).set_item(Some(to_item(&item)?)).send().await.map_err(classify)?;
        Ok(())
    }

    async fn get_connection(&self, id: &ConnectionId) -> Result<Option<LiveConnection>, StoreError> {
        let key = connection_key(id, CONNECTION_SK.to_owned());
        let Some(item) = self.get::<ConnectionItem>(&self.tables.live_connections, key).await? else { return Ok(None) };
        let watcher = match (item.user_id, item.role, item.share_id, item.booking_id) {
            (Some(user_id), Some(role), _, _) => Watcher::User(Caller { user_id, role }),
            (None, None, Some(share), Some(booking)) => Watcher::Viewer { share, booking },
            _ => return Err(malformed("connection")),
        };
        let expires_at = DateTime::from_timestamp(item.expires_at, 0).ok_or_else(|| malformed("expiry"))?;
        Ok(Some(LiveConnection { id: id.clone(), watcher, expires_at }))
    }

    async fn watch(
        &self, connection: &LiveConnection, trip: &TripRef, transporter: Option<&UserId>,
    ) -> Result<(), StoreError> {
        let update = watch_update(self, &connection.id, trip)
            .expression_attribute_values(":trip", AttributeValue::S(trip.to_string()))
            .expression_attribute_values(":expires", AttributeValue::N(connection.expires_at.timestamp().to_string()));
        with_truck(update, "SET trip = :trip, expiresAt = :expires", transporter).send().await.map_err(classify)?;
        Ok(())
    }

    async fn unwatch(&self, connection: &ConnectionId, trip: &TripRef) -> Result<(), StoreError> {
        let key = connection_key(connection, watch_sk(trip));
        let table = &self.tables.live_connections;
        self.delete_at(table, key).send().await.map_err(classify)?;
        Ok(())
    }

    async fn forget_connection(&self, connection: &ConnectionId) -> Result<(), StoreError> {
        let query = self
            .query_on(&self.tables.live_connections, None, "connectionId", connection.as_str().to_owned())
            .projection_expression("connectionId, sk")
            .consistent_read(true);
        let deletes = query_all(query)
            .await?
            .into_iter()
            .map(|key| {
                let delete = DeleteRequest::builder().set_key(Some(key)).build().map_err(internal)?;
                Ok(WriteRequest::builder().delete_request(delete).build())
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        self.batch_write(&self.tables.live_connections, deletes).await
    }

    async fn watchers_of_trip(&self, trip: &TripRef) -> Result<Vec<ConnectionId>, StoreError> {
        let query = self.query_on(&self.tables.live_connections, Some(BY_TRIP), "trip", trip.to_string());
        let items = query_all(query).await?;
        items
            .iter()
            .map(|item| {
                let id = text(item, "connectionId").ok_or_else(|| malformed("watch"))?;
                ConnectionId::parse(&id).map_err(|_| malformed("connection id"))
            })
            .collect()
    }

    async fn watchers_of_transporter(&self, transporter: &UserId) -> Result<Vec<Watch>, StoreError> {
        let query = self.query_on(
            &self.tables.live_connections,
            Some(BY_TRANSPORTER),
            "transporterId",
            transporter.as_str().to_owned(),
        );
        let items = query_all(query).await?;
        items
            .iter()
            .map(|item| {
                let connection = text(item, "connectionId").and_then(|id| ConnectionId::parse(&id).ok());
                let trip = text(item, "trip").and_then(|trip| TripRef::parse(&trip));
                let last_sent_ms = item.get("lastSentMs").and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok());
                match (connection, trip) {
                    (Some(connection), Some(trip)) => Ok(Watch { connection, trip, last_sent_ms }),
                    _ => Err(malformed("watch")),
                }
            })
            .collect()
    }

    async fn assign_watch(
        &self, connection: &ConnectionId, trip: &TripRef, transporter: Option<&UserId>,
    ) -> Result<(), StoreError> {
        let update = watch_update(self, connection, trip).condition_expression("attribute_exists(connectionId)");
        conditional(with_truck(update, "", transporter).send().await).map(|_| ())
    }

    async fn mark_sent(&self, connection: &ConnectionId, trip: &TripRef, recorded_ms: i64) -> Result<(), StoreError> {
        let result = watch_update(self, connection, trip)
            .update_expression("SET lastSentMs = :ms")
            .condition_expression(
                "attribute_exists(connectionId) AND (attribute_not_exists(lastSentMs) OR lastSentMs < :ms)",
            )
            .expression_attribute_values(":ms", AttributeValue::N(recorded_ms.to_string()))
            .send()
            .await;
        conditional(result).map(|_| ())
    }
}

#[async_trait]
impl ShareStore for DynamoStore {
    async fn put_share(&self, share: &ShareLink) -> Result<(), StoreError> {
        let item = ShareItem {
            share_id: share.share_id,
            booking_id: share.booking_id,
            customer_id: share.customer_id.clone(),
            created_at: share.created_at,
            expires_at_ms: share.expires_at.timestamp_millis(),
            expires_at: share.expires_at.timestamp(),
        };
        let table = &self.tables.shares;
        self.client.put_item().table_name(table).set_item(Some(to_item(&item)?)).send().await.map_err(classify)?;
        Ok(())
    }

    async fn get_share(&self, id: &ShareId) -> Result<Option<ShareLink>, StoreError> {
        let Some(item) = self.get::<ShareItem>(&self.tables.shares, key("shareId", id.to_string())).await? else {
            return Ok(None);
        };
        let expires_at =
            DateTime::from_timestamp_millis(item.expires_at_ms).ok_or_else(|| malformed("share expiry"))?;
        Ok(Some(ShareLink {
            share_id: item.share_id,
            booking_id: item.booking_id,
            customer_id: item.customer_id,
            created_at: item.created_at,
            expires_at,
        }))
    }

    async fn delete_share(&self, id: &ShareId) -> Result<(), StoreError> {
        let table = &self.tables.shares;
        let key = key("shareId", id.to_string());
        self.delete_at(table, key).send().await.map_err(classify)?;
        Ok(())
    }
}
