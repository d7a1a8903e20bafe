//! [`Lists`]: what the apps read back a page at a time: a customer's bookings and orders, a
//! transporter's trips. Each list is a query on an index, never a scan; the page's end goes back to the client
//! as a cursor sealed for the caller and the filter (`contract::cursor`), so a cursor cannot be
//! made, changed or borrowed. A trip's track is read the same way (`tracks.rs`).

use crate::contract::cursor::CursorKey;
use crate::contract::requests::ListQuery;
use crate::error::ServiceError;
use crate::model::booking::{BookingStatus, BookingSummary};
use crate::model::caller::{Customer, Transporter};
use crate::model::order::{OrderStatus, OrderSummary};
use crate::model::trip::{TripStatus, TripSummary};
use crate::ports::{BookingStore, OrderStore, Page, PagePosition, TripStore};
use serde::Serialize;

/// One page of a list as the api answers it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Listing<T> {
    pub items: Vec<T>,
    /// The `cursor` of the next page; `None` on the last.
    pub next_cursor: Option<String>,
}

/// The list use cases over a store, with the key cursors are sealed with.
pub struct Lists<S> {
    store: S,
    key: CursorKey,
}

impl<S> Lists<S> {
    pub fn new(store: S, key: CursorKey) -> Self {
        Self { store, key }
    }

    pub(super) fn store(&self) -> &S {
        &self.store
    }

    /// The position `cursor` stands for, if it was sealed for `scope`; else a 400 naming `cursor`.
    pub(super) fn opened(&self, scope: &str, cursor: Option<&str>) -> Result<Option<PagePosition>, ServiceError> {
        Ok(cursor.map(|cursor| self.key.open(scope, cursor)).transpose()?)
    }

    pub(super) fn listing<T>(&self, scope: &str, page: Page<T>) -> Listing<T> {
        Listing { items: page.items, next_cursor: page.next.map(|position| self.key.seal(scope, &position)) }
    }
}

impl<S: BookingStore> Lists<S> {
    /// `GET /v1/bookings`: the customer's own bookings, newest first.
    pub async fn bookings(
        &self,
        customer: &Customer,
        query: ListQuery<BookingStatus>,
    ) -> Result<Listing<BookingSummary>, ServiceError> {
        let scope = format!("{}\nGET /v1/bookings\n{}", customer.id(), query.scope());
        let after = self.opened(&scope, query.cursor.as_deref())?;
        let statuses: Vec<BookingStatus> = query.statuses.into_iter().collect();
        let page = self.store.customer_bookings(customer.id(), &statuses, query.limit.get(), after.as_ref()).await?;
        Ok(self.listing(&scope, page))
    }
}

impl<S: OrderStore> Lists<S> {
    /// `GET /v1/orders`: the customer's own orders, newest first.
    pub async fn orders(
        &self,
        customer: &Customer,
        query: ListQuery<OrderStatus>,
    ) -> Result<Listing<OrderSummary>, ServiceError> {
        let scope = format!("{}\nGET /v1/orders\n{}", customer.id(), query.scope());
        let after = self.opened(&scope, query.cursor.as_deref())?;
        let statuses: Vec<OrderStatus> = query.statuses.into_iter().collect();
        let page = self.store.customer_orders(customer.id(), &statuses, query.limit.get(), after.as_ref()).await?;
        Ok(self.listing(&scope, page))
    }
}

impl<S: TripStore> Lists<S> {
    /// `GET /v1/trips`: the bookings and order trucks the transporter won (and did not release),
    /// the one they hold first, then the others, latest accepted first.
    pub async fn trips(
        &self,
        transporter: &Transporter,
        query: ListQuery<TripStatus>,
    ) -> Result<Listing<TripSummary>, ServiceError> {
        let scope = format!("{}\nGET /v1/trips\n{}", transporter.id(), query.scope());
        let after = self.opened(&scope, query.cursor.as_deref())?;
        let page = self.store.transporter_trips(transporter.id(), query.limit.get(), after.as_ref()).await?;
        Ok(self.listing(&scope, page))
    }
}
