//! [`PushLog`]: which (notification, device) pairs were pushed. A claim is written before the push
//! and confirmed after it; a claim never confirmed is taken over by the next delivery.

use crate::DynamoStore;
use crate::PUSH_LOG_TTL_SECS;
use crate::items::*;
use crate::requests::*;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use weelo_core::ports::{ClaimOutcome, PushClaim, PushLog, StoreError};

impl DynamoStore {
    /// Claims `push_key` for `claim_id`: true if the key was free, is already this claim's, or is
    /// held by a claim never confirmed and made before `take_over_before` (its delivery ended
    /// before it could confirm).
    ///
    /// PutItem takes no idempotency token, and the SDK retries an attempt that timed out, which may
    /// have been written: without the claim's own id in the condition, that retry would find the
    /// key taken (by itself) and the push would never be sent.
    pub async fn claim_push_as(
        &self, push_key: &str, claim_id: &str, take_over_before: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let now = Utc::now();
        let item = PushLogItem {
            push_key: push_key.to_owned(),
            claim_id: claim_id.to_owned(),
            state: PUSH_PENDING.to_owned(),
            claimed_at_ms: now.timestamp_millis(),
            expires_at: now.timestamp() + PUSH_LOG_TTL_SECS,
        };
        let result = self
            .client
            .put_item()
            .table_name(&self.tables.push_log)
            .set_item(Some(to_item(&item)?))
            .condition_expression(
                "attribute_not_exists(pushKey) OR claimId = :claim OR (#state = :pending AND claimedAtMs < :stale)",
            )
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":claim", AttributeValue::S(claim_id.to_owned()))
            .expression_attribute_values(":pending", AttributeValue::S(PUSH_PENDING.to_owned()))
            .expression_attribute_values(":stale", AttributeValue::N(take_over_before.timestamp_millis().to_string()))
            .send()
            .await;
        conditional(result)
    }

    /// Marks the claim of `push_key` sent, if `claim_id` still holds it.
    pub async fn confirm_push_as(&self, push_key: &str, claim_id: &str) -> Result<bool, StoreError> {
        let result = self
            .update_at(&self.tables.push_log, key("pushKey", push_key.to_owned()))
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
            .delete_at(&self.tables.push_log, key("pushKey", push_key.to_owned()))
            .condition_expression("claimId = :claim")
            .expression_attribute_values(":claim", AttributeValue::S(claim_id.to_owned()))
            .send()
            .await;
        conditional(result)
    }
}

#[async_trait]
impl PushLog for DynamoStore {
    async fn claim_push(&self, push_key: &str, take_over_before: DateTime<Utc>) -> Result<ClaimOutcome, StoreError> {
        let claim = PushClaim { key: push_key.to_owned(), claim_id: uuid::Uuid::new_v4().to_string() };
        match self.claim_push_as(push_key, &claim.claim_id, take_over_before).await {
            Ok(true) => Ok(ClaimOutcome::Claimed(claim)),
            // Held: by whom, as of when? (A claim released meanwhile reads as held just now: the
            // caller looks again at once.)
            Ok(false) => {
                let held: Option<PushLogItem> =
                    self.get(&self.tables.push_log, key("pushKey", push_key.to_owned())).await?;
                Ok(match held {
                    Some(item) if item.state == PUSH_SENT => ClaimOutcome::Sent,
                    Some(item) => ClaimOutcome::Held {
                        since: DateTime::from_timestamp_millis(item.claimed_at_ms).unwrap_or_default(),
                    },
                    None => ClaimOutcome::Held { since: DateTime::UNIX_EPOCH },
                })
            }
            Err(error) => {
                // Every attempt failed, yet one may have been written: undo it (only if it is this
                // claim), or the redelivered record would find the push claimed and wait for it.
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
