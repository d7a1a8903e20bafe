//! [`DynamoStore`]: the storage ports over the AWS SDK DynamoDB client.

use crate::items::*;
use crate::{
    GEO_ENTRY_TTL_SECS, HISTORY_TTL_SECS, IDEMPOTENCY_TTL_SECS, OFFER_TTL_SECS, OUTBOX_PENDING_SHARDS,
    PUSH_LOG_TTL_SECS, Tables,
};
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, KeysAndAttributes, Put, PutRequest, ReturnValue, TransactWriteItem, WriteRequest,
};
use chrono::{DateTime, Utc};
use futures::{StreamExt, TryStreamExt, stream};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use weelo_core::booking::{Booking, BookingStatus};
use weelo_core::device::Device;
use weelo_core::events::EventRecord;
use weelo_core::events::LocationUpdated;
use weelo_core::ids::{BookingId, DeviceId, EventId, OrderId, UserId};
use weelo_core::location::Position;
use weelo_core::order::{Order, OrderStatus, OrderView, TruckRequest, TruckRequestStatus};
use weelo_core::ports::*;
use weelo_core::transporter::TransporterProfile;

type Item = HashMap<String, AttributeValue>;

/// Requests in flight per call (single-item writes, cell queries, profile batches); well under the
/// SDK's connection pool.
const REQUEST_CONCURRENCY: usize = 16;

/// `BatchGetItem` takes at most 100 keys.
const BATCH_GET_KEYS: usize = 100;

/// All of Weelo's tables behind one client (built once per cold start and cloned freely).
#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: Client,
    tables: Tables,
}

impl DynamoStore {
    pub fn new(client: Client, tables: Tables) -> Self {
        Self { client, tables }
    }

