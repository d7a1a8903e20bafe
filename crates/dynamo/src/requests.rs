//! The requests every port module makes, in one place: single-item and batch reads, every page of a query,
//! writes at most [`REQUEST_CONCURRENCY`] at a time, batch writes retried until DynamoDB processed
//! them, conditional writes, and the two transactions that write an aggregate together with its
//! events (and idempotency record): create and transition. Also how SDK errors become
//! [`StoreError`]s, retryable or not.

use crate::items::{IdempotencyItem, OutboxItem};
use crate::{DynamoStore, IDEMPOTENCY_TTL_SECS};
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::delete_item::builders::DeleteItemFluentBuilder;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, Put, PutRequest, TransactWriteItem, WriteRequest};
use chrono::Utc;
use futures::{StreamExt, TryStreamExt, stream};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::future::Future;
use weelo_core::contract::events::EventRecord;
use weelo_core::ports::{CreateError, IdempotencyRecord, StoreError, TransitionError};

pub(crate) type Item = HashMap<String, AttributeValue>;

/// Requests in flight per call (single-item writes, cell queries, profile batches); well under the
/// SDK's connection pool.
pub(crate) const REQUEST_CONCURRENCY: usize = 16;

/// Runs `request` on each item, at most [`REQUEST_CONCURRENCY`] at once; the first error fails the call.
pub(crate) async fn concurrently<T, R, Fut>(
    items: impl IntoIterator<Item = T>, request: impl Fn(T) -> Fut,
) -> Result<Vec<R>, StoreError>
where
    Fut: Future<Output = Result<R, StoreError>>,
{
    stream::iter(items).map(request).buffer_unordered(REQUEST_CONCURRENCY).try_collect().await
}

/// Every item `query` matches, page after page.
pub(crate) async fn query_all(query: QueryFluentBuilder) -> Result<Vec<Item>, StoreError> {
    let mut pages = query.into_paginator().items().send();
    let mut items = Vec::new();
    while let Some(item) = pages.next().await {
        items.push(item.map_err(classify)?);
    }
    Ok(items)
}

impl DynamoStore {
    /// A query for the items of `table` (or of its index `index`) whose partition key `attribute`
    /// is the string `value`; the caller adds what else it needs.
    pub(crate) fn query_on(
        &self, table: &str, index: Option<&str>, attribute: &str, value: String,
    ) -> QueryFluentBuilder {
        self.client
            .query()
            .table_name(table)
            .set_index_name(index.map(str::to_owned))
            .key_condition_expression("#key = :key")
            .expression_attribute_names("#key", attribute)
            .expression_attribute_values(":key", AttributeValue::S(value))
    }

    /// An update of the item at `key` in `table`; the caller adds the expressions.
    pub(crate) fn update_at(&self, table: &str, key: Item) -> UpdateItemFluentBuilder {
        self.client.update_item().table_name(table).set_key(Some(key))
    }

    /// A delete of the item at `key` in `table`; the caller adds any condition.
    pub(crate) fn delete_at(&self, table: &str, key: Item) -> DeleteItemFluentBuilder {
        self.client.delete_item().table_name(table).set_key(Some(key))
    }

