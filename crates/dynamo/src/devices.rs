//! [`DeviceStore`]: a user's phones, one item each under the user.

use crate::DynamoStore;
use crate::requests::*;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use weelo_core::model::device::Device;
use weelo_core::model::ids::{DeviceId, UserId};
use weelo_core::ports::{DeviceStore, StoreError};

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
        let query = self.query_on(&self.tables.devices, None, "userId", owner.to_string()).consistent_read(true);
        query_all(query).await?.into_iter().map(from_item).collect()
    }

    async fn delete_device(&self, owner: &UserId, id: DeviceId) -> Result<(), StoreError> {
        let mut device_key = key("userId", owner.to_string());
        device_key.insert("deviceId".into(), AttributeValue::S(id.to_string()));
        self.delete_at(&self.tables.devices, device_key).send().await.map_err(classify)?;
        Ok(())
    }
}