    /// One `BatchGetItem` of at most [`BATCH_GET_KEYS`] profiles, retrying unprocessed keys.
    async fn get_profile_batch(&self, transporters: &[UserId]) -> Result<Vec<TransporterProfile>, StoreError> {
        let mut profiles = Vec::with_capacity(transporters.len());
        let keys: Vec<Item> = transporters.iter().map(|t| key("transporterId", t.to_string())).collect();
        let mut pending = Some(KeysAndAttributes::builder().set_keys(Some(keys)).build().map_err(internal)?);
        let mut attempt = 0u32;
        while let Some(request) = pending.take() {
            let output = self
                .client
                .batch_get_item()
                .request_items(&self.tables.transporters, request)
                .send()
                .await
                .map_err(classify)?;
            for item in output.responses.and_then(|mut r| r.remove(&self.tables.transporters)).unwrap_or_default() {
                profiles.push(from_item(item)?);
            }
            pending = output.unprocessed_keys.and_then(|mut u| u.remove(&self.tables.transporters));
            if pending.is_some() {
                attempt += 1;
                if attempt > 8 {
                    return Err(StoreError::new(
                        true,
                        anyhow::anyhow!("profiles left unread after {attempt} attempts"),
                    ));
                }
                backoff(attempt).await;
            }
        }
        Ok(profiles)
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn tables(&self) -> &Tables {
        &self.tables
    }

    fn outbox_puts(&self, events: &[EventRecord], now_ms: i64) -> Result<Vec<TransactWriteItem>, StoreError> {
        events
            .iter()
            .map(|event| {
                let put = Put::builder()
                    .table_name(&self.tables.outbox)
                    .set_item(Some(to_item(&OutboxItem::pending(event, now_ms))?))
                    .condition_expression("attribute_not_exists(eventId)")
                    .build()
                    .map_err(internal)?;
                Ok(TransactWriteItem::builder().put(put).build())
            })
            .collect()
    }

    fn idempotency_put(&self, record: &IdempotencyRecord) -> Result<TransactWriteItem, StoreError> {
        let item = IdempotencyItem {
            scoped_key: record.scoped_key.clone(),
            request_hash: record.request_hash.clone(),
            receipt: record.receipt.clone(),
            created_at: record.created_at,
            expires_at: record.created_at.timestamp() + IDEMPOTENCY_TTL_SECS,
        };
        // An expired record is free to take: TTL deletes it days late, and the key must not stay
        // taken (or answer an old receipt) in between. `get_idempotency` draws the same line.
        let put = Put::builder()
            .table_name(&self.tables.idempotency)
            .set_item(Some(to_item(&item)?))
            .condition_expression("attribute_not_exists(scopedKey) OR expiresAt <= :createdAt")
            .expression_attribute_values(":createdAt", AttributeValue::N(record.created_at.timestamp().to_string()))
            .build()
            .map_err(internal)?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// Creates an aggregate item with its events and idempotency record, all or nothing.
    async fn create(
        &self,
        table: &str,
        key_attribute: &str,
        item: Item,
        events: &[EventRecord],
        idempotency: Option<&IdempotencyRecord>,
    ) -> Result<(), CreateError> {
        let now_ms = Utc::now().timestamp_millis();
        let entity = Put::builder()
            .table_name(table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#key)")
            .expression_attribute_names("#key", key_attribute)
            .build()
            .map_err(internal)?;
        let mut writes = vec![TransactWriteItem::builder().put(entity).build()];
        writes.extend(self.outbox_puts(events, now_ms)?);
        if let Some(record) = idempotency {
            writes.push(self.idempotency_put(record)?);
        }
        let idempotency_index = writes.len() - 1;
        match self.client.transact_write_items().set_transact_items(Some(writes)).send().await {
            Ok(_) => Ok(()),
            Err(error) => match canceled_reasons(&error) {
                // With a key, the only condition that can fail is the key's (the entity id is fresh).
                Some(reasons) if idempotency.is_some() && failed_at(&reasons, idempotency_index).unwrap_or(true) => {
                    Err(CreateError::IdempotencyKeyTaken)
                }
                _ => Err(CreateError::Store(classify(error))),
            },
        }
    }

    /// Replaces an aggregate item if its `status` still is `expected`, with its events.
    async fn transition(
        &self,
        table: &str,
        item: Item,
        expected: &str,
        events: &[EventRecord],
    ) -> Result<(), TransitionError> {
        let now_ms = Utc::now().timestamp_millis();
        let entity = Put::builder()
            .table_name(table)
            .set_item(Some(item))
            .condition_expression("#status = :expected")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":expected", AttributeValue::S(expected.to_owned()))
            .build()
            .map_err(internal)?;
        let mut writes = vec![TransactWriteItem::builder().put(entity).build()];
        writes.extend(self.outbox_puts(events, now_ms)?);
        match self.client.transact_write_items().set_transact_items(Some(writes)).send().await {
            Ok(_) => Ok(()),
            Err(error) => match canceled_reasons(&error) {
                Some(reasons) if failed_at(&reasons, 0).unwrap_or(true) => Err(TransitionError::Conflict),
                _ => Err(TransitionError::Store(classify(error))),
            },
        }
    }

    async fn get<T: DeserializeOwned>(&self, table: &str, key: Item) -> Result<Option<T>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        output.item.map(from_item).transpose()
    }

    /// Writes items in `BatchWriteItem` calls of 25, retrying what DynamoDB leaves unprocessed.
    async fn batch_put(&self, table: &str, items: Vec<Item>) -> Result<(), StoreError> {
        for chunk in items.chunks(25) {
            let mut requests: Vec<WriteRequest> = chunk
                .iter()
                .map(|item| {
                    Ok(WriteRequest::builder()
                        .put_request(PutRequest::builder().set_item(Some(item.clone())).build().map_err(internal)?)
                        .build())
                })
                .collect::<Result<_, StoreError>>()?;
            let mut attempt = 0u32;
            while !requests.is_empty() {
                let output =
                    self.client.batch_write_item().request_items(table, requests).send().await.map_err(classify)?;
                requests = output.unprocessed_items.and_then(|mut u| u.remove(table)).unwrap_or_default();
                if !requests.is_empty() {
                    attempt += 1;
                    if attempt > 8 {
                        let error = anyhow::anyhow!("{table}: items left unprocessed after {attempt} attempts");
                        return Err(StoreError::new(true, error));
                    }
                    backoff(attempt).await;
                }
            }
        }
        Ok(())
    }

    /// Claims `push_key` for `claim_id`: true if the key was free, is already this claim's, or is
    /// held by a claim whose push was never confirmed (its delivery ended before it could).
    ///
    /// PutItem takes no idempotency token, and the SDK retries an attempt that timed out, which may
    /// have been written: without the claim's own id in the condition, that retry would find the
    /// key taken (by itself) and the push would never be sent.
    pub async fn claim_push_as(&self, push_key: &str, claim_id: &str) -> Result<bool, StoreError> {
        let now = Utc::now();
        let item = PushLogItem {
            push_key: push_key.to_owned(),
            claim_id: claim_id.to_owned(),
            state: PUSH_PENDING.to_owned(),
            claimed_at: now.to_rfc3339(),
            expires_at: now.timestamp() + PUSH_LOG_TTL_SECS,
        };
        let result = self
            .client
            .put_item()
            .table_name(&self.tables.push_log)
            .set_item(Some(to_item(&item)?))
            .condition_expression("attribute_not_exists(pushKey) OR claimId = :claim OR #state = :pending")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":claim", AttributeValue::S(claim_id.to_owned()))
            .expression_attribute_values(":pending", AttributeValue::S(PUSH_PENDING.to_owned()))
            .send()
            .await;
        conditional(result)
    }

