//! A trip's track: the assigned truck's GPS points while it drove the trip, read back a page at a
//! time from the history store, for the customer who owns the trip and the transporter who holds
//! it. Nothing from before the acceptance or after the delivery (or cancel), nothing older than
//! the history keeps, and another truck's points never: the cursor is bound to the truck and the
//! trip's start, so a trip released and taken by someone else between two pages answers 400.

use super::lists::{Listing, Lists};
use super::not_found;
use crate::contract::requests::TrackQuery;
use crate::error::ServiceError;
use crate::model::caller::{Caller, Role};
use crate::model::ids::{BookingId, OrderId, TruckRequestId, UserId};
use crate::model::location::{HISTORY_RETENTION_DAYS, LocationPoint};
use crate::model::trip::Trip;
use crate::ports::{BookingStore, LocationHistoryStore, OrderStore, TrackRange};
use chrono::{Duration, Utc};

impl<S: BookingStore + OrderStore + LocationHistoryStore> Lists<S> {
    /// `GET /v1/bookings/{id}/track`.
    pub async fn booking_track(
        &self, caller: &Caller, id: &str, query: TrackQuery,
    ) -> Result<Listing<LocationPoint>, ServiceError> {
        let id = BookingId::parse(id).map_err(|_| not_found("booking"))?;
        let booking = self.store().get_booking(id).await?.ok_or(not_found("booking"))?;
        if !may_follow(caller, &booking.customer_id, &booking.trip) {
            return Err(not_found("booking"));
        }
        self.track(caller, &format!("booking/{id}"), &booking.trip, query).await
    }

    /// `GET /v1/orders/{id}/truck-requests/{truckRequestId}/track`.
    pub async fn truck_track(
        &self, caller: &Caller, order: &str, truck_request: &str, query: TrackQuery,
    ) -> Result<Listing<LocationPoint>, ServiceError> {
        let order = OrderId::parse(order).map_err(|_| not_found("order"))?;
        let request = TruckRequestId::parse(truck_request).map_err(|_| not_found("truck request"))?;
        let view = self.store().get_order(order).await?.ok_or(not_found("order"))?;
        let truck = view.truck_requests.iter().find(|r| r.truck_request_id == request);
        let truck = truck.filter(|t| may_follow(caller, &view.order.customer_id, &t.trip));
        let Some(truck) = truck else {
            // One answer for "no such truck" and "not yours", as for the order itself.
            return Err(if view.order.customer_id == caller.user_id {
                not_found("truck request")
            } else {
                not_found("order")
            });
        };
        self.track(caller, &format!("order/{order}/truck-request/{request}"), &truck.trip, query).await
    }

    async fn track(
        &self, caller: &Caller, trip_ref: &str, trip: &Trip, query: TrackQuery,
    ) -> Result<Listing<LocationPoint>, ServiceError> {
        let now = Utc::now();
        let window = trip.track_window(now);
        let truck = match &window {
            Some(w) => format!("{}@{}", w.transporter, w.started.timestamp_millis()),
            None => "none".to_owned(),
        };
        let scope = format!("{}\nGET track {trip_ref}\n{}\n{truck}", caller.user_id, query.scope());
        let after = self.opened(&scope, query.cursor.as_deref())?;
        let empty = Listing { items: Vec::new(), next_cursor: None };
        let Some(window) = window else { return Ok(empty) };
        let kept_since = now - Duration::days(HISTORY_RETENTION_DAYS);
        let from = [Some(window.started), query.since, Some(kept_since)].into_iter().flatten().max().unwrap_or(now);
        let until = query.until.map_or(window.ended, |until| until.min(window.ended));
        if from > until {
            return Ok(empty);
        }
        let range = TrackRange { from, until, limit: query.limit.get(), after: after.as_ref() };
        let page = self.store().track(&window.transporter, range).await?;
        Ok(self.listing(&scope, page))
    }
}

/// The customer who owns the trip, or the transporter who holds it (or held it to the end).
pub(crate) fn may_follow(caller: &Caller, owner: &UserId, trip: &Trip) -> bool {
    match caller.role {
        Role::Customer => &caller.user_id == owner,
        Role::Transporter => trip.accepted_by.as_ref() == Some(&caller.user_id),
    }
}
