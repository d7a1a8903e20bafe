//! [`BookingStore`]: one item per booking; every change a transaction with its events.

use crate::DynamoStore;
use crate::requests::*;
use async_trait::async_trait;
use weelo_core::contract::events::EventRecord;
use weelo_core::model::booking::{Booking, BookingStatus};
use weelo_core::model::ids::BookingId;
use weelo_core::ports::{BookingStore, CreateError, IdempotencyRecord, StoreError, TransitionError};

#[async_trait]
impl BookingStore for DynamoStore {
    async fn create_booking(
        &self,
        booking: &Booking,
        events: &[EventRecord],
        idempotency: Option<&IdempotencyRecord>,
    ) -> Result<(), CreateError> {
        self.create(&self.tables.bookings, "bookingId", to_item(booking)?, events, idempotency).await
    }

    async fn get_booking(&self, id: BookingId) -> Result<Option<Booking>, StoreError> {
        self.get(&self.tables.bookings, key("bookingId", id.to_string())).await
    }

    async fn transition_booking(
        &self,
        booking: &Booking,
        expected: BookingStatus,
        events: &[EventRecord],
    ) -> Result<(), TransitionError> {
        self.transition(&self.tables.bookings, to_item(booking)?, expected.as_str(), events).await
    }
}
