//! [`TripStore`]: a transporter's trips, read from the two sparse `by-transporter` indexes (the
//! bookings table's and the orders table's, each keyed by `acceptedBy` and `acceptedAtMs`) and
//! merged, latest accepted first. The position of a page is where each index's part of it ended,
//! so neither index is read twice over nor skipped; a truck request's places are its order's,
//! read with one `BatchGetItem` per page.

use crate::DynamoStore;
use crate::items::ORDER_ITEM_ID;
use crate::pages::{KeyPage, position};
use crate::requests::*;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};
use std::iter::Peekable;
use weelo_core::model::ids::UserId;
use weelo_core::model::trip::TripSummary;
use weelo_core::ports::{Page, PagePosition, StoreError, TripStore};

const INDEX: &str = "by-transporter";
const BOOKING_KEYS: [&str; 3] = ["bookingId", "acceptedBy", "acceptedAtMs"];
const TRUCK_KEYS: [&str; 4] = ["orderId", "itemId", "acceptedBy", "acceptedAtMs"];

/// Where one index's part of the list stands.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
enum Cursor {
    #[default]
    Start,
    /// After this index key (a [`position`]).
    After(String),
    /// Every item of this index was listed.
    Done,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct TripsPosition {
    bookings: Cursor,
    trucks: Cursor,
}

#[async_trait]
impl TripStore for DynamoStore {
    async fn transporter_trips(
        &self, transporter: &UserId, limit: usize, after: Option<&PagePosition>,
    ) -> Result<Page<TripSummary>, StoreError> {
        let at: TripsPosition = match after {
            Some(p) => serde_json::from_str(p.as_str()).map_err(internal)?,
            None => TripsPosition::default(),
        };
        let (bookings, trucks) = futures::try_join!(
            self.trips_of(&self.tables.bookings, &BOOKING_KEYS, &at.bookings, transporter, limit),
            self.trips_of(&self.tables.orders, &TRUCK_KEYS, &at.trucks, transporter, limit),
        )?;
        let (mut booking_items, mut truck_items) = (bookings.0.into_iter().peekable(), trucks.0.into_iter().peekable());
        let (mut listed, mut last_booking, mut last_truck) = (Vec::new(), None, None);
        while listed.len() < limit {
            let booking_first = match (booking_items.peek(), truck_items.peek()) {
                (Some(booking), Some(truck)) => accepted_ms(booking) >= accepted_ms(truck),
                (booking, truck) if booking.is_some() || truck.is_some() => booking.is_some(),
                _ => break,
            };
            let (items, last) = if booking_first {
                (&mut booking_items, &mut last_booking)
            } else {
                (&mut truck_items, &mut last_truck)
            };
            let item = items.next().expect("peeked");
            *last = Some(position(&item, if booking_first { &BOOKING_KEYS } else { &TRUCK_KEYS })?);
            listed.push((booking_first, item));
        }
        let next = TripsPosition {
            bookings: moved(at.bookings, last_booking, &mut booking_items, bookings.1),
            trucks: moved(at.trucks, last_truck, &mut truck_items, trucks.1),
        };
        let summaries = self.summaries(listed).await?;
        let next = match (&next.bookings, &next.trucks) {
            (Cursor::Done, Cursor::Done) => None,
            _ => Some(PagePosition::new(serde_json::to_string(&next).map_err(internal)?)),
        };
        Ok(Page { items: summaries, next })
    }
}

impl DynamoStore {
    /// Up to `limit` items of `table`'s index for `transporter` after `at`, and whether it holds more.
    async fn trips_of(
        &self, table: &str, keys: &[&str], at: &Cursor, transporter: &UserId, limit: usize,
    ) -> Result<(Vec<Item>, bool), StoreError> {
        let after = match at {
            Cursor::Done => return Ok((Vec::new(), false)),
            Cursor::Start => None,
            Cursor::After(key) => Some(PagePosition::new(key.clone())),
        };
        let (items, next) = self
            .page(KeyPage {
                table,
                index: Some(INDEX),
                hash: ("acceptedBy", transporter.to_string()),
                range: None,
                newest_first: true,
                key_attributes: keys,
                statuses: Vec::new(),
                limit,
                after: after.as_ref(),
            })
            .await?;
        Ok((items, next.is_some()))
    }

