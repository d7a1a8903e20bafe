//! The in-memory push log, devices and outbox.

use super::store::MemoryStore;
use crate::contract::events::EventRecord;
use crate::model::device::Device;
use crate::model::ids::{DeviceId, EventId, UserId};
use crate::ports::*;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[async_trait]
impl PushLog for MemoryStore {
    async fn claim_push(&self, key: &str, take_over_before: DateTime<Utc>) -> Result<ClaimOutcome, StoreError> {
        let mut tables = self.lock();
        tables.claims += 1;
        let claim = PushClaim { key: key.to_owned(), claim_id: format!("claim-{}", tables.claims) };
        match tables.push_log.get(key) {
            Some((_, true, _)) => Ok(ClaimOutcome::Sent),
            Some((_, false, since)) if *since >= take_over_before => Ok(ClaimOutcome::Held { since: *since }),
            _ => {
                tables.push_log.insert(key.to_owned(), (claim.claim_id.clone(), false, Utc::now()));
                Ok(ClaimOutcome::Claimed(claim))
            }
        }
    }

    async fn confirm_push(&self, claim: &PushClaim) -> Result<(), StoreError> {
        if let Some((holder, sent, _)) = self.lock().push_log.get_mut(&claim.key)
            && *holder == claim.claim_id
        {
            *sent = true;
        }
        Ok(())
    }

    async fn release_push(&self, claim: &PushClaim) -> Result<(), StoreError> {
        let mut tables = self.lock();
        if tables.push_log.get(&claim.key).is_some_and(|(holder, _, _)| *holder == claim.claim_id) {
            tables.push_log.remove(&claim.key);
        }
        Ok(())
    }
}

#[async_trait]
impl DeviceStore for MemoryStore {
    async fn get_device(&self, owner: &UserId, id: DeviceId) -> Result<Option<Device>, StoreError> {
        Ok(self.lock().devices.get(owner).and_then(|d| d.get(&id)).cloned())
    }

    async fn put_device_if_absent(&self, device: &Device) -> Result<bool, StoreError> {
        let mut tables = self.lock();
        let devices = tables.devices.entry(device.user_id.clone()).or_default();
        if devices.contains_key(&device.device_id) {
            return Ok(false);
        }
        devices.insert(device.device_id, device.clone());
        Ok(true)
    }

    async fn list_devices(&self, owner: &UserId) -> Result<Vec<Device>, StoreError> {
        Ok(self.lock().devices.get(owner).map(|d| d.values().cloned().collect()).unwrap_or_default())
    }

    async fn delete_device(&self, owner: &UserId, id: DeviceId) -> Result<(), StoreError> {
        if let Some(devices) = self.lock().devices.get_mut(owner) {
            devices.remove(&id);
        }
        Ok(())
    }
}

#[async_trait]
impl Outbox for MemoryStore {
    async fn mark_sent(&self, ids: &[EventId]) -> Result<(), StoreError> {
        for (record, _, sent) in self.lock().outbox.iter_mut() {
            if ids.contains(&record.event_id) {
                *sent = true;
            }
        }
        Ok(())
    }

    async fn pending(&self, created_before: DateTime<Utc>, limit: usize) -> Result<Vec<EventRecord>, StoreError> {
        let tables = self.lock();
        let pending = tables.outbox.iter().filter(|(_, at, sent)| !sent && *at < created_before);
        Ok(pending.take(limit).map(|(r, _, _)| r.clone()).collect())
    }
}
