//! [`OfferStore`]: one item per (booking or order line, transporter) offered, kept for
//! [`OFFER_TTL_SECS`] so its transporter still sees what became of it. An offer not taken back
//! (`withdrawn`) is also in the sparse `live-by-transporter` index, which the inbox reads for the
//! last few minutes. Offers are taken back only from a releaser: the others stay as written once
//! their subject stops searching, and its trip says they no longer stand.

use crate::DynamoStore;
use crate::OFFER_TTL_SECS;
use crate::items::*;
use crate::requests::*;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use weelo_core::model::ids::UserId;
use weelo_core::ports::{OfferState, OfferStore, OfferSubject, StoreError};

#[async_trait]
impl OfferStore for DynamoStore {
    async fn offer_state(&self, subject: OfferSubject, transporter: &UserId) -> Result<Option<OfferState>, StoreError> {
        let mut key = key("subject", offer_subject_key(subject));
        key.insert("transporterId".into(), AttributeValue::S(transporter.to_string()));
        let output = self
            .client
            .get_item()
            .table_name(&self.tables.offers)
            .set_key(Some(key))
            .projection_expression("subject, withdrawn, offeredAtMs, #at")
            .expression_attribute_names("#at", "at")
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        Ok(output.item.map(|item| match item.get("withdrawn") {
            Some(AttributeValue::Bool(true)) => OfferState::Withdrawn,
            _ => OfferState::Live(offered_at(&item)),
        }))
    }

    async fn put_offers(
        &self, subject: OfferSubject, transporters: &[UserId], at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        // Rewriting an identical offer is harmless, so batches beat conditional puts here.
        self.write_offers(subject, transporters, at, false).await
    }

    async fn open_offers(&self, subject: OfferSubject) -> Result<Vec<(UserId, DateTime<Utc>)>, StoreError> {
        let query = self
            .query_on(&self.tables.offers, None, "subject", offer_subject_key(subject))
            .filter_expression("attribute_not_exists(withdrawn)")
            .projection_expression("transporterId, offeredAtMs, #at")
            .expression_attribute_names("#at", "at")
            // An offer just made again (a re-offer rewrites its time) must be read with that time,
            // or its withdrawal would name the older one and leave the phone's offer standing.
            .consistent_read(true);
        let items = query_all(query).await?;
        let open = items.iter().filter_map(|item| {
            let transporter = UserId::parse(item.get("transporterId")?.as_s().ok()?).ok()?;
            Some((transporter, offered_at(item)))
        });
        Ok(open.collect())
    }

    async fn withdraw_offers(&self, subject: OfferSubject, transporters: &[UserId]) -> Result<(), StoreError> {
        // Withdrawing twice writes the same item twice.
        self.write_offers(subject, transporters, Utc::now(), true).await
    }

    async fn live_offers(
        &self, transporter: &UserId, since: DateTime<Utc>, limit: usize,
    ) -> Result<Vec<(OfferSubject, DateTime<Utc>)>, StoreError> {
        let output = self
            .client
            .query()
            .table_name(&self.tables.offers)
            .index_name("live-by-transporter")
            .key_condition_expression("openFor = :transporter AND offeredAtMs >= :since")
            .expression_attribute_values(":transporter", AttributeValue::S(transporter.to_string()))
            .expression_attribute_values(":since", AttributeValue::N(since.timestamp_millis().to_string()))
            .scan_index_forward(false)
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .send()
            .await
            .map_err(classify)?;
        let live = output.items.unwrap_or_default().into_iter().filter_map(|item| {
            let subject = parse_offer_subject_key(item.get("subject")?.as_s().ok()?)?;
            let at = item.get("offeredAtMs")?.as_n().ok()?.parse().ok()?;
            Some((subject, DateTime::from_timestamp_millis(at)?))
        });
        Ok(live.collect())
    }
}

impl DynamoStore {
    async fn write_offers(
        &self, subject: OfferSubject, transporters: &[UserId], at: DateTime<Utc>, withdrawn: bool,
    ) -> Result<(), StoreError> {
        let subject = offer_subject_key(subject);
        let items = transporters
            .iter()
            .map(|t| {
                to_item(&OfferItem {
                    subject: subject.clone(),
                    transporter_id: t.to_string(),
                    at: at.to_rfc3339(),
                    withdrawn,
                    expires_at: at.timestamp() + OFFER_TTL_SECS,
                    open_for: (!withdrawn).then(|| t.to_string()),
                    offered_at_ms: (!withdrawn).then(|| at.timestamp_millis()),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.batch_put(&self.tables.offers, items).await
    }
}

/// When a live offer was made: `offeredAtMs`, or its `at` where an older item lacks that. An
/// offer with neither counts as made now, so that a withdrawal of it still drops it.
fn offered_at(item: &std::collections::HashMap<String, AttributeValue>) -> DateTime<Utc> {
    let millis = item.get("offeredAtMs").and_then(|n| n.as_n().ok()?.parse().ok());
    let from_millis = millis.and_then(DateTime::from_timestamp_millis);
    let from_at = || DateTime::parse_from_rfc3339(item.get("at")?.as_s().ok()?).ok().map(|at| at.to_utc());
    from_millis.or_else(from_at).unwrap_or_else(Utc::now)
}
