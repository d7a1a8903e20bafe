//! [`OrderStore`]: an order and its truck requests share a partition (`orderId`), the order under
//! `itemId = order` and each truck request under `tr#<id>`, so one query reads the whole order. A
//! truck request with a deadline is in the table's sparse `deadlines` index, as a booking is. The
//! order items (only they carry `customerId`) are in the `by-customer` index, newest first.

use crate::DynamoStore;
use crate::items::*;
use crate::pages::{self, KeyPage, READS_PER_PAGE};
use crate::requests::*;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, TransactWriteItem, Update};
use chrono::{DateTime, Utc};
use weelo_core::contract::events::EventRecord;
use weelo_core::model::ids::OrderId;
use weelo_core::model::order::{Order, OrderStatus, OrderSummary, OrderView, TruckRequest};
use weelo_core::model::trip::TripStatus;
use weelo_core::ports::{Change, CreateError, Creation, ListPage, OrderStore, Page, StoreError, TransitionError};

#[async_trait]
impl OrderStore for DynamoStore {
    async fn create_order(&self, creation: Creation<'_, Order>) -> Result<(), CreateError> {
        let item = to_item(&OrderItem { item_id: ORDER_ITEM_ID.to_owned(), order: creation.new.clone() })?;
        self.create(&self.tables.orders, "orderId", item, creation.events, creation.idempotency).await
    }

    async fn get_order(&self, id: OrderId) -> Result<Option<OrderView>, StoreError> {
        let query = self.query_on(&self.tables.orders, None, "orderId", order_key(id)).consistent_read(true);
        let mut order = None;
        let mut truck_requests = Vec::new();
        for item in query_all(query).await? {
            match item.get("itemId").and_then(|v| v.as_s().ok()) {
                Some(item_id) if item_id == ORDER_ITEM_ID => order = Some(from_item::<OrderItem>(item)?.order),
                Some(item_id) if item_id.starts_with(TRUCK_REQUEST_PREFIX) => {
                    truck_requests.push(from_item::<TruckRequestItem>(item)?.request)
                }
                _ => {}
            }
        }
        Ok(order.map(|order| OrderView::assemble(order, truck_requests)))
    }

