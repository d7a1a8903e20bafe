//! The in-memory offers and idempotency records of [`MemoryStore`].

use super::store::MemoryStore;
use crate::model::ids::UserId;
use crate::ports::*;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// How long an idempotency record holds, as the adapter's TTL.
pub(super) const IDEMPOTENCY_HOURS: i64 = 24;

#[async_trait]
impl OfferStore for MemoryStore {
    async fn offer_state(&self, subject: OfferSubject, transporter: &UserId) -> Result<Option<OfferState>, StoreError> {
        let tables = self.lock();
        let offer = tables.offers.get(&subject).and_then(|offered| offered.get(transporter));
        Ok(offer.map(|(at, withdrawn)| if *withdrawn { OfferState::Withdrawn } else { OfferState::Live(*at) }))
    }

    async fn put_offers(
        &self, subject: OfferSubject, transporters: &[UserId], at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tables = self.lock();
        let offered = tables.offers.entry(subject).or_default();
        for transporter in transporters {
            offered.insert(transporter.clone(), (at, false));
        }
        Ok(())
    }

    async fn open_offers(&self, subject: OfferSubject) -> Result<Vec<(UserId, DateTime<Utc>)>, StoreError> {
        let tables = self.lock();
        let live = tables.offers.get(&subject).into_iter().flatten().filter(|(_, (_, withdrawn))| !withdrawn);
        Ok(live.map(|(transporter, (at, _))| (transporter.clone(), *at)).collect())
    }

    async fn withdraw_offers(&self, subject: OfferSubject, transporters: &[UserId]) -> Result<(), StoreError> {
        if let Some(offered) = self.lock().offers.get_mut(&subject) {
            for transporter in transporters {
                if let Some((_, withdrawn)) = offered.get_mut(transporter) {
                    *withdrawn = true;
                }
            }
        }
        Ok(())
    }

    async fn live_offers(
        &self, transporter: &UserId, since: DateTime<Utc>, limit: usize,
    ) -> Result<Vec<(OfferSubject, DateTime<Utc>)>, StoreError> {
        let tables = self.lock();
        let mut live: Vec<(OfferSubject, DateTime<Utc>)> = tables
            .offers
            .iter()
            .filter_map(|(subject, offered)| match offered.get(transporter) {
                Some((at, false)) if *at >= since => Some((*subject, *at)),
                _ => None,
            })
            .collect();
        live.sort_by_key(|(_, at)| std::cmp::Reverse(*at));
        live.truncate(limit);
        Ok(live)
    }
}

#[async_trait]
impl IdempotencyStore for MemoryStore {
    async fn get_idempotency(
        &self, scoped_key: &str, valid_at: DateTime<Utc>,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        let tables = self.lock();
        let record = tables.idempotency.get(scoped_key);
        Ok(record.filter(|r| r.created_at + chrono::Duration::hours(IDEMPOTENCY_HOURS) > valid_at).cloned())
    }
}
