//! [`TransporterStore`] and [`GeoIndexStore`]: profiles, latest positions, and the H3 geo index
//! matching reads (a transporter per cell item; the position notes where the index files them).

use crate::DynamoStore;
use crate::GEO_ENTRY_TTL_SECS;
use crate::items::*;
use crate::requests::*;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::types::ReturnValue;
use chrono::DateTime;
use futures::{StreamExt, TryStreamExt, stream};
use weelo_core::model::ids::UserId;
use weelo_core::model::location::Position;
use weelo_core::model::transporter::TransporterProfile;
use weelo_core::ports::{CellEntry, GeoIndexStore, PositionWrite, StoreError, TransporterStore};

/// `BatchGetItem` takes at most 100 keys.
const BATCH_GET_KEYS: usize = 100;

impl DynamoStore {
    /// One `BatchGetItem` of at most [`BATCH_GET_KEYS`] profiles.
    async fn get_profile_batch(&self, transporters: &[UserId]) -> Result<Vec<TransporterProfile>, StoreError> {
        let keys: Vec<Item> = transporters.iter().map(|t| key("transporterId", t.to_string())).collect();
        let items = self.batch_get(&self.tables.transporters, keys, None).await?;
        items.into_iter().map(from_item).collect()
    }
}

#[async_trait]
impl TransporterStore for DynamoStore {
    async fn put_profile(&self, profile: &TransporterProfile) -> Result<TransporterProfile, StoreError> {
        // The profile's own fields only: `activeTrip` belongs to the trip transitions.
        let mut item = to_item(profile)?;
        let mut value = |name: &str| {
            item.remove(name).ok_or_else(|| StoreError::new(false, anyhow::anyhow!("profile without {name}")))
        };
        let output = self
            .client
            .update_item()
            .table_name(&self.tables.transporters)
            .set_key(Some(key("transporterId", profile.transporter_id.to_string())))
            .update_expression("SET vehicleTypes = :vehicleTypes, available = :available, updatedAt = :updatedAt")
            .expression_attribute_values(":vehicleTypes", value("vehicleTypes")?)
            .expression_attribute_values(":available", value("available")?)
            .expression_attribute_values(":updatedAt", value("updatedAt")?)
            .return_values(ReturnValue::AllNew)
            .send()
            .await
            .map_err(classify)?;
        from_item(output.attributes.unwrap_or_default())
    }

    async fn get_profile(&self, transporter: &UserId) -> Result<Option<TransporterProfile>, StoreError> {
        self.get(&self.tables.transporters, key("transporterId", transporter.to_string())).await
    }

    async fn latest_position(&self, transporter: &UserId) -> Result<Option<Position>, StoreError> {
        let item: Option<PositionItem> =
            self.get(&self.tables.positions, key("transporterId", transporter.to_string())).await?;
        Ok(item.map(|i| i.position))
    }

    async fn get_profiles(&self, transporters: &[UserId]) -> Result<Vec<TransporterProfile>, StoreError> {
        // The keys spread over many partitions, so the batches of a large match go out together.
        // The requests are made first: a closure in the stream trips the compiler's Send check here.
        let requests: Vec<_> = transporters.chunks(BATCH_GET_KEYS).map(|chunk| self.get_profile_batch(chunk)).collect();
        let batches: Vec<Vec<TransporterProfile>> =
            stream::iter(requests).buffer_unordered(REQUEST_CONCURRENCY).try_collect().await?;
        Ok(batches.into_iter().flatten().collect())
    }