    async fn set_order_status(
        &self, id: OrderId, expected: OrderStatus, status: OrderStatus,
    ) -> Result<bool, StoreError> {
        let result = self
            .update_at(&self.tables.orders, self.order_item_key(id))
            .update_expression("SET #status = :status")
            .condition_expression("#status = :expected")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":status", AttributeValue::S(status.as_str().into()))
            .expression_attribute_values(":expected", AttributeValue::S(expected.as_str().into()))
            .send()
            .await;
        conditional(result)
    }

    async fn put_truck_requests(&self, requests: &[TruckRequest]) -> Result<(), StoreError> {
        let items = requests.iter().map(|r| to_item(&TruckRequestItem::new(r))).collect::<Result<Vec<_>, _>>()?;
        self.put_all_if_absent(&self.tables.orders, "itemId", items).await
    }

    async fn cancel_order(&self, id: OrderId, events: &[EventRecord]) -> Result<(), TransitionError> {
        let update = Update::builder()
            .table_name(&self.tables.orders)
            .set_key(Some(self.order_item_key(id)))
            .update_expression("SET #status = :cancelled")
            .condition_expression("#status IN (:processing, :open)")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":cancelled", AttributeValue::S(OrderStatus::Cancelled.as_str().into()))
            .expression_attribute_values(":processing", AttributeValue::S(OrderStatus::Processing.as_str().into()))
            .expression_attribute_values(":open", AttributeValue::S(OrderStatus::Open.as_str().into()))
            .build()
            .map_err(internal)?;
        let mut writes = vec![TransactWriteItem::builder().update(update).build()];
        writes.extend(self.outbox_puts(events, Utc::now().timestamp_millis())?);
        match self.client.transact_write_items().set_transact_items(Some(writes)).send().await {
            Ok(_) => Ok(()),
            Err(error) => match canceled_reasons(&error) {
                Some(reasons) if failed_at(&reasons, 0).unwrap_or(true) => Err(TransitionError::Conflict),
                _ => Err(TransitionError::Store(classify(error))),
            },
        }
    }

    async fn transition_truck_request(
        &self, change: Change<'_, TruckRequest>, order_open: bool,
    ) -> Result<(), TransitionError> {
        let request = change.to;
        let check = if order_open {
            let check = ConditionCheck::builder()
                .table_name(&self.tables.orders)
                .set_key(Some(self.order_item_key(request.order_id)))
                .condition_expression("#status <> :cancelled")
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":cancelled", AttributeValue::S(OrderStatus::Cancelled.as_str().into()))
                .build()
                .map_err(internal)?;
            Some(TransactWriteItem::builder().condition_check(check).build())
        } else {
            None
        };
        self.transition(Transition {
            table: &self.tables.orders,
            item: to_item(&TruckRequestItem::new(request))?,
            key_attribute: "orderId",
            expected: change.expected,
            events: change.events,
            assignment: self.assignment_write(change.assignment)?,
            check,
        })
        .await
    }

    async fn due_truck_requests(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<TruckRequest>, StoreError> {
        let due = self.due(&self.tables.orders, now, limit, |item: &TruckRequestItem| item.request.trip.due_at).await?;
        Ok(due.into_iter().map(|item| item.request).collect())
    }

    async fn customer_orders(&self, list: ListPage<'_, OrderStatus>) -> Result<Page<OrderSummary>, StoreError> {
        let ListPage { customer, statuses, limit, after } = list;
        let mut position = after.cloned();
        let mut listed = Vec::new();
        // As a bookings page with a status filter: a bounded number of reads, then a short page.
        for _ in 0..READS_PER_PAGE {
            let (roots, next) = self
                .page(KeyPage::by_customer(
                    &self.tables.orders,
                    customer,
                    &["orderId", "itemId", "customerId"],
                    limit - listed.len(),
                    position.as_ref(),
                ))
                .await?;
            if let Some(last) = roots.last() {
                position = Some(pages::position(last, &["orderId", "itemId", "customerId"])?);
            }
            let mut summaries = concurrently(roots.into_iter().enumerate(), |(at, root)| async move {
                Ok((at, self.derived_summary(from_item::<OrderSummary>(root)?).await?))
            })
            .await?;
            summaries.sort_by_key(|(at, _)| *at);
            listed.extend(
                summaries.into_iter().map(|(_, s)| s).filter(|s| statuses.is_empty() || statuses.contains(&s.status)),
            );
            if next.is_none() {
                return Ok(Page { items: listed, next: None });
            }
            if listed.len() == limit {
                break;
            }
        }
        Ok(Page { items: listed, next: position })
    }
}

impl DynamoStore {
    /// `summary` with its status derived from its trucks' (one query of the order's truck
    /// requests, their statuses only), as `OrderView::assemble` derives it; only an open order's
    /// status depends on its trucks.
    async fn derived_summary(&self, mut summary: OrderSummary) -> Result<OrderSummary, StoreError> {
        if summary.status != OrderStatus::Open {
            return Ok(summary);
        }
        let query = self
            .client
            .query()
            .table_name(&self.tables.orders)
            .key_condition_expression("orderId = :id AND begins_with(itemId, :trucks)")
            .expression_attribute_values(":id", AttributeValue::S(order_key(summary.order_id)))
            .expression_attribute_values(":trucks", AttributeValue::S(TRUCK_REQUEST_PREFIX.to_owned()))
            .projection_expression("#status")
            .expression_attribute_names("#status", "status");
        let statuses = query_all(query).await?.into_iter().map(|item| {
            let status = item.get("status").and_then(|s| s.as_s().ok()).cloned().unwrap_or_default();
            serde_json::from_value::<TripStatus>(serde_json::Value::String(status)).map_err(internal)
        });
        summary.status = OrderStatus::of_trucks(&statuses.collect::<Result<Vec<_>, _>>()?);
        Ok(summary)
    }

    fn order_item_key(&self, id: OrderId) -> Item {
        let mut key = key("orderId", order_key(id));
        key.insert("itemId".into(), AttributeValue::S(ORDER_ITEM_ID.to_owned()));
        key
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_customers_index_projects_every_field_an_order_summary_is_read_from() {
        let read = OrderSummary::FIELDS.into_iter().chain(["itemId", "customerId"]).map(str::to_owned).collect();
        assert_eq!(crate::projected("orders", "by-customer"), read);
    }
}
