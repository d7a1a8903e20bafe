//! [`Shares`]: a customer shares a booking's live track with whoever waits at the drop
//! (docs/live-tracking.md). The link holds a sealed token (`contract::live`) and works until it
//! expires, is revoked, or the trip ends, whichever comes first.

use super::not_found;
use crate::contract::cursor::CursorKey;
use crate::contract::live::seal_share_token;
use crate::error::ServiceError;
use crate::model::caller::Customer;
use crate::model::ids::{BookingId, ShareId};
use crate::model::live::ShareLink;
use crate::ports::{BookingStore, ShareStore};
use crate::usecases::live::has_ended;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

/// The answer to `POST /v1/bookings/{id}/share`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ShareCreated {
    pub share_id: ShareId,
    /// The page with the token in its fragment (browsers never send a fragment to a server).
    pub url: String,
    pub expires_at: DateTime<Utc>,
}

pub struct Shares<S> {
    store: S,
    key: CursorKey,
    /// `SHARE_PAGE_URL`: the tracking page.
    page_url: String,
    lifetime: Duration,
}

impl<S: BookingStore + ShareStore> Shares<S> {
    pub fn new(store: S, key: CursorKey, page_url: String, lifetime: Duration) -> Self {
        Self { store, key, page_url, lifetime }
    }

    /// A new link to `booking`'s live track, for its customer, while its trip has not ended.
    pub async fn create(&self, customer: &Customer, booking: &str) -> Result<ShareCreated, ServiceError> {
        let id = BookingId::parse(booking).map_err(|_| not_found("booking"))?;
        let booking = self.store.get_booking(id).await?.filter(|b| &b.customer_id == customer.id());
        let booking = booking.ok_or(not_found("booking"))?;
        let status = booking.status();
        if has_ended(status) {
            return Err(ServiceError::Conflict {
                code: "trip_ended",
                message: format!("the booking is {status}: there is nothing left to track"),
                current_status: Some(status.as_str()),
            });
        }
        let now = Utc::now();
        let link = ShareLink {
            share_id: ShareId::generate(),
            booking_id: id,
            customer_id: customer.id().clone(),
            created_at: now,
            expires_at: now + self.lifetime,
        };
        self.store.put_share(&link).await?;
        let token = seal_share_token(&self.key, link.share_id, link.expires_at);
        Ok(ShareCreated {
            share_id: link.share_id,
            url: format!("{}#{token}", self.page_url),
            expires_at: link.expires_at,
        })
    }

    /// Revokes a link of `booking`: it no longer connects. A link that is not this customer's
    /// booking's answers 404, as a booking that is not theirs does.
    pub async fn revoke(&self, customer: &Customer, booking: &str, share: &str) -> Result<(), ServiceError> {
        let booking = BookingId::parse(booking).map_err(|_| not_found("booking"))?;
        let share = ShareId::parse(share).map_err(|_| not_found("shared link"))?;
        let link = self.store.get_share(&share).await?;
        let link = link.filter(|l| l.booking_id == booking && &l.customer_id == customer.id());
        let link = link.ok_or(not_found("shared link"))?;
        self.store.delete_share(&link.share_id).await?;
        Ok(())
    }
}
