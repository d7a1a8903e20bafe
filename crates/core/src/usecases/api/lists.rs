//! [`Lists`]: what the apps read back a page at a time: a customer's bookings and orders, a
//! transporter's trips. Each list is a query on an index, never a scan; the page's end goes back to the client
//! as a cursor sealed for the caller and the filter (`contract::cursor`), so a cursor cannot be
//! made, changed or borrowed. A trip's track is read the same way (`tracks.rs`).

use crate::contract::cursor::CursorKey;
use crate::contract::requests::ListQuery;
use crate::error::ServiceError;
use crate::model::booking::{BookingStatus, BookingSummary};
use crate::model::caller::{Customer, Transporter};
use crate::model::ids::UserId;
use crate::model::order::{OrderStatus, OrderSummary};
use crate::model::trip::{OfferTimes, TripStatus, TripSummary};
use crate::ports::{BookingStore, ListPage, OrderStore, Page, PagePosition, StoreError, TripStore};
use serde::Serialize;
use std::fmt::Display;

/// One page of a list as the api answers it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Listing<T> {
    pub items: Vec<T>,
    /// The `cursor` of the next page; `None` on the last.
    pub next_cursor: Option<String>,
}

/// The list use cases over a store, with the key cursors are sealed with and the offer clock (how
/// far back the inbox looks).
pub struct Lists<S> {
    store: S,
    key: CursorKey,
    times: OfferTimes,
}

impl<S> Lists<S> {
    pub fn new(store: S, key: CursorKey, times: OfferTimes) -> Self {
        Self { store, key, times }
    }

    pub(super) fn times(&self) -> &OfferTimes {
        &self.times
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

impl<S> Lists<S> {
    /// A page of `list` for `owner` under `query`'s filter: the cursor opened, `read` given the
    /// position the page starts after, and the page's end sealed for the same owner, list and filter.
    async fn page<St: Copy + Ord + Display, T>(
        &self, owner: &UserId, list: &str, query: &ListQuery<St>,
        read: impl AsyncFnOnce(Option<&PagePosition>) -> Result<Page<T>, StoreError>,
    ) -> Result<Listing<T>, ServiceError> {
        let scope = format!("{owner}\nGET {list}\n{}", query.scope());
        let after = self.opened(&scope, query.cursor.as_deref())?;
        let page = read(after.as_ref()).await?;
        Ok(self.listing(&scope, page))
    }
}

impl<S> Lists<S> {
    /// A page of one of `customer`'s lists (`list` names it): `read` is the store's query for the
    /// page `query` asks for.
    async fn customer_page<St: Copy + Ord + Display, T>(
        &self, customer: &Customer, list: &str, query: ListQuery<St>,
        read: impl AsyncFnOnce(ListPage<'_, St>) -> Result<Page<T>, StoreError>,
    ) -> Result<Listing<T>, ServiceError> {
        let statuses: Vec<St> = query.statuses.iter().copied().collect();
        let limit = query.limit.get();
        self.page(customer.id(), list, &query, async |after| {
            read(ListPage { customer: customer.id(), statuses: &statuses, limit, after }).await
        })
        .await
    }
}

impl<S: BookingStore + OrderStore> Lists<S> {
    /// `GET /v1/bookings`: the customer's own bookings, newest first.
    pub async fn bookings(
        &self, customer: &Customer, query: ListQuery<BookingStatus>,
    ) -> Result<Listing<BookingSummary>, ServiceError> {
        self.customer_page(customer, "/v1/bookings", query, async |page| self.store.customer_bookings(page).await).await
    }

    /// `GET /v1/orders`: the customer's own orders, newest first.
    pub async fn orders(
        &self, customer: &Customer, query: ListQuery<OrderStatus>,
    ) -> Result<Listing<OrderSummary>, ServiceError> {
        self.customer_page(customer, "/v1/orders", query, async |page| self.store.customer_orders(page).await).await
    }
}

impl<S: TripStore> Lists<S> {
    /// `GET /v1/trips`: the bookings and order trucks the transporter won (and did not release),
    /// the one they hold first, then the others, latest accepted first.
    pub async fn trips(
        &self, transporter: &Transporter, query: ListQuery<TripStatus>,
    ) -> Result<Listing<TripSummary>, ServiceError> {
        let limit = query.limit.get();
        self.page(transporter.id(), "/v1/trips", &query, async |after| {
            self.store.transporter_trips(transporter.id(), limit, after).await
        })
        .await
    }
}
