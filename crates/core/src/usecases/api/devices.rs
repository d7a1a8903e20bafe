//! [`Devices`]: a user registers a phone for pushes, and logs it out. [`Profiles`]: a transporter says which trucks
//! they run and whether they take work now.

use super::Created;
use crate::contract::requests::{NewDevice, ProfileUpdate};
use crate::error::{ServiceError, ValidationError};
use crate::model::caller::{Caller, Transporter};
use crate::model::device::{Device, DeviceReceipt};
use crate::model::ids::DeviceId;
use crate::model::transporter::TransporterProfile;
use crate::ports::{DeviceStore, PushRegistrationError, PushRegistry, TransporterStore};
use chrono::Utc;

/// Push devices over a store and the push service's registry.
pub struct Devices<S, P> {
    store: S,
    push: P,
}

impl<S: DeviceStore, P: PushRegistry> Devices<S, P> {
    pub fn new(store: S, push: P) -> Self {
        Self { store, push }
    }

    /// `POST /v1/devices`: registers the caller's FCM token. The same token again answers the same device.
    pub async fn register(&self, caller: &Caller, request: NewDevice) -> Result<Created<DeviceReceipt>, ServiceError> {
        let owner = &caller.user_id;
        let device_id = DeviceId::derive(owner, &request.token);
        if self.store.get_device(owner, device_id).await?.is_some() {
            return Ok(Created { value: DeviceReceipt { device_id }, replayed: true });
        }
        let endpoint_arn = self.push.register_endpoint(request.platform, &request.token, owner).await.map_err(
            |error| match error {
                PushRegistrationError::InvalidToken(_) => {
                    ServiceError::Validation(ValidationError::single("token", "was rejected by the push service"))
                }
                PushRegistrationError::Unavailable(reason) => {
                    tracing::warn!(%reason, "push registry unavailable");
                    ServiceError::Unavailable { what: "the push service" }
                }
            },
        )?;
        let device = Device {
            user_id: owner.clone(),
            device_id,
            platform: request.platform,
            token: request.token,
            endpoint_arn,
            registered_at: Utc::now(),
        };
        let created = self.store.put_device_if_absent(&device).await?;
        Ok(Created { value: DeviceReceipt { device_id }, replayed: !created })
    }

    /// `DELETE /v1/devices/{deviceId}`: the endpoint first, then the device, so a failure in
    /// between leaves a device whose pushes fail as "endpoint gone" (and which fcm-consumer then
    /// forgets) rather than a live endpoint nobody can reach. Another user's device is not found.
    pub async fn delete(&self, caller: &Caller, device_id: &str) -> Result<(), ServiceError> {
        let not_found = ServiceError::NotFound { what: "device" };
        let Ok(device_id) = DeviceId::parse(device_id) else { return Err(not_found) };
        let owner = &caller.user_id;
        let Some(device) = self.store.get_device(owner, device_id).await? else { return Err(not_found) };
        self.push.delete_endpoint(&device.endpoint_arn).await.map_err(|error| {
            tracing::warn!(%error, "push registry unavailable");
            ServiceError::Unavailable { what: "the push service" }
        })?;
        Ok(self.store.delete_device(owner, device_id).await?)
    }
}

/// Transporter profiles over a store.
pub struct Profiles<S> {
    store: S,
}

impl<S: TransporterStore> Profiles<S> {
    pub fn new(store: S) -> Self {
        Self { store }
    }

    /// `PUT /v1/transporters/me`.
    pub async fn put(
        &self, transporter: &Transporter, update: ProfileUpdate,
    ) -> Result<TransporterProfile, ServiceError> {
        let profile = TransporterProfile {
            transporter_id: transporter.id().clone(),
            vehicle_types: update.vehicle_types,
            available: update.available,
            updated_at: Utc::now(),
            active_trip: None,
        };
        Ok(self.store.put_profile(&profile).await?)
    }
}