    /// The listed items as cards: a truck request gets its order's pickup and drop.
    async fn summaries(&self, listed: Vec<(bool, Item)>) -> Result<Vec<TripSummary>, StoreError> {
        let orders: BTreeSet<String> =
            listed.iter().filter(|(booking, _)| !booking).filter_map(|(_, i)| text(i, "orderId")).collect();
        let mut places: HashMap<String, Item> = HashMap::new();
        if !orders.is_empty() {
            let keys = orders.into_iter().map(|order| {
                let mut key = key("orderId", order);
                key.insert("itemId".to_owned(), AttributeValue::S(ORDER_ITEM_ID.to_owned()));
                key
            });
            let roots =
                self.batch_get(&self.tables.orders, keys.collect(), Some(&["orderId", "pickup", "drop"])).await?;
            places.extend(roots.into_iter().filter_map(|root| Some((text(&root, "orderId")?, root))));
        }
        listed
            .into_iter()
            .map(|(booking, mut item)| {
                if !booking {
                    let root = text(&item, "orderId")
                        .and_then(|order| places.get(&order))
                        .ok_or_else(|| internal(MissingOrder(text(&item, "orderId").unwrap_or_default())))?;
                    for place in ["pickup", "drop"] {
                        item.insert(place.to_owned(), root.get(place).cloned().unwrap_or(AttributeValue::Null(true)));
                    }
                }
                from_item(item)
            })
            .collect()
    }
}

/// Where an index's part stands after a page: `Done` once every item it holds was listed, after
/// the last one listed, or where it was when none of it was.
fn moved(
    was: Cursor, last: Option<PagePosition>, unlisted: &mut Peekable<std::vec::IntoIter<Item>>, more: bool,
) -> Cursor {
    match last {
        _ if !more && unlisted.peek().is_none() => Cursor::Done,
        Some(last) => Cursor::After(last.as_str().to_owned()),
        None => was,
    }
}

fn accepted_ms(item: &Item) -> i64 {
    item.get("acceptedAtMs").and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok()).unwrap_or(i64::MIN)
}

fn text(item: &Item, name: &str) -> Option<String> {
    item.get(name).and_then(|v| v.as_s().ok()).cloned()
}

#[derive(Debug, thiserror::Error)]
#[error("the order {0} of a listed truck request is missing")]
struct MissingOrder(String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_trips_index_projects_every_field_a_card_is_read_from_and_its_keys() {
        let bookings = TripSummary::BOOKING_FIELDS.into_iter().chain(BOOKING_KEYS).map(str::to_owned).collect();
        assert_eq!(crate::projected("bookings", INDEX), bookings);
        let trucks = TripSummary::TRUCK_FIELDS.into_iter().chain(TRUCK_KEYS).map(str::to_owned).collect();
        assert_eq!(crate::projected("orders", INDEX), trucks);
    }

    #[test]
    fn a_card_reads_back_from_an_item_with_whole_numbered_places_and_extra_keys() {
        const ORDER: &str = "0190f1f4-0000-7000-8000-000000000001";
        const TRUCK: &str = "0190f1f4-0000-7000-8000-000000000002";
        // GIVEN a truck request's card stored as an item, a place on whole degrees (DynamoDB keeps
        // numbers as text: "19") and the index's keys beside the card's fields
        let item = serde_json::json!({
            "orderId": ORDER, "truckRequestId": TRUCK, "status": "picked_up", "vehicleType": "mini",
            "pickup": { "lat": 19, "lng": 72.8 }, "drop": { "lat": 18.5, "lng": 73.8, "address": "Pune" },
            "acceptedAt": "2026-12-04T10:00:00Z", "acceptedAtMs": 1_796_378_400_000_i64, "itemId": "truck#1",
        });
        let item: Item = serde_dynamo::to_item(item).unwrap();
        // WHEN it is read as a card
        let card: TripSummary = from_item(item).unwrap();
        // THEN the haul the card flattens is read whole, and nothing else is taken for it
        assert_eq!((card.haul.pickup.lat, card.haul.drop.address.as_deref()), (19.0, Some("Pune")));
        assert_eq!((card.haul.scheduled_at, card.truck_request_id.map(|t| t.to_string())), (None, Some(TRUCK.into())));
    }
}
