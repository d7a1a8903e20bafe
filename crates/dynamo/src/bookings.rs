//! [`BookingStore`]: one item per booking; every change a transaction with its events (and the
//! transporter's profile when a trip starts or ends). A booking with a deadline carries `dueShard`
//! and `dueAtMs`, which put it in the sparse `deadlines` index the deadline sweeper reads. The
//! `by-customer` index (customerId, bookingId: ids are time-ordered) lists a customer's bookings
//! newest first, projecting only what a list shows.

use crate::items::BookingItem;
use crate::pages::KeyPage;
use crate::requests::*;
use crate::{DUE_SHARDS, DynamoStore};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use weelo_core::model::booking::{Booking, BookingStatus, BookingSummary};
use weelo_core::model::ids::BookingId;
use weelo_core::ports::{
    Assignment, BookingStore, Change, CreateError, Creation, ListPage, Page, StoreError, TransitionError,
};

#[async_trait]
impl BookingStore for DynamoStore {
    async fn create_booking(&self, creation: Creation<'_, Booking>) -> Result<(), CreateError> {
        let item = to_item(&BookingItem::new(creation.new))?;
        self.create(&self.tables.bookings, "bookingId", item, creation.events, creation.idempotency).await
    }

    async fn get_booking(&self, id: BookingId) -> Result<Option<Booking>, StoreError> {
        let item: Option<BookingItem> = self.get(&self.tables.bookings, key("bookingId", id.to_string())).await?;
        Ok(item.map(|i| i.booking))
    }

    async fn transition_booking(&self, change: Change<'_, Booking>) -> Result<(), TransitionError> {
        self.transition(Transition {
            table: &self.tables.bookings,
            item: to_item(&BookingItem::new(change.to))?,
            key_attribute: "bookingId",
            expected: change.expected,
            events: change.events,
            assignment: self.assignment_write(change.assignment)?,
            check: None,
        })
        .await
    }

    async fn customer_bookings(&self, list: ListPage<'_, BookingStatus>) -> Result<Page<BookingSummary>, StoreError> {
        let ListPage { customer, statuses, limit, after } = list;
        let (items, next) = self
            .page(KeyPage {
                statuses: statuses.iter().map(ToString::to_string).collect(),
                ..KeyPage::by_customer(&self.tables.bookings, customer, &["customerId", "bookingId"], limit, after)
            })
            .await?;
        let items = items.into_iter().map(from_item).collect::<Result<_, _>>()?;
        Ok(Page { items, next })
    }

    async fn due_bookings(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Booking>, StoreError> {
        let due = self.due(&self.tables.bookings, now, limit, |item: &BookingItem| item.booking.trip.due_at).await?;
        Ok(due.into_iter().map(|item| item.booking).collect())
    }
}

impl DynamoStore {
    /// The `limit` most overdue of the items in `table`'s `deadlines` index due at `now`, by
    /// `due_at` (up to `limit` read from each shard).
    pub(crate) async fn due<T: DeserializeOwned, K: Ord>(
        &self, table: &str, now: DateTime<Utc>, limit: usize, due_at: impl Fn(&T) -> K,
    ) -> Result<Vec<T>, StoreError> {
        let mut due =
            self.due_items(table, now, limit).await?.into_iter().map(from_item).collect::<Result<Vec<T>, _>>()?;
        due.sort_by_key(due_at);
        due.truncate(limit);
        Ok(due)
    }

    /// Up to `limit` items of each shard of `table`'s `deadlines` index due at `now`.
    async fn due_items(&self, table: &str, now: DateTime<Utc>, limit: usize) -> Result<Vec<Item>, StoreError> {
        let limit = i32::try_from(limit.max(1)).unwrap_or(i32::MAX);
        let shards = (0..DUE_SHARDS).map(|shard| async move {
            self.client
                .query()
                .table_name(table)
                .index_name("deadlines")
                .key_condition_expression("dueShard = :shard AND dueAtMs <= :now")
                .expression_attribute_values(":shard", AttributeValue::S(shard.to_string()))
                .expression_attribute_values(":now", AttributeValue::N(now.timestamp_millis().to_string()))
                .limit(limit)
                .send()
                .await
                .map_err(classify)
        });
        let outputs = futures::future::try_join_all(shards).await?;
        Ok(outputs.into_iter().flat_map(|output| output.items.unwrap_or_default()).collect())
    }

    /// The profile write of a transition: a trip starts only for a transporter with a profile and
    /// no other trip; it ends only on the profile that holds it (or holds none, as before trips
    /// were recorded there).
    pub(crate) fn assignment_write(&self, assignment: &Assignment) -> Result<Option<TransactWriteItem>, StoreError> {
        let (transporter, trip, expression) = match assignment {
            Assignment::Keep => return Ok(None),
            Assignment::Start { transporter, trip } => (transporter, trip, "SET activeTrip = :trip"),
            Assignment::End { transporter, trip } => (transporter, trip, "REMOVE activeTrip"),
        };
        let update = Update::builder()
            .table_name(&self.tables.transporters)
            .set_key(Some(key("transporterId", transporter.to_string())))
            .update_expression(expression)
            .condition_expression(
                "attribute_exists(transporterId) AND (attribute_not_exists(activeTrip) OR activeTrip = :trip)",
            )
            .expression_attribute_values(":trip", AttributeValue::S(trip.to_string()));
        Ok(Some(TransactWriteItem::builder().update(update.build().map_err(internal)?).build()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_index_projects_every_field_a_summary_is_read_from() {
        let read = BookingSummary::FIELDS.into_iter().chain(["customerId"]).map(str::to_owned).collect();
        assert_eq!(crate::projected("bookings", "by-customer"), read);
    }
}
