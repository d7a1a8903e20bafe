//! `Idempotency-Key`: a create repeated with the same key and request answers what the first one
//! answered; with the same key and another request, 409. The key is checked by the create's own
//! transaction (see the stores' `create_*`), so a first request costs no extra read.

use super::Created;
use crate::contract::requests::IdempotencyKey;
use crate::error::ServiceError;
use crate::model::ids::UserId;
use crate::ports::{IdempotencyRecord, IdempotencyStore};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

/// An `Idempotency-Key` scoped to its user and operation, with the fingerprint of the request.
pub(super) struct IdempotencyClaim {
    scoped_key: String,
    request_hash: String,
}

impl IdempotencyClaim {
    pub(super) fn new(
        user: &UserId, operation: &str, key: Option<&IdempotencyKey>, request: &impl Serialize,
    ) -> Result<Option<Self>, ServiceError> {
        let Some(key) = key else { return Ok(None) };
        // The validated request, not the raw bytes: the same request with other whitespace is the same request.
        let canonical = serde_json::to_vec(request).map_err(ServiceError::internal)?;
        let request_hash = Sha256::digest(&canonical).iter().map(|b| format!("{b:02x}")).collect();
        Ok(Some(Self { scoped_key: format!("{user}#{operation}#{}", key.as_str()), request_hash }))
    }

    pub(super) fn record(self, receipt: &impl Serialize, now: DateTime<Utc>) -> IdempotencyRecord {
        IdempotencyRecord {
            scoped_key: self.scoped_key,
            request_hash: self.request_hash,
            receipt: serde_json::to_string(receipt).expect("receipts serialise to JSON"),
            created_at: now,
        }
    }

    fn replay<T: DeserializeOwned>(&self, stored: &IdempotencyRecord) -> Result<Created<T>, ServiceError> {
        if stored.request_hash != self.request_hash {
            return Err(ServiceError::Conflict {
                code: "idempotency_key_reused",
                message: "this Idempotency-Key was already used with a different request".into(),
                current_status: None,
            });
        }
        let value = serde_json::from_str(&stored.receipt).map_err(ServiceError::internal)?;
        Ok(Created { value, replayed: true })
    }
}

/// Answers a request whose `Idempotency-Key` an earlier request holds: that request's answer if it
/// was the same request, else 409. The write is tried first and the record read only when the key
/// turns out taken, so a first request (nearly all of them) costs no read.
pub(super) async fn replay_taken_key<T: DeserializeOwned>(
    store: &impl IdempotencyStore, record: Option<&IdempotencyRecord>,
) -> Result<Created<T>, ServiceError> {
    let record = record.ok_or_else(|| ServiceError::internal(anyhow::anyhow!("idempotency conflict without a key")))?;
    // Valid at this request's time, as the write's condition judged it: the two agree.
    let stored = store
        .get_idempotency(&record.scoped_key, record.created_at)
        .await?
        .ok_or_else(|| ServiceError::internal(anyhow::anyhow!("idempotency record vanished")))?;
    IdempotencyClaim { scoped_key: record.scoped_key.clone(), request_hash: record.request_hash.clone() }
        .replay(&stored)
}