    pub(crate) fn outbox_puts(
        &self, events: &[EventRecord], now_ms: i64,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
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

    pub(crate) fn idempotency_put(&self, record: &IdempotencyRecord) -> Result<TransactWriteItem, StoreError> {
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
    pub(crate) async fn create(
        &self, table: &str, key_attribute: &str, item: Item, events: &[EventRecord],
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

    /// Replaces an aggregate item if it is still at the expected revision, with its events, the
    /// transporter's profile write and a condition on another item, all or nothing. A failed
    /// profile condition is [`TransitionError::TransporterUnavailable`]; a failed revision or
    /// check, [`TransitionError::Conflict`].
    pub(crate) async fn transition(&self, change: Transition<'_>) -> Result<(), TransitionError> {
        let now_ms = Utc::now().timestamp_millis();
        let Transition { table, item, key_attribute, expected, events, assignment, check } = change;
        let entity = if expected == 0 {
            // Items written before revisions existed count as revision 0.
            Put::builder()
                .condition_expression("attribute_exists(#key) AND (attribute_not_exists(#field) OR #field = :expected)")
                .expression_attribute_names("#key", key_attribute)
        } else {
            Put::builder().condition_expression("#field = :expected")
        };
        let entity = entity
            .expression_attribute_names("#field", "revision")
            .expression_attribute_values(":expected", AttributeValue::N(expected.to_string()))
            .table_name(table)
            .set_item(Some(item))
            .build()
            .map_err(internal)?;
        let mut writes = vec![TransactWriteItem::builder().put(entity).build()];
        let assignment_at = assignment.is_some().then_some(writes.len());
        writes.extend(assignment);
        writes.extend(check);
        writes.extend(self.outbox_puts(events, now_ms)?);
        match self.client.transact_write_items().set_transact_items(Some(writes)).send().await {
            Ok(_) => Ok(()),
            Err(error) => match canceled_reasons(&error) {
                Some(reasons) if assignment_at.is_some_and(|at| failed_at(&reasons, at) == Some(true)) => {
                    Err(TransitionError::TransporterUnavailable)
                }
                // A failed revision or check; no reasons given: as likely the revision as anything.
                Some(reasons)
                    if reasons.is_empty() || reasons.iter().any(|r| r.as_deref() == Some("ConditionalCheckFailed")) =>
                {
                    Err(TransitionError::Conflict)
                }
                _ => Err(TransitionError::Store(classify(error))),
            },
        }
    }

    pub(crate) async fn get<T: DeserializeOwned>(&self, table: &str, key: Item) -> Result<Option<T>, StoreError> {
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

    /// One `BatchGetItem` of at most 100 `keys` of `table` (only the `projection`'s attributes,
    /// when given), retrying the keys DynamoDB leaves unprocessed. Items come in any order.
    pub(crate) async fn batch_get(
        &self, table: &str, keys: Vec<Item>, projection: Option<&[&str]>,
    ) -> Result<Vec<Item>, StoreError> {
        let mut request = KeysAndAttributes::builder().set_keys(Some(keys));
        if let Some(attributes) = projection {
            // As `#a0, #a1, …`: some attribute names (`drop`) are reserved words.
            let names: Vec<String> = (0..attributes.len()).map(|i| format!("#a{i}")).collect();
            request = request.projection_expression(names.join(", "));
            for (name, attribute) in names.into_iter().zip(attributes) {
                request = request.expression_attribute_names(name, *attribute);
            }
        }
        let mut pending = Some(request.build().map_err(internal)?);
        let (mut items, mut attempt) = (Vec::new(), 0u32);
        while let Some(request) = pending.take() {
            let output = self.client.batch_get_item().request_items(table, request).send().await.map_err(classify)?;
            items.extend(output.responses.and_then(|mut r| r.remove(table)).unwrap_or_default());
            pending = output.unprocessed_keys.and_then(|mut u| u.remove(table));
            if pending.is_some() {
                attempt += 1;
                if attempt > 8 {
                    return Err(StoreError::new(
                        true,
                        anyhow::anyhow!("{table}: keys left unread after {attempt} attempts"),
                    ));
                }
                backoff(attempt).await;
            }
        }
        Ok(items)
    }

    /// Writes items in `BatchWriteItem` calls of 25, retrying what DynamoDB leaves unprocessed.
    pub(crate) async fn batch_put(&self, table: &str, items: Vec<Item>) -> Result<(), StoreError> {
        let requests = items
            .into_iter()
            .map(|item| {
                let put = PutRequest::builder().set_item(Some(item)).build().map_err(internal)?;
                Ok(WriteRequest::builder().put_request(put).build())
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        self.batch_write(table, requests).await
    }

    pub(crate) async fn batch_write(&self, table: &str, writes: Vec<WriteRequest>) -> Result<(), StoreError> {
        for chunk in writes.chunks(25) {
            let mut requests = chunk.to_vec();
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

    /// Puts items that must not replace existing ones; an existing item counts as success.
    pub(crate) async fn put_all_if_absent(
        &self, table: &str, key_attribute: &str, items: Vec<Item>,
    ) -> Result<(), StoreError> {
        concurrently(items, |item| async move {
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
        .await
        .map(|_: Vec<()>| ())
    }
}

/// One write of an aggregate to its next revision (see [`DynamoStore::transition`]).
pub(crate) struct Transition<'a> {
    pub table: &'a str,
    pub item: Item,
    /// The table's hash key attribute (the item must exist).
    pub key_attribute: &'a str,
    /// The revision the stored item must still be at.
    pub expected: u32,
    pub events: &'a [EventRecord],
    /// The transporter's profile write, if the step starts or ends a trip.
    pub assignment: Option<TransactWriteItem>,
    /// A condition on another item (the order a truck belongs to is not cancelled).
    pub check: Option<TransactWriteItem>,
}

pub(crate) fn key(name: &str, value: String) -> Item {
    HashMap::from([(name.to_owned(), AttributeValue::S(value))])
}

pub(crate) fn to_item<T: Serialize>(value: &T) -> Result<Item, StoreError> {
    serde_dynamo::to_item(value).map_err(internal)
}

pub(crate) fn from_item<T: DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    serde_dynamo::from_item(item).map_err(internal)
}

pub(crate) fn internal(error: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::new(false, error)
}

/// Throttling, server faults and transport failures are worth retrying; the rest are not.
pub(crate) fn classify<E, R>(error: SdkError<E, R>) -> StoreError
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
pub(crate) fn conditional<O, E, R>(result: Result<O, SdkError<E, R>>) -> Result<bool, StoreError>
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
pub(crate) fn canceled_reasons<R>(error: &SdkError<TransactWriteItemsError, R>) -> Option<Vec<Option<String>>> {
    match error.as_service_error()? {
        TransactWriteItemsError::TransactionCanceledException(e) => {
            Some(e.cancellation_reasons().iter().map(|r| r.code().map(str::to_owned)).collect())
        }
        _ => None,
    }
}

/// Whether the write at `index` failed its condition; `None` when the service gave no reasons.
pub(crate) fn failed_at(reasons: &[Option<String>], index: usize) -> Option<bool> {
    if reasons.is_empty() {
        return None;
    }
    Some(reasons.get(index).and_then(|r| r.as_deref()) == Some("ConditionalCheckFailed"))
}

pub(crate) async fn backoff(attempt: u32) {
    let millis = 25u64 << attempt.min(6);
    tokio::time::sleep(std::time::Duration::from_millis(millis)).await;
}
