//! [`TransporterStore`] and [`GeoIndexStore`]: profiles, positions, and the H3 geo index matching
//! reads (a transporter per cell item). A position item notes where the index files the transporter
//! and as of which point, written after each index write; the latest position is read from the
//! GPS history (`history.rs`), which holds every point.

use crate::DynamoStore;
use crate::GEO_ENTRY_TTL_SECS;
use crate::items::*;
use crate::requests::*;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::types::{DeleteRequest, PutRequest, ReturnValue, WriteRequest};
use chrono::DateTime;
use futures::{StreamExt, TryStreamExt, stream};
use weelo_core::model::ids::UserId;
use weelo_core::model::location::Position;
use weelo_core::model::transporter::TransporterProfile;
use weelo_core::ports::{CellEntry, GeoIndexStore, IndexMove, IndexNote, StoreError, StoredPosition, TransporterStore};

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
            .update_at(&self.tables.transporters, key("transporterId", profile.transporter_id.to_string()))
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
        let newest = self.newest_point(transporter).await?;
        Ok(newest.map(|point| Position { transporter_id: transporter.clone(), point }))
    }

    async fn get_profiles(&self, transporters: &[UserId]) -> Result<Vec<TransporterProfile>, StoreError> {
        // The keys spread over many partitions, so the batches of a large match go out together.
        // The requests are made first: a closure in the stream trips the compiler's Send check here.
        let requests: Vec<_> = transporters.chunks(BATCH_GET_KEYS).map(|chunk| self.get_profile_batch(chunk)).collect();
        let batches: Vec<Vec<TransporterProfile>> =
            stream::iter(requests).buffer_unordered(REQUEST_CONCURRENCY).try_collect().await?;
        Ok(batches.into_iter().flatten().collect())
    }

    async fn stored_positions(&self, transporters: &[UserId]) -> Result<Vec<StoredPosition>, StoreError> {
        let requests: Vec<_> =
            transporters.chunks(BATCH_GET_KEYS).map(|chunk| self.stored_position_batch(chunk)).collect();
        let batches: Vec<Vec<StoredPosition>> =
            stream::iter(requests).buffer_unordered(REQUEST_CONCURRENCY).try_collect().await?;
        Ok(batches.into_iter().flatten().collect())
    }

    async fn write_position(&self, position: &Position, filed: Option<&IndexNote>) -> Result<bool, StoreError> {
        let recorded_at_ms = position.point.recorded_at.timestamp_millis();
        let item = PositionItem {
            position: position.clone(),
            recorded_at_ms,
            cell: filed.map(|f| f.cell.clone()),
            indexed_at_ms: filed.map(|f| f.at.timestamp_millis()),
        };
        let put = self
            .client
            .put_item()
            .table_name(&self.tables.positions)
            .set_item(Some(to_item(&item)?))
            .condition_expression("attribute_not_exists(transporterId) OR recordedAtMs < :new")
            .expression_attribute_values(":new", AttributeValue::N(recorded_at_ms.to_string()))
            .send()
            .await;
        // A failed condition (a point as new or newer is stored) comes back as Ok(false).
        conditional(put)
    }
}

impl DynamoStore {
    /// One `BatchGetItem` of at most [`BATCH_GET_KEYS`] positions: their time and index note.
    async fn stored_position_batch(&self, transporters: &[UserId]) -> Result<Vec<StoredPosition>, StoreError> {
        let keys: Vec<Item> = transporters.iter().map(|t| key("transporterId", t.to_string())).collect();
        let wanted: &[&str] = &["transporterId", "recordedAtMs", "cell", "indexedAtMs"];
        let items = self.batch_get(&self.tables.positions, keys, Some(wanted)).await?;
        items.into_iter().map(stored_position).collect()
    }
}

/// A position item's time and index note.
fn stored_position(item: Item) -> Result<StoredPosition, StoreError> {
    let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
    let millis = |name: &str| item.get(name).and_then(|v| v.as_n().ok()?.parse::<i64>().ok());
    let bad = || StoreError::new(false, anyhow::anyhow!("a position item without its key or time"));
    let transporter_id = UserId::parse(&text("transporterId").ok_or_else(bad)?).map_err(|_| bad())?;
    let recorded_at = millis("recordedAtMs").and_then(DateTime::from_timestamp_millis).ok_or_else(bad)?;
    let at = millis("indexedAtMs").and_then(DateTime::from_timestamp_millis);
    let filed = text("cell").zip(at).map(|(cell, at)| IndexNote { cell, at });
    Ok(StoredPosition { transporter_id, recorded_at, filed })
}

#[async_trait]
impl GeoIndexStore for DynamoStore {
    async fn transporters_in_cells(&self, cells: &[String]) -> Result<Vec<CellEntry>, StoreError> {
        let per_cell = concurrently(cells.iter().cloned(), |cell: String| async move {
            let query = self.query_on(&self.tables.geo_cells, None, "cell", cell);
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

    async fn file_in_index(&self, moves: &[IndexMove]) -> Result<(), StoreError> {
        let mut writes = Vec::with_capacity(moves.len() * 2);
        for IndexMove { entry, from, to } in moves {
            let recorded_at_ms = entry.recorded_at.timestamp_millis();
            let item = CellItem {
                cell: to.clone(),
                transporter_id: entry.transporter_id.to_string(),
                lat: entry.lat,
                lng: entry.lng,
                recorded_at_ms,
                expires_at: recorded_at_ms / 1000 + GEO_ENTRY_TTL_SECS,
            };
            let put = PutRequest::builder().set_item(Some(to_item(&item)?)).build().map_err(internal)?;
            writes.push(WriteRequest::builder().put_request(put).build());
            if let Some(old) = from.as_ref().filter(|old| *old != to) {
                let mut old_key = key("cell", old.clone());
                old_key.insert("transporterId".into(), AttributeValue::S(entry.transporter_id.to_string()));
                let delete = DeleteRequest::builder().set_key(Some(old_key)).build().map_err(internal)?;
                writes.push(WriteRequest::builder().delete_request(delete).build());
            }
        }
        self.batch_write(&self.tables.geo_cells, writes).await
    }
}
