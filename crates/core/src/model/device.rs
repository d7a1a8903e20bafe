//! Push devices: a user's phone registered for FCM notifications through an SNS platform endpoint.

use crate::model::ids::{DeviceId, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    Android,
    Ios,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Device {
    pub user_id: UserId,
    pub device_id: DeviceId,
    pub platform: Platform,
    pub token: String,
    /// The SNS platform endpoint pushes are published to.
    pub endpoint_arn: String,
    pub registered_at: DateTime<Utc>,
}

/// The answer to `POST /v1/devices`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceReceipt {
    pub device_id: DeviceId,
}
