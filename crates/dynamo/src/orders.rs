//! [`OrderStore`]: an order and its truck requests share a partition (`orderId`), the order under
//! `itemId = order` and each truck request under `tr#<id>`, so one query reads the whole order.

use crate::DynamoStore;
use crate::items::*;
use crate::requests::*;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use weelo_core::contract::events::EventRecord;
use weelo_core::model::ids::OrderId;
use weelo_core::model::order::{Order, OrderStatus, OrderView, TruckRequest, TruckRequestStatus};
use weelo_core::ports::{CreateError, IdempotencyRecord, OrderStore, StoreError, TransitionError};

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
        let query = self
            .client
            .query()
            .table_name(&self.tables.orders)
            .key_condition_expression("orderId = :id")
            .expression_attribute_values(":id", AttributeValue::S(order_key(id)))
            .consistent_read(true);
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
        let guard = Guard::Status(expected.as_str().unwrap_or_default());
        self.transition(&self.tables.orders, item, guard, events, Vec::new()).await
    }
}