    /// Marks the claim of `push_key` sent, if `claim_id` still holds it.
    pub async fn confirm_push_as(&self, push_key: &str, claim_id: &str) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.tables.push_log)
            .set_key(Some(key("pushKey", push_key.to_owned())))
            .update_expression("SET #state = :sent")
            .condition_expression("claimId = :claim")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":sent", AttributeValue::S(PUSH_SENT.to_owned()))
            .expression_attribute_values(":claim", AttributeValue::S(claim_id.to_owned()))
            .send()
            .await;
        conditional(result)
    }

    /// Deletes the claim of `push_key` if `claim_id` holds it.
    async fn forget_claim(&self, push_key: &str, claim_id: &str) -> Result<bool, StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.tables.push_log)
            .set_key(Some(key("pushKey", push_key.to_owned())))
            .condition_expression("claimId = :claim")
            .expression_attribute_values(":claim", AttributeValue::S(claim_id.to_owned()))
            .send()
            .await;
        conditional(result)
    }

    /// Puts items that must not replace existing ones; an existing item counts as success.
    async fn put_all_if_absent(&self, table: &str, key_attribute: &str, items: Vec<Item>) -> Result<(), StoreError> {
        stream::iter(items)
            .map(|item| async move {
                let result = self
                    .client
                    .put_item()
                    .table_name(table)
                    .set_item(Some(item))
                    .condition_expression("attribute_not_exists(#key)")
                    .expression_attribute_names("#key", key_attribute)
                    .send()
                    .await;
                // Already there: this write was done before.
                conditional(result).map(|_| ())
            })
            .buffer_unordered(REQUEST_CONCURRENCY)
            .try_collect()
            .await
    }
}

#[async_trait]
impl BookingStore for DynamoStore {
    async fn create_booking(
        &self,
        booking: &Booking,
        events: &[EventRecord],
        idempotency: Option<&IdempotencyRecord>,
    ) -> Result<(), CreateError> {
        self.create(&self.tables.bookings, "bookingId", to_item(booking)?, events, idempotency).await
    }

    async fn get_booking(&self, id: BookingId) -> Result<Option<Booking>, StoreError> {
        self.get(&self.tables.bookings, key("bookingId", id.to_string())).await
    }

    async fn transition_booking(
        &self,
        booking: &Booking,
        expected: BookingStatus,
        events: &[EventRecord],
    ) -> Result<(), TransitionError> {
        self.transition(&self.tables.bookings, to_item(booking)?, expected.as_str(), events).await
    }
}

