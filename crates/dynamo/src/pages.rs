//! Pages of a partition (of a table or an index), newest or oldest first, optionally within a range
//! of sort keys and filtered by status, each with the position the next page starts from. The
//! position is the key of the last item the page returns (or, when the read budget ran out first,
//! of the last item DynamoDB evaluated), so an item added between two pages before the position is
//! never read twice and none after it is skipped.

use crate::DynamoStore;
use crate::requests::{Item, classify, internal};
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Map, Value};
use weelo_core::model::ids::UserId;
use weelo_core::ports::{PagePosition, StoreError};

/// Queries one page may make: a status filter that matches little cannot make one request read a
/// whole partition (the page then ends early, with a cursor, as DynamoDB's own 1 MB pages do).
pub(crate) const READS_PER_PAGE: usize = 4;

/// One page of the partition `hash = value` of `table` (or of its `index`).
pub(crate) struct KeyPage<'a> {
    pub table: &'a str,
    pub index: Option<&'a str>,
    pub hash: (&'a str, String),
    /// Only items whose sort key (named first) is from the second to the third value, inclusive.
    pub range: Option<(&'a str, String, String)>,
    /// Descending sort keys (newest first for time-ordered keys), or ascending.
    pub newest_first: bool,
    /// Every attribute of the position: the table's key and the index's key.
    pub key_attributes: &'a [&'a str],
    /// Only items whose `status` is one of these (all items when empty).
    pub statuses: Vec<String>,
    pub limit: usize,
    pub after: Option<&'a PagePosition>,
}

impl<'a> KeyPage<'a> {
    /// A page of `customer`'s items in `table`'s `by-customer` index, newest first, unfiltered.
    pub fn by_customer(
        table: &'a str, customer: &UserId, key_attributes: &'a [&'a str], limit: usize, after: Option<&'a PagePosition>,
    ) -> Self {
        let hash = ("customerId", customer.to_string());
        Self {
            table,
            index: Some("by-customer"),
            hash,
            range: None,
            newest_first: true,
            key_attributes,
            statuses: Vec::new(),
            limit,
            after,
        }
    }
}

impl DynamoStore {
    /// Up to `page.limit` items and the position after the last of them, or `None` at the end.
    pub(crate) async fn page(&self, page: KeyPage<'_>) -> Result<(Vec<Item>, Option<PagePosition>), StoreError> {
        let mut start = page.after.map(|p| start_key(p, page.key_attributes)).transpose()?;
        let mut items: Vec<Item> = Vec::new();
        for _ in 0..READS_PER_PAGE {
            // One more than the page holds: finding it says there is a next page.
            let wanted = i32::try_from(page.limit + 1 - items.len()).unwrap_or(i32::MAX);
            let mut query = self
                .client
                .query()
                .table_name(page.table)
                .set_index_name(page.index.map(str::to_owned))
                .key_condition_expression("#hash = :hash")
                .expression_attribute_names("#hash", page.hash.0)
                .expression_attribute_values(":hash", AttributeValue::S(page.hash.1.clone()))
                .scan_index_forward(!page.newest_first)
                .limit(wanted)
                .set_exclusive_start_key(start.take());
            if let Some((name, low, high)) = &page.range {
                query = query
                    .key_condition_expression("#hash = :hash AND #range BETWEEN :low AND :high")
                    .expression_attribute_names("#range", *name)
                    .expression_attribute_values(":low", AttributeValue::S(low.clone()))
                    .expression_attribute_values(":high", AttributeValue::S(high.clone()));
            }
            if !page.statuses.is_empty() {
                let names: Vec<String> = (0..page.statuses.len()).map(|i| format!(":status{i}")).collect();
                query = query.filter_expression(format!("#status IN ({})", names.join(", ")));
                query = query.expression_attribute_names("#status", "status");
                for (name, status) in names.into_iter().zip(&page.statuses) {
                    query = query.expression_attribute_values(name, AttributeValue::S(status.clone()));
                }
            }
            let output = query.send().await.map_err(classify)?;
            items.extend(output.items.unwrap_or_default());
            if items.len() > page.limit {
                items.truncate(page.limit);
                let next = position(items.last().expect("a page of at least one item"), page.key_attributes)?;
                return Ok((items, Some(next)));
            }
            match output.last_evaluated_key {
                Some(key) => start = Some(key),
                None => return Ok((items, None)),
            }
        }
        let next = start.map(|key| position(&key, page.key_attributes)).transpose()?;
        Ok((items, next))
    }
}

/// The position of `item`: its key attributes, as JSON (`{"bookingId": {"S": "…"}, …}`).
pub(crate) fn position(item: &Item, key_attributes: &[&str]) -> Result<PagePosition, StoreError> {
    let mut key = Map::new();
    for name in key_attributes {
        let value = match item.get(*name) {
            Some(AttributeValue::S(text)) => serde_json::json!({ "S": text }),
            Some(AttributeValue::N(number)) => serde_json::json!({ "N": number }),
            _ => return Err(internal(PositionError(format!("an item of the page lacks its key {name}")))),
        };
        key.insert((*name).to_owned(), value);
    }
    Ok(PagePosition::new(Value::Object(key).to_string()))
}

/// The exclusive start key a position (already checked as ours by the cursor's MAC) stands for.
fn start_key(position: &PagePosition, key_attributes: &[&str]) -> Result<Item, StoreError> {
    let refused = |why: &str| internal(PositionError(why.to_owned()));
    let value: Value = serde_json::from_str(position.as_str()).map_err(|_| refused("not JSON"))?;
    let fields = value.as_object().ok_or_else(|| refused("not an object"))?;
    if fields.len() != key_attributes.len() {
        return Err(refused("not this index's key"));
    }
    let mut key = Item::new();
    for name in key_attributes {
        let attribute = match fields.get(*name) {
            Some(Value::Object(typed)) => match (typed.get("S"), typed.get("N")) {
                (Some(Value::String(text)), None) => AttributeValue::S(text.clone()),
                (None, Some(Value::String(number))) => AttributeValue::N(number.clone()),
                _ => return Err(refused("a key attribute of another type")),
            },
            _ => return Err(refused("a key attribute missing")),
        };
        key.insert((*name).to_owned(), attribute);
    }
    Ok(key)
}

#[derive(Debug, thiserror::Error)]
#[error("page position: {0}")]
struct PositionError(String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_position_reads_back_as_the_key_it_was_made_from() {
        let item = Item::from([
            ("bookingId".to_owned(), AttributeValue::S("b-1".to_owned())),
            ("createdAtMs".to_owned(), AttributeValue::N("1764480000000".to_owned())),
            ("status".to_owned(), AttributeValue::S("searching".to_owned())),
        ]);
        let keys = ["bookingId", "createdAtMs"];
        let key = start_key(&position(&item, &keys).unwrap(), &keys).unwrap();
        assert_eq!(key.len(), 2);
        assert_eq!((key.get("bookingId"), key.get("createdAtMs")), (item.get("bookingId"), item.get("createdAtMs")));
        assert!(start_key(&PagePosition::new(r#"{"bookingId":{"S":"b"}}"#.to_owned()), &keys).is_err());
    }
}