    async fn record_position(&self, position: &Position, _cell: &str) -> Result<PositionWrite, StoreError> {
        let recorded_at_ms = position.point.recorded_at.timestamp_millis();
        let item =
            to_item(&PositionItem { position: position.clone(), recorded_at_ms, cell: None, indexed_at_ms: None })?;
        // An update, not a put: the index attributes (`cell`, `indexedAtMs`) belong to move_in_index
        // and must survive a new position.
        let mut update = self
            .client
            .update_item()
            .table_name(&self.tables.positions)
            .key("transporterId", AttributeValue::S(position.transporter_id.to_string()))
            .condition_expression("attribute_not_exists(transporterId) OR recordedAtMs < :new")
            .expression_attribute_values(":new", AttributeValue::N(recorded_at_ms.to_string()))
            .return_values(ReturnValue::AllOld);
        let mut assignments = Vec::new();
        for (n, (name, value)) in item.into_iter().filter(|(name, _)| name != "transporterId").enumerate() {
            assignments.push(format!("#f{n} = :f{n}"));
            update = update
                .expression_attribute_names(format!("#f{n}"), name)
                .expression_attribute_values(format!(":f{n}"), value);
        }
        let result = update.update_expression(format!("SET {}", assignments.join(", "))).send().await;
        match result {
            Ok(output) => {
                let old = output.attributes.unwrap_or_default();
                let indexed_cell = old.get("cell").and_then(|c| c.as_s().ok().cloned());
                let indexed_at = old
                    .get("indexedAtMs")
                    .and_then(|ms| ms.as_n().ok()?.parse::<i64>().ok())
                    .and_then(chrono::DateTime::from_timestamp_millis);
                Ok(PositionWrite::Written { indexed_cell, indexed_at })
            }
            // Only a failed condition (a newer point is stored) comes back as Ok here.
            Err(error) => conditional(Err::<(), _>(error)).map(|_| PositionWrite::Stale),
        }
    }
}

#[async_trait]
impl GeoIndexStore for DynamoStore {
    async fn transporters_in_cells(&self, cells: &[String]) -> Result<Vec<CellEntry>, StoreError> {
        let per_cell = concurrently(cells.iter().cloned(), |cell: String| async move {
            let query = self
                .client
                .query()
                .table_name(&self.tables.geo_cells)
                .key_condition_expression("cell = :cell")
                .expression_attribute_values(":cell", AttributeValue::S(cell));
            let mut entries = Vec::new();
            for item in query_all(query).await? {
                let item: CellItem = from_item(item)?;
                let (Ok(transporter_id), Some(recorded_at)) =
                    (UserId::parse(&item.transporter_id), DateTime::from_timestamp_millis(item.recorded_at_ms))
                else {
                    continue;
                };
                entries.push(CellEntry { transporter_id, lat: item.lat, lng: item.lng, recorded_at });
            }
            Ok(entries)
        })
        .await?;
        Ok(per_cell.into_iter().flatten().collect())
    }

    async fn move_in_index(&self, entry: &CellEntry, from: Option<&str>, to: &str) -> Result<(), StoreError> {
        let recorded_at_ms = entry.recorded_at.timestamp_millis();
        let item = CellItem {
            cell: to.to_owned(),
            transporter_id: entry.transporter_id.to_string(),
            lat: entry.lat,
            lng: entry.lng,
            recorded_at_ms,
            expires_at: recorded_at_ms / 1000 + GEO_ENTRY_TTL_SECS,
        };
        self.client
            .put_item()
            .table_name(&self.tables.geo_cells)
            .set_item(Some(to_item(&item)?))
            .send()
            .await
            .map_err(classify)?;
        if let Some(old) = from.filter(|old| *old != to) {
            let mut old_key = key("cell", old.to_owned());
            old_key.insert("transporterId".into(), AttributeValue::S(entry.transporter_id.to_string()));
            self.client
                .delete_item()
                .table_name(&self.tables.geo_cells)
                .set_key(Some(old_key))
                .send()
                .await
                .map_err(classify)?;
        }
        // Last, so a failure above leaves the position saying "not indexed here yet" and the next
        // point redoes the move. The condition keeps a late, older batch from winding it back.
        let marked = self
            .client
            .update_item()
            .table_name(&self.tables.positions)
            .key("transporterId", AttributeValue::S(entry.transporter_id.to_string()))
            .update_expression("SET #cell = :cell, indexedAtMs = :at")
            .condition_expression(
                "attribute_exists(transporterId) AND (attribute_not_exists(indexedAtMs) OR indexedAtMs < :at)",
            )
            .expression_attribute_names("#cell", "cell")
            .expression_attribute_values(":cell", AttributeValue::S(to.to_owned()))
            .expression_attribute_values(":at", AttributeValue::N(recorded_at_ms.to_string()))
            .send()
            .await;
        conditional(marked).map(|_| ())
    }
}
