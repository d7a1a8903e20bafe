//! [`LiveSocket`]: the WebSocket API's authorizer (for shared links; JWTs are verified by the
//! function with the HTTP API's verifier) and its routes.

use super::{active_truck, has_ended};
use crate::contract::cursor::CursorKey;
use crate::contract::live::{ClientRequest, ShareTokenError, open_share_token};
use crate::error::ServiceError;
use crate::model::caller::Caller;
use crate::model::ids::{BookingId, OrderId};
use crate::model::live::{
    CONNECTION_LIFETIME_SECS, ConnectionId, LiveConnection, LiveMessage, Subject, TripSnapshot, Watcher,
};
use crate::model::trip::{Trip, TripRef};
use crate::ports::{BookingStore, LiveStore, OrderStore, ShareStore, StoreError, TransporterStore};
use crate::usecases::api::tracks::may_follow;
use chrono::{DateTime, Duration, Utc};

/// Why a shared link may not connect. All of them look the same to the client (403).
#[derive(Debug, thiserror::Error)]
pub enum ShareRefusal {
    #[error(transparent)]
    Token(#[from] ShareTokenError),
    #[error("revoked")]
    Revoked,
    #[error("the trip has ended")]
    Ended,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A trip a subscriber may watch, as read now: where it goes and who drives it.
struct Visible {
    trip: TripRef,
    state: Trip,
    pickup: crate::model::geo::Place,
    drop: crate::model::geo::Place,
}

pub struct LiveSocket<S> {
    store: S,
    key: CursorKey,
}

impl<S: BookingStore + OrderStore + TransporterStore + LiveStore + ShareStore> LiveSocket<S> {
    pub fn new(store: S, key: CursorKey) -> Self {
        Self { store, key }
    }

    /// The viewer a share token admits: sealed by our key, not expired, not revoked, and its
    /// trip not over.
    pub async fn admit_share(&self, token: &str, now: DateTime<Utc>) -> Result<Watcher, ShareRefusal> {
        let share = open_share_token(&self.key, token, now)?;
        let link = self.store.get_share(&share).await?.ok_or(ShareRefusal::Revoked)?;
        if link.expires_at <= now {
            return Err(ShareTokenError::Expired.into());
        }
        let booking = self.store.get_booking(link.booking_id).await?.ok_or(ShareRefusal::Revoked)?;
        if has_ended(booking.status()) {
            return Err(ShareRefusal::Ended);
        }
        Ok(Watcher::Viewer { share, booking: link.booking_id })
    }

    /// `$connect`, once the authorizer admitted `watcher`.
    pub async fn connect(&self, id: ConnectionId, watcher: Watcher, now: DateTime<Utc>) -> Result<(), StoreError> {
        let expires_at = now + Duration::seconds(CONNECTION_LIFETIME_SECS);
        self.store.put_connection(&LiveConnection { id, watcher, expires_at }).await
    }

    /// `$disconnect`.
    pub async fn disconnect(&self, id: &ConnectionId) -> Result<(), StoreError> {
        self.store.forget_connection(id).await
    }

    /// A message from the client (`subscribe`, `unsubscribe`, anything else): the answer sent back.
    pub async fn message(&self, id: &ConnectionId, body: &str) -> Result<LiveMessage, StoreError> {
        let Some(connection) = self.store.get_connection(id).await? else {
            return Ok(error("this connection is not known; connect again"));
        };
        let request = match ClientRequest::parse(body) {
            Ok(request) => request,
            Err(problem) => {
                let detail = problem.details.first().map(|d| format!("{} {}", d.field, d.problem));
                return Ok(error(&detail.unwrap_or_default()));
            }
        };
        let outcome = match request {
            ClientRequest::Subscribe(subject) => self.subscribe(&connection, subject).await,
            ClientRequest::Unsubscribe(subject) => self.unsubscribe(&connection, subject).await,
        };
        match outcome {
            Ok(message) => Ok(message),
            Err(ServiceError::Internal(source)) => Err(StoreError::new(true, source)),
            Err(refused) => Ok(error(&refused.to_string())),
        }
    }

    async fn subscribe(&self, connection: &LiveConnection, subject: Subject) -> Result<LiveMessage, ServiceError> {
        let before = self.visible(&connection.watcher, subject).await?;
        for trip in &before {
            self.store.watch(connection, &trip.trip, active_truck(&trip.state)).await?;
        }
        // Read again after the watches are written: an acceptance committed in between is either
        // seen here or its event finds the watch (module docs).
        let now_visible = self.visible(&connection.watcher, subject).await?;
        let mut trips = Vec::with_capacity(now_visible.len());
        for trip in now_visible {
            let truck = active_truck(&trip.state);
            let was = before.iter().find(|b| b.trip == trip.trip).and_then(|b| active_truck(&b.state));
            if was != truck {
                self.store.assign_watch(&connection.id, &trip.trip, truck).await?;
            }
            let position = match (truck, trip.state.accepted_at) {
                (Some(truck), Some(since)) => {
                    let latest = self.store.latest_position(truck).await?;
                    latest.map(|p| p.point).filter(|point| point.recorded_at >= since)
                }
                _ => None,
            };
            if let Some(point) = &position {
                self.store.mark_sent(&connection.id, &trip.trip, point.recorded_at.timestamp_millis()).await?;
            }
            let (status, pickup, drop) = (trip.state.status, trip.pickup, trip.drop);
            trips.push(TripSnapshot { trip: trip.trip, status, pickup, drop, position });
        }
        Ok(LiveMessage::Subscribed { trips })
    }

    async fn unsubscribe(&self, connection: &LiveConnection, subject: Subject) -> Result<LiveMessage, ServiceError> {
        let trips: Vec<TripRef> =
            self.visible(&connection.watcher, subject).await?.into_iter().map(|visible| visible.trip).collect();
        for trip in &trips {
            self.store.unwatch(&connection.id, trip).await?;
        }
        Ok(LiveMessage::Unsubscribed { trips })
    }

    /// The trips of `subject` that `watcher` may follow: the rule of the HTTP API's location and
    /// track routes (the customer who owns them, the transporter who holds them), and for a
    /// shared link its booking only. Anything else is "not found", as over HTTP.
    async fn visible(&self, watcher: &Watcher, subject: Subject) -> Result<Vec<Visible>, ServiceError> {
        match (watcher, subject) {
            (Watcher::Viewer { booking, .. }, Subject::Shared) => self.booking(*booking, None).await,
            (Watcher::Viewer { booking, .. }, Subject::Booking(id)) if *booking == id => self.booking(id, None).await,
            (Watcher::Viewer { .. }, _) => Err(not_found("booking")),
            (Watcher::User(_), Subject::Shared) => Err(not_found("shared link")),
            (Watcher::User(caller), Subject::Booking(id)) => self.booking(id, Some(caller)).await,
            (Watcher::User(caller), Subject::Order(id)) => self.order(id, caller).await,
        }
    }

    async fn booking(&self, id: BookingId, caller: Option<&Caller>) -> Result<Vec<Visible>, ServiceError> {
        let booking = self.store.get_booking(id).await?.ok_or(not_found("booking"))?;
        if caller.is_some_and(|caller| !may_follow(caller, &booking.customer_id, &booking.trip)) {
            return Err(not_found("booking"));
        }
        let (pickup, drop) = (booking.pickup, booking.drop);
        Ok(vec![Visible { trip: TripRef::Booking(id), state: booking.trip, pickup, drop }])
    }

    async fn order(&self, id: OrderId, caller: &Caller) -> Result<Vec<Visible>, ServiceError> {
        let view = self.store.get_order(id).await?.ok_or(not_found("order"))?;
        let (order, requests) = (view.order, view.truck_requests);
        let visible: Vec<Visible> = requests
            .into_iter()
            .filter(|request| may_follow(caller, &order.customer_id, &request.trip))
            .map(|request| Visible {
                trip: TripRef::TruckRequest(id, request.truck_request_id),
                state: request.trip,
                pickup: order.pickup.clone(),
                drop: order.drop.clone(),
            })
            .collect();
        if visible.is_empty() { Err(not_found("order")) } else { Ok(visible) }
    }
}

fn not_found(what: &'static str) -> ServiceError {
    ServiceError::NotFound { what }
}

fn error(message: &str) -> LiveMessage {
    LiveMessage::Error { message: message.to_owned() }
}
