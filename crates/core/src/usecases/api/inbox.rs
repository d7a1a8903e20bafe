//! The transporter's inbox, `GET /v1/offers`: the offers they can still accept (each stands: its
//! booking, or a truck of its order line, still searches, and was not released since the offer was
//! made), newest or nearest first, each with everything its push carried. An offer stands for a
//! search's rounds at most ([`OfferTimes::offer_life`]), so a transporter holds few at a time: the
//! inbox reads their offers of that long, newest first (at most [`MAX_EXAMINED_OFFERS`], including
//! those whose subject stopped searching: the fan-out leaves them in the table), and each one's
//! booking or order until [`MAX_OPEN_OFFERS`] stand, and sorts and pages those here. So offers
//! that no longer stand never hide an older one that does, until a transporter had more than
//! [`MAX_EXAMINED_OFFERS`] offers within one offer's life. A cursor is the sort key of the
//! last offer shown, sealed for the caller and the sort.
//!
//! [`OfferTimes::offer_life`]: crate::model::trip::OfferTimes::offer_life

use super::lists::{Listing, Lists};
use crate::contract::requests::{OfferQuery, OfferSort};
use crate::error::ServiceError;
use crate::model::caller::Transporter;
use crate::model::geo::GeoPoint;
use crate::model::offer::OpenOffer;
use crate::ports::{BookingStore, OfferStore, OfferSubject, OrderStore, PagePosition, StoreError, TransporterStore};
use chrono::{DateTime, Utc};
use futures::{StreamExt, TryStreamExt};

/// The most standing offers one inbox read shows, across its pages: the newest that stand.
pub const MAX_OPEN_OFFERS: usize = 100;

/// The most offers one inbox read examines, newest first, to find those that stand: the bound on
/// its reads (one index query, then a booking or order read an offer, until enough stand).
pub const MAX_EXAMINED_OFFERS: usize = 500;

/// Reads of bookings and orders in flight for one inbox page.
const CARD_READS: usize = 16;

impl<S: OfferStore + BookingStore + OrderStore + TransporterStore> Lists<S> {
    /// `GET /v1/offers`.
    pub async fn offers(
        &self, transporter: &Transporter, query: OfferQuery,
    ) -> Result<Listing<OpenOffer>, ServiceError> {
        let scope = format!("{}\nGET /v1/offers\n{}", transporter.id(), query.scope());
        let after = self.opened(&scope, query.cursor.as_deref())?.map(|p| SortKey::parse(&p)).transpose()?;
        let since = Utc::now() - self.times().offer_life();
        let live = self.store().live_offers(transporter.id(), since, MAX_EXAMINED_OFFERS).await?;
        let here = self.store().latest_position(transporter.id()).await?;
        let from = here.map(|p| GeoPoint { lat: p.point.lat, lng: p.point.lng });
        // Newest first, read a few at a time, until enough stand: no more reads than that needs.
        let cards: Vec<OpenOffer> = futures::stream::iter(live)
            .map(|(subject, at)| self.card(subject, at, from))
            .buffered(CARD_READS)
            .try_filter_map(|card| async move { Ok(card) })
            .take(MAX_OPEN_OFFERS)
            .try_collect()
            .await?;
        let mut cards: Vec<(SortKey, OpenOffer)> =
            cards.into_iter().map(|card| (SortKey::of(query.sort, &card), card)).collect();
        cards.retain(|(key, _)| after.as_ref().is_none_or(|after| key > after));
        cards.sort_by(|a, b| a.0.cmp(&b.0));
        let limit = query.limit.get();
        let next = (cards.len() > limit).then(|| cards[limit - 1].0.position());
        cards.truncate(limit);
        let page = crate::ports::Page { items: cards.into_iter().map(|(_, card)| card).collect(), next };
        Ok(self.listing(&scope, page))
    }

    /// The card of one live offer, if it can still be accepted.
    async fn card(
        &self, subject: OfferSubject, offered_at: DateTime<Utc>, from: Option<GeoPoint>,
    ) -> Result<Option<OpenOffer>, StoreError> {
        Ok(match subject {
            OfferSubject::Booking(id) => {
                self.store().get_booking(id).await?.and_then(|b| OpenOffer::of_booking(&b, offered_at, from))
            }
            OfferSubject::OrderLine(id, line) => {
                self.store().get_order(id).await?.and_then(|v| OpenOffer::of_line(&v, line, offered_at, from))
            }
        })
    }
}

/// Where an offer sorts: nearest first (an offer with no distance last), or newest first; ties
/// by what is offered, so the order is total and a position is exact.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct SortKey(i64, String);

impl SortKey {
    fn of(sort: OfferSort, card: &OpenOffer) -> Self {
        let first = match sort {
            OfferSort::Nearest => card.distance_m.map_or(i64::MAX, i64::from),
            OfferSort::Newest => -card.offered_at.timestamp_millis(),
        };
        Self(first, card.subject_key())
    }

    fn position(&self) -> PagePosition {
        PagePosition::new(format!("{}|{}", self.0, self.1))
    }

    /// A position this use case made (its cursor's MAC held), read back.
    fn parse(position: &PagePosition) -> Result<Self, ServiceError> {
        let unreadable = || ServiceError::internal(anyhow::anyhow!("an inbox position that is not ours"));
        let (first, subject) = position.as_str().split_once('|').ok_or_else(unreadable)?;
        Ok(Self(first.parse().map_err(|_| unreadable())?, subject.to_owned()))
    }
}