#[async_trait]
impl OrderStore for DynamoStore {
    async fn create_order(
        &self,
        order: &Order,
        events: &[EventRecord],
        idempotency: Option<&IdempotencyRecord>,
    ) -> Result<(), CreateError> {
        let item = to_item(&OrderItem { item_id: ORDER_ITEM_ID.to_owned(), order: order.clone() })?;
        self.create(&self.tables.orders, "orderId", item, events, idempotency).await
    }

    async fn get_order(&self, id: OrderId) -> Result<Option<OrderView>, StoreError> {
        let mut order = None;
        let mut truck_requests = Vec::new();
        let mut pages = self
            .client
            .query()
            .table_name(&self.tables.orders)
            .key_condition_expression("orderId = :id")
            .expression_attribute_values(":id", AttributeValue::S(order_key(id)))
            .consistent_read(true)
            .into_paginator()
            .items()
            .send();
        while let Some(item) = pages.next().await {
            let item = item.map_err(classify)?;
            match item.get("itemId").and_then(|v| v.as_s().ok()) {
                Some(item_id) if item_id == ORDER_ITEM_ID => order = Some(from_item::<OrderItem>(item)?.order),
                Some(item_id) if item_id.starts_with(TRUCK_REQUEST_PREFIX) => {
                    truck_requests.push(from_item::<TruckRequestItem>(item)?.request)
                }
                _ => {}
            }
        }
        Ok(order.map(|order| OrderView { order, truck_requests }))
    }

    async fn set_order_status(
        &self,
        id: OrderId,
        expected: OrderStatus,
        status: OrderStatus,
    ) -> Result<bool, StoreError> {
        let text = |s: OrderStatus| {
            serde_json::to_value(s).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
        };
        let mut order_key = key("orderId", order_key(id));
        order_key.insert("itemId".into(), AttributeValue::S(ORDER_ITEM_ID.to_owned()));
        let result = self
            .client
            .update_item()
            .table_name(&self.tables.orders)
            .set_key(Some(order_key))
            .update_expression("SET #status = :status")
            .condition_expression("#status = :expected")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":status", AttributeValue::S(text(status)))
            .expression_attribute_values(":expected", AttributeValue::S(text(expected)))
            .send()
            .await;
        conditional(result)
    }

    async fn put_truck_requests(&self, requests: &[TruckRequest]) -> Result<(), StoreError> {
        let items = requests
            .iter()
            .map(|r| {
                to_item(&TruckRequestItem { item_id: truck_request_item_id(r.truck_request_id), request: r.clone() })
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.put_all_if_absent(&self.tables.orders, "itemId", items).await
    }

    async fn transition_truck_request(
        &self,
        request: &TruckRequest,
        expected: TruckRequestStatus,
        events: &[EventRecord],
    ) -> Result<(), TransitionError> {
        let item = to_item(&TruckRequestItem {
            item_id: truck_request_item_id(request.truck_request_id),
            request: request.clone(),
        })?;
        let expected = serde_json::to_value(expected).map_err(internal)?;
        self.transition(&self.tables.orders, item, expected.as_str().unwrap_or_default(), events).await
    }
}

#[async_trait]
impl OfferStore for DynamoStore {
    async fn is_offered(&self, subject: OfferSubject, transporter: &UserId) -> Result<bool, StoreError> {
        let mut key = key("subject", offer_subject_key(subject));
        key.insert("transporterId".into(), AttributeValue::S(transporter.to_string()));
        let output = self
            .client
            .get_item()
            .table_name(&self.tables.offers)
            .set_key(Some(key))
            .projection_expression("subject")
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        Ok(output.item.is_some())
    }

    async fn put_offers(
        &self,
        subject: OfferSubject,
        transporters: &[UserId],
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let subject = offer_subject_key(subject);
        let items = transporters
            .iter()
            .map(|t| {
                to_item(&OfferItem {
                    subject: subject.clone(),
                    transporter_id: t.to_string(),
                    offered_at: at.to_rfc3339(),
                    expires_at: at.timestamp() + OFFER_TTL_SECS,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        // Rewriting an identical offer is harmless, so batches beat conditional puts here.
        self.batch_put(&self.tables.offers, items).await
    }

    async fn offered_to(&self, subject: OfferSubject) -> Result<Vec<UserId>, StoreError> {
        let mut pages = self
            .client
            .query()
            .table_name(&self.tables.offers)
            .key_condition_expression("subject = :subject")
            .expression_attribute_values(":subject", AttributeValue::S(offer_subject_key(subject)))
            .projection_expression("transporterId")
            .into_paginator()
            .items()
            .send();
        let mut transporters = Vec::new();
        while let Some(item) = pages.next().await {
            let item = item.map_err(classify)?;
            if let Some(id) = item.get("transporterId").and_then(|v| v.as_s().ok()).and_then(|s| UserId::parse(s).ok())
            {
                transporters.push(id);
            }
        }
        Ok(transporters)
    }
}

#[async_trait]
impl IdempotencyStore for DynamoStore {
    async fn get_idempotency(
        &self,
        scoped_key: &str,
        valid_at: DateTime<Utc>,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        let item: Option<IdempotencyItem> =
            self.get(&self.tables.idempotency, key("scopedKey", scoped_key.to_owned())).await?;
        // TTL deletion lags by up to days; an expired key is forgotten here already.
        Ok(item.filter(|i| i.expires_at > valid_at.timestamp()).map(Into::into))
    }
}

#[async_trait]
impl TransporterStore for DynamoStore {
    async fn put_profile(&self, profile: &TransporterProfile) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.tables.transporters)
            .set_item(Some(to_item(profile)?))
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    async fn get_profile(&self, transporter: &UserId) -> Result<Option<TransporterProfile>, StoreError> {
        self.get(&self.tables.transporters, key("transporterId", transporter.to_string())).await
    }

    async fn latest_position(&self, transporter: &UserId) -> Result<Option<Position>, StoreError> {
        let item: Option<PositionItem> =
            self.get(&self.tables.positions, key("transporterId", transporter.to_string())).await?;
        Ok(item.map(|i| i.position))
    }

    async fn get_profiles(&self, transporters: &[UserId]) -> Result<Vec<TransporterProfile>, StoreError> {
        // The keys spread over many partitions, so the batches of a large match go out together.
        let requests: Vec<_> = transporters.chunks(BATCH_GET_KEYS).map(|chunk| self.get_profile_batch(chunk)).collect();
        let batches: Vec<Vec<TransporterProfile>> =
            stream::iter(requests).buffer_unordered(REQUEST_CONCURRENCY).try_collect().await?;
        Ok(batches.into_iter().flatten().collect())
    }

    async fn record_position(&self, position: &Position, _cell: &str) -> Result<PositionWrite, StoreError> {
        let recorded_at_ms = position.point.recorded_at.timestamp_millis();
        let item =
            to_item(&PositionItem { position: position.clone(), recorded_at_ms, cell: None, indexed_at_ms: None })?;
        // An update, not a put: the index attributes (`cell`, `indexedAtMs`) belong to move_in_index
        // and must survive a new position.
        let mut update = self
            .client
            .update_item()
            .table_name(&self.tables.positions)
            .key("transporterId", AttributeValue::S(position.transporter_id.to_string()))
            .condition_expression("attribute_not_exists(transporterId) OR recordedAtMs < :new")
            .expression_attribute_values(":new", AttributeValue::N(recorded_at_ms.to_string()))
            .return_values(ReturnValue::AllOld);
        let mut assignments = Vec::new();
        for (n, (name, value)) in item.into_iter().filter(|(name, _)| name != "transporterId").enumerate() {
            assignments.push(format!("#f{n} = :f{n}"));
            update = update
                .expression_attribute_names(format!("#f{n}"), name)
                .expression_attribute_values(format!(":f{n}"), value);
        }
        let result = update.update_expression(format!("SET {}", assignments.join(", "))).send().await;
        match result {
            Ok(output) => {
                let old = output.attributes.unwrap_or_default();
                let indexed_cell = old.get("cell").and_then(|c| c.as_s().ok().cloned());
                let indexed_at = old
                    .get("indexedAtMs")
                    .and_then(|ms| ms.as_n().ok()?.parse::<i64>().ok())
                    .and_then(chrono::DateTime::from_timestamp_millis);
                Ok(PositionWrite::Written { indexed_cell, indexed_at })
            }
            // Only a failed condition (a newer point is stored) comes back as Ok here.
            Err(error) => conditional(Err::<(), _>(error)).map(|_| PositionWrite::Stale),
        }
    }
}

#[async_trait]
impl DeviceStore for DynamoStore {
    async fn get_device(&self, owner: &UserId, id: DeviceId) -> Result<Option<Device>, StoreError> {
        let mut key = key("userId", owner.to_string());
        key.insert("deviceId".into(), AttributeValue::S(id.to_string()));
        self.get(&self.tables.devices, key).await
    }

    async fn put_device_if_absent(&self, device: &Device) -> Result<bool, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.tables.devices)
            .set_item(Some(to_item(device)?))
            .condition_expression("attribute_not_exists(deviceId)")
            .send()
            .await;
        conditional(result)
    }

    async fn list_devices(&self, owner: &UserId) -> Result<Vec<Device>, StoreError> {
        let mut pages = self
            .client
            .query()
            .table_name(&self.tables.devices)
            .key_condition_expression("userId = :owner")
            .expression_attribute_values(":owner", AttributeValue::S(owner.to_string()))
            .consistent_read(true)
            .into_paginator()
            .items()
            .send();
        let mut devices = Vec::new();
        while let Some(item) = pages.next().await {
            devices.push(from_item(item.map_err(classify)?)?);
        }
        Ok(devices)
    }

    async fn delete_device(&self, owner: &UserId, id: DeviceId) -> Result<(), StoreError> {
        let mut device_key = key("userId", owner.to_string());
        device_key.insert("deviceId".into(), AttributeValue::S(id.to_string()));
        self.client
            .delete_item()
            .table_name(&self.tables.devices)
            .set_key(Some(device_key))
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }
}

#[async_trait]
impl GeoIndexStore for DynamoStore {
    async fn transporters_in_cells(&self, cells: &[String]) -> Result<Vec<CellEntry>, StoreError> {
        let per_cell: Vec<Vec<CellEntry>> = stream::iter(cells.iter().cloned())
            .map(|cell: String| async move {
                let mut pages = self
                    .client
                    .query()
                    .table_name(&self.tables.geo_cells)
                    .key_condition_expression("cell = :cell")
                    .expression_attribute_values(":cell", AttributeValue::S(cell))
                    .into_paginator()
                    .items()
                    .send();
                let mut entries = Vec::new();
                while let Some(item) = pages.next().await {
                    let item: CellItem = from_item(item.map_err(classify)?)?;
                    let (Ok(transporter_id), Some(recorded_at)) =
                        (UserId::parse(&item.transporter_id), DateTime::from_timestamp_millis(item.recorded_at_ms))
                    else {
                        continue;
                    };
                    entries.push(CellEntry { transporter_id, lat: item.lat, lng: item.lng, recorded_at });
                }
                Ok::<_, StoreError>(entries)
            })
            .buffer_unordered(REQUEST_CONCURRENCY)
            .try_collect()
            .await?;
        Ok(per_cell.into_iter().flatten().collect())
    }

    async fn move_in_index(&self, entry: &CellEntry, from: Option<&str>, to: &str) -> Result<(), StoreError> {
        let recorded_at_ms = entry.recorded_at.timestamp_millis();
        let item = CellItem {
            cell: to.to_owned(),
            transporter_id: entry.transporter_id.to_string(),
            lat: entry.lat,
            lng: entry.lng,
            recorded_at_ms,
            expires_at: recorded_at_ms / 1000 + GEO_ENTRY_TTL_SECS,
        };
        self.client
            .put_item()
            .table_name(&self.tables.geo_cells)
            .set_item(Some(to_item(&item)?))
            .send()
            .await
            .map_err(classify)?;
        if let Some(old) = from.filter(|old| *old != to) {
            let mut old_key = key("cell", old.to_owned());
            old_key.insert("transporterId".into(), AttributeValue::S(entry.transporter_id.to_string()));
            self.client
                .delete_item()
                .table_name(&self.tables.geo_cells)
                .set_key(Some(old_key))
                .send()
                .await
                .map_err(classify)?;
        }
        // Last, so a failure above leaves the position saying "not indexed here yet" and the next
        // point redoes the move. The condition keeps a late, older batch from winding it back.
        let marked = self
            .client
            .update_item()
            .table_name(&self.tables.positions)
            .key("transporterId", AttributeValue::S(entry.transporter_id.to_string()))
            .update_expression("SET #cell = :cell, indexedAtMs = :at")
            .condition_expression(
                "attribute_exists(transporterId) AND (attribute_not_exists(indexedAtMs) OR indexedAtMs < :at)",
            )
            .expression_attribute_names("#cell", "cell")
            .expression_attribute_values(":cell", AttributeValue::S(to.to_owned()))
            .expression_attribute_values(":at", AttributeValue::N(recorded_at_ms.to_string()))
            .send()
            .await;
        conditional(marked).map(|_| ())
    }
}

#[async_trait]
impl LocationHistoryStore for DynamoStore {
    async fn append_points(&self, points: &[(EventId, LocationUpdated)]) -> Result<(), StoreError> {
        let items = points
            .iter()
            .map(|(id, update)| {
                let at = update.point.recorded_at;
                to_item(&HistoryItem {
                    transporter_id: update.transporter_id.to_string(),
                    point_key: format!("{:013}#{id}", at.timestamp_millis()),
                    point: update.point.clone(),
                    expires_at: at.timestamp() + HISTORY_TTL_SECS,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.batch_put(&self.tables.location_history, items).await
    }
}

#[async_trait]
impl PushLog for DynamoStore {
    async fn claim_push(&self, push_key: &str) -> Result<Option<PushClaim>, StoreError> {
        let claim = PushClaim { key: push_key.to_owned(), claim_id: uuid::Uuid::new_v4().to_string() };
        match self.claim_push_as(push_key, &claim.claim_id).await {
            Ok(claimed) => Ok(claimed.then_some(claim)),
            Err(error) => {
                // Every attempt failed, yet one may have been written: undo it (only if it is this
                // claim), or the redelivered record would find the push claimed and never send it.
                let _ = self.forget_claim(push_key, &claim.claim_id).await;
                Err(error)
            }
        }
    }

    async fn confirm_push(&self, claim: &PushClaim) -> Result<(), StoreError> {
        // Taken over meanwhile (this delivery was thought dead): the other one confirms it.
        self.confirm_push_as(&claim.key, &claim.claim_id).await.map(|_| ())
    }

    async fn release_push(&self, claim: &PushClaim) -> Result<(), StoreError> {
        self.forget_claim(&claim.key, &claim.claim_id).await.map(|_| ())
    }
}

#[async_trait]
impl Outbox for DynamoStore {
    async fn mark_sent(&self, ids: &[EventId]) -> Result<(), StoreError> {
        let now = Utc::now().to_rfc3339();
        stream::iter(ids.iter().copied())
            .map(|id| {
                let now = now.clone();
                async move {
                    let result = self
                        .client
                        .update_item()
                        .table_name(&self.tables.outbox)
                        .set_key(Some(key("eventId", id.to_string())))
                        .update_expression("REMOVE pendingShard SET sentAt = :now")
                        .condition_expression("attribute_exists(eventId)")
                        .expression_attribute_values(":now", AttributeValue::S(now))
                        .send()
                        .await;
                    // Gone already (expired by TTL): nothing left to mark.
                    conditional(result).map(|_| ())
                }
            })
            .buffer_unordered(REQUEST_CONCURRENCY)
            .try_collect()
            .await
    }

    async fn pending(&self, created_before: DateTime<Utc>, limit: usize) -> Result<Vec<EventRecord>, StoreError> {
        let limit_i32 = i32::try_from(limit.max(1)).unwrap_or(i32::MAX);
        let shards = (0..OUTBOX_PENDING_SHARDS).map(|shard| async move {
            self.client
                .query()
                .table_name(&self.tables.outbox)
                .index_name("pending")
                .key_condition_expression("pendingShard = :shard AND createdAtMs < :cutoff")
                .expression_attribute_values(":shard", AttributeValue::S(shard.to_string()))
                .expression_attribute_values(
                    ":cutoff",
                    AttributeValue::N(created_before.timestamp_millis().to_string()),
                )
                .limit(limit_i32)
                .send()
                .await
                .map_err(classify)
        });
        let mut items: Vec<OutboxItem> = Vec::new();
        for output in futures::future::try_join_all(shards).await? {
            for item in output.items.unwrap_or_default() {
                items.push(from_item(item)?);
            }
        }
        items.sort_by_key(|i| i.created_at_ms);
        items.truncate(limit);
        Ok(items.into_iter().map(OutboxItem::into_record).collect())
    }
}

fn key(name: &str, value: String) -> Item {
    HashMap::from([(name.to_owned(), AttributeValue::S(value))])
}

fn to_item<T: Serialize>(value: &T) -> Result<Item, StoreError> {
    serde_dynamo::to_item(value).map_err(internal)
}

fn from_item<T: DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    serde_dynamo::from_item(item).map_err(internal)
}

fn internal(error: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::new(false, error)
}

/// Throttling, server faults and transport failures are worth retrying; the rest are not.
fn classify<E, R>(error: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let retryable = match &error {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => true,
        SdkError::ServiceError(service) => matches!(
            service.err().code(),
            Some(
                "ProvisionedThroughputExceededException"
                    | "ThrottlingException"
                    | "RequestLimitExceeded"
                    | "InternalServerError"
                    | "ServiceUnavailable"
                    | "TransactionConflictException"
            )
        ),
        _ => false,
    };
    StoreError::new(retryable, error)
}

/// `Ok(true)` if a conditional write happened, `Ok(false)` if its condition did not hold (the
/// item already existed, was newer, or was gone): callers decide whether that is success.
fn conditional<O, E, R>(result: Result<O, SdkError<E, R>>) -> Result<bool, StoreError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match result {
        Ok(_) => Ok(true),
        Err(error) if error.as_service_error().and_then(|e| e.code()) == Some("ConditionalCheckFailedException") => {
            Ok(false)
        }
        Err(error) => Err(classify(error)),
    }
}

/// The per-item cancellation codes of a cancelled transaction (empty if the service sent none).
fn canceled_reasons<R>(error: &SdkError<TransactWriteItemsError, R>) -> Option<Vec<Option<String>>> {
    match error.as_service_error()? {
        TransactWriteItemsError::TransactionCanceledException(e) => {
            Some(e.cancellation_reasons().iter().map(|r| r.code().map(str::to_owned)).collect())
        }
        _ => None,
    }
}

/// Whether the write at `index` failed its condition; `None` when the service gave no reasons.
fn failed_at(reasons: &[Option<String>], index: usize) -> Option<bool> {
    if reasons.is_empty() {
        return None;
    }
    Some(reasons.get(index).and_then(|r| r.as_deref()) == Some("ConditionalCheckFailed"))
}

async fn backoff(attempt: u32) {
    let millis = 25u64 << attempt.min(6);
    tokio::time::sleep(std::time::Duration::from_millis(millis)).await;
}
