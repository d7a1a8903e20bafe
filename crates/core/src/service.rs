//! The api's use cases. Each one checks the caller's role, validates its input completely before
//! touching anything (a rejected request writes nothing and publishes nothing), writes state and
//! events in one transaction, then publishes the events right away; what cannot be published now is
//! left in the outbox for the relay ([`relay_outbox`]).

use crate::booking::{Booking, BookingReceipt, BookingStatus};
use crate::caller::{Caller, Role};
use crate::device::{Device, DeviceReceipt};
use crate::error::ServiceError;
use crate::events::{
    BookingAccepted, BookingCancelled, DomainEvent, EventRecord, LocationUpdated, TruckRequestAccepted,
};
use crate::ids::{BookingId, DeviceId, EventId, OrderId, TruckRequestId};
use crate::location::Position;
use crate::order::{Order, OrderReceipt, OrderStatus, OrderView, TruckRequest, TruckRequestStatus};
use crate::ports::{
    CreateError, EventBus, IdempotencyRecord, OfferSubject, PushRegistrationError, PushRegistry, Store, StoreError,
    TransitionError,
};
use crate::requests::{
    self, CreateBookingRequest, CreateOrderRequest, RegisterDeviceRequest, TransporterProfileRequest,
};
use crate::transporter::TransporterProfile;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

/// CloudEvents `source` of everything the api publishes.
pub const API_EVENT_SOURCE: &str = "/weelo/api";

impl From<StoreError> for ServiceError {
    fn from(error: StoreError) -> Self {
        ServiceError::Internal(error.source.context("store"))
    }
}

/// The answer to a create call: whether it created something now or replayed an earlier answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Created<T> {
    pub value: T,
    pub replayed: bool,
}

/// The api's use cases over a store, an event bus and a push registry.
pub struct ApiService<S, B, P> {
    store: S,
    bus: B,
    push: P,
}

impl<S: Store, B: EventBus, P: PushRegistry> ApiService<S, B, P> {
    pub fn new(store: S, bus: B, push: P) -> Self {
        Self { store, bus, push }
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    pub fn bus(&self) -> &B {
        &self.bus
    }

    /// `POST /v1/bookings`.
    pub async fn create_booking(
        &self,
        caller: &Caller,
        body: &[u8],
        idempotency_key: Option<&str>,
    ) -> Result<Created<BookingReceipt>, ServiceError> {
        let customer = caller.require(Role::Customer)?;
        let now = Utc::now();
        let request = requests::decode::<CreateBookingRequest>(body)?.validate(now)?;
        let claim = IdempotencyClaim::new(caller, "create-booking", idempotency_key, &request)?;
        let booking = Booking {
            booking_id: BookingId::generate(),
            customer_id: customer.clone(),
            status: BookingStatus::Searching,
            pickup: request.pickup,
            drop: request.drop,
            vehicle_type: request.vehicle_type,
            scheduled_at: request.scheduled_at,
            created_at: now,
            accepted_by: None,
            accepted_at: None,
            cancelled_at: None,
        };
        let receipt = BookingReceipt { booking_id: booking.booking_id, status: booking.status, created_at: now };
        let events =
            [DomainEvent::BookingCreated(booking.clone()).to_record(EventId::generate(), API_EVENT_SOURCE, now)];
        let record = claim.map(|c| c.record(&receipt, now));
        match self.store.create_booking(&booking, &events, record.as_ref()).await {
            Ok(()) => {}
            Err(CreateError::IdempotencyKeyTaken) => return self.replay_taken_key(record.as_ref()).await,
            Err(CreateError::Store(e)) => return Err(e.into()),
        }
        self.publish_committed(&events).await;
        Ok(Created { value: receipt, replayed: false })
    }

    /// `GET /v1/bookings/{id}`: the owner, a transporter it was offered to, or the one who won it.
    pub async fn get_booking(&self, caller: &Caller, id: &str) -> Result<Booking, ServiceError> {
        let mut booking = self.visible_booking(caller, id).await?;
        // Offered transporters who lost see that it is taken, not by whom (as for order trucks).
        if caller.role == Role::Transporter && booking.accepted_by.as_ref() != Some(&caller.user_id) {
            booking.accepted_by = None;
            booking.accepted_at = None;
        }
        Ok(booking)
    }

    /// `POST /v1/bookings/{id}/accept`: the first offered transporter to accept wins; later ones get 409.
    pub async fn accept_booking(&self, caller: &Caller, id: &str) -> Result<Booking, ServiceError> {
        let transporter = caller.require(Role::Transporter)?;
        let id = BookingId::parse(id).map_err(|_| not_found("booking"))?;
        if !self.store.is_offered(OfferSubject::Booking(id), transporter).await? {
            return Err(not_found("booking"));
        }
        let mut booking = self.store.get_booking(id).await?.ok_or(not_found("booking"))?;
        if booking.status != BookingStatus::Searching {
            return Err(booking_unavailable(booking.status));
        }
        let now = Utc::now();
        booking.status = BookingStatus::Accepted;
        booking.accepted_by = Some(transporter.clone());
        booking.accepted_at = Some(now);
        let event = DomainEvent::BookingAccepted(BookingAccepted {
            booking_id: id,
            customer_id: booking.customer_id.clone(),
            transporter_id: transporter.clone(),
            vehicle_type: booking.vehicle_type,
            accepted_at: now,
        });
        let events = [event.to_record(EventId::generate(), API_EVENT_SOURCE, now)];
        match self.store.transition_booking(&booking, BookingStatus::Searching, &events).await {
            Ok(()) => {}
            Err(TransitionError::NotFound) => return Err(not_found("booking")),
            Err(TransitionError::Conflict) => return Err(self.current_booking_conflict(id).await),
            Err(TransitionError::Store(e)) => return Err(e.into()),
        }
        self.publish_committed(&events).await;
        Ok(booking)
    }

    /// `POST /v1/bookings/{id}/cancel`: the owner cancels a booking that is searching or accepted.
    /// Cancelling a cancelled booking answers it unchanged, so a retried cancel is harmless.
    pub async fn cancel_booking(&self, caller: &Caller, id: &str) -> Result<Booking, ServiceError> {
        let customer = caller.require(Role::Customer)?;
        let id = BookingId::parse(id).map_err(|_| not_found("booking"))?;
        let mut booking =
            self.store.get_booking(id).await?.filter(|b| &b.customer_id == customer).ok_or(not_found("booking"))?;
        if booking.status == BookingStatus::Cancelled {
            return Ok(booking);
        }
        let now = Utc::now();
        let previous = booking.status;
        booking.status = BookingStatus::Cancelled;
        booking.cancelled_at = Some(now);
        let event = DomainEvent::BookingCancelled(BookingCancelled {
            booking_id: id,
            customer_id: customer.clone(),
            previous_status: previous,
            accepted_by: booking.accepted_by.clone(),
            cancelled_at: now,
        });
        let events = [event.to_record(EventId::generate(), API_EVENT_SOURCE, now)];
        match self.store.transition_booking(&booking, previous, &events).await {
            Ok(()) => {}
            Err(TransitionError::NotFound) => return Err(not_found("booking")),
            // Accepted or cancelled in between: look again, so a concurrent cancel still answers 200.
            Err(TransitionError::Conflict) => {
                return Box::pin(self.cancel_booking(caller, &id.to_string())).await;
            }
            Err(TransitionError::Store(e)) => return Err(e.into()),
        }
        self.publish_committed(&events).await;
        Ok(booking)
    }

    /// `GET /v1/bookings/{id}/location`: where the assigned transporter was last seen.
    pub async fn booking_location(&self, caller: &Caller, id: &str) -> Result<Position, ServiceError> {
        let customer = caller.require(Role::Customer)?;
        let id = BookingId::parse(id).map_err(|_| not_found("booking"))?;
        let booking =
            self.store.get_booking(id).await?.filter(|b| &b.customer_id == customer).ok_or(not_found("booking"))?;
        let transporter = booking.accepted_by.ok_or(not_found("position"))?;
        self.store.latest_position(&transporter).await?.ok_or(not_found("position"))
    }

    /// `POST /v1/orders`.
    pub async fn create_order(
        &self,
        caller: &Caller,
        body: &[u8],
        idempotency_key: Option<&str>,
    ) -> Result<Created<OrderReceipt>, ServiceError> {
        let customer = caller.require(Role::Customer)?;
        let request = requests::decode::<CreateOrderRequest>(body)?.validate()?;
        let claim = IdempotencyClaim::new(caller, "create-order", idempotency_key, &request)?;
        let now = Utc::now();
        let trucks_requested = request.trucks_requested();
        let order = Order {
            order_id: OrderId::generate(),
            customer_id: customer.clone(),
            status: OrderStatus::Processing,
            pickup: request.pickup,
            drop: request.drop,
            trucks: request.trucks,
            trucks_requested,
            created_at: now,
        };
        let receipt = OrderReceipt { order_id: order.order_id, status: order.status, trucks_requested };
        let events = [DomainEvent::OrderCreated(order.clone()).to_record(EventId::generate(), API_EVENT_SOURCE, now)];
        let record = claim.map(|c| c.record(&receipt, now));
        match self.store.create_order(&order, &events, record.as_ref()).await {
            Ok(()) => {}
            Err(CreateError::IdempotencyKeyTaken) => return self.replay_taken_key(record.as_ref()).await,
            Err(CreateError::Store(e)) => return Err(e.into()),
        }
        self.publish_committed(&events).await;
        Ok(Created { value: receipt, replayed: false })
    }

    /// `GET /v1/orders/{id}`: the owner sees everything. A transporter sees the order with the
    /// truck requests of the lines offered to them or on which they won a truck (how the app, told
    /// of an offer by its push, finds a truck request to accept); who won the others is not theirs
    /// to know. Anyone else gets 404.
    pub async fn get_order(&self, caller: &Caller, id: &str) -> Result<OrderView, ServiceError> {
        let id = OrderId::parse(id).map_err(|_| not_found("order"))?;
        let mut view = self.store.get_order(id).await?.ok_or(not_found("order"))?;
        match caller.role {
            Role::Customer if view.order.customer_id == caller.user_id => Ok(view),
            Role::Customer => Err(not_found("order")),
            Role::Transporter => {
                let me = &caller.user_id;
                let lines = 0..view.order.trucks.len() as u32;
                // Per line: offered to the caller, or the caller won one of its trucks.
                let mut visible: Vec<bool> = futures::future::try_join_all(
                    lines.map(|line| self.store.is_offered(OfferSubject::OrderLine(id, line), me)),
                )
                .await?;
                for request in view.truck_requests.iter().filter(|r| r.accepted_by.as_ref() == Some(me)) {
                    if let Some(line) = visible.get_mut(request.line as usize) {
                        *line = true;
                    }
                }
                if !visible.contains(&true) {
                    return Err(not_found("order"));
                }
                view.truck_requests.retain(|r| visible.get(r.line as usize) == Some(&true));
                for request in view.truck_requests.iter_mut().filter(|r| r.accepted_by.as_ref() != Some(me)) {
                    request.accepted_by = None;
                    request.accepted_at = None;
                }
                Ok(view)
            }
        }
    }

    /// `POST /v1/orders/{id}/truck-requests/{trId}/accept`.
    pub async fn accept_truck_request(
        &self,
        caller: &Caller,
        order_id: &str,
        truck_request_id: &str,
    ) -> Result<TruckRequest, ServiceError> {
        let transporter = caller.require(Role::Transporter)?;
        let order_id = OrderId::parse(order_id).map_err(|_| not_found("truck request"))?;
        let truck_request_id = TruckRequestId::parse(truck_request_id).map_err(|_| not_found("truck request"))?;
        let view = self.store.get_order(order_id).await?.ok_or(not_found("truck request"))?;
        let mut request = view
            .truck_requests
            .into_iter()
            .find(|r| r.truck_request_id == truck_request_id)
            .ok_or(not_found("truck request"))?;
        // Not offered looks like not there: a transporter learns nothing of other people's orders.
        if !self.store.is_offered(OfferSubject::OrderLine(order_id, request.line), transporter).await? {
            return Err(not_found("truck request"));
        }
        if request.status != TruckRequestStatus::Open {
            return Err(truck_request_unavailable(request.status));
        }
        let now = Utc::now();
        request.status = TruckRequestStatus::Accepted;
        request.accepted_by = Some(transporter.clone());
        request.accepted_at = Some(now);
        let event = DomainEvent::TruckRequestAccepted(TruckRequestAccepted {
            order_id,
            truck_request_id,
            customer_id: view.order.customer_id,
            transporter_id: transporter.clone(),
            vehicle_type: request.vehicle_type,
            accepted_at: now,
        });
        let events = [event.to_record(EventId::generate(), API_EVENT_SOURCE, now)];
        match self.store.transition_truck_request(&request, TruckRequestStatus::Open, &events).await {
            Ok(()) => {}
            Err(TransitionError::NotFound) => return Err(not_found("truck request")),
            Err(TransitionError::Conflict) => {
                return Err(truck_request_unavailable(TruckRequestStatus::Accepted));
            }
            Err(TransitionError::Store(e)) => return Err(e.into()),
        }
        self.publish_committed(&events).await;
        Ok(request)
    }

    /// `PUT /v1/transporters/me`.
    pub async fn put_transporter_profile(
        &self,
        caller: &Caller,
        body: &[u8],
    ) -> Result<TransporterProfile, ServiceError> {
        let transporter = caller.require(Role::Transporter)?;
        let request = requests::decode::<TransporterProfileRequest>(body)?.validate()?;
        let profile = TransporterProfile {
            transporter_id: transporter.clone(),
            vehicle_types: request.vehicle_types,
            available: request.available,
            updated_at: Utc::now(),
        };
        self.store.put_profile(&profile).await?;
        Ok(profile)
    }

    /// `POST /v1/tracking/location`. GPS points skip the outbox: a point is worth little a few
    /// seconds later and the volume would cost a DynamoDB write each. The answer is 202 only once
    /// Kafka acknowledged every point; otherwise 503, and the app keeps its buffer and retries.
    pub async fn ingest_locations(&self, caller: &Caller, body: &[u8]) -> Result<usize, ServiceError> {
        let transporter = caller.require(Role::Transporter)?;
        let now = Utc::now();
        let points = requests::parse_location_body(body, now)?;
        let records: Vec<EventRecord> =
            points
                .into_iter()
                .map(|point| {
                    DomainEvent::LocationUpdated(LocationUpdated { transporter_id: transporter.clone(), point })
                        .to_record(EventId::generate(), API_EVENT_SOURCE, now)
                })
                .collect();
        self.bus.publish(&records).await.map_err(|error| {
            tracing::warn!(%error, points = records.len(), "location points not accepted: event stream unavailable");
            ServiceError::Unavailable { what: "the event stream" }
        })?;
        Ok(records.len())
    }

    /// `POST /v1/devices`: registers the caller's FCM token. The same token again answers the same device.
    pub async fn register_device(&self, caller: &Caller, body: &[u8]) -> Result<Created<DeviceReceipt>, ServiceError> {
        let request = requests::decode::<RegisterDeviceRequest>(body)?.validate()?;
        let owner = &caller.user_id;
        let device_id = DeviceId::derive(owner, &request.token);
        if self.store.get_device(owner, device_id).await?.is_some() {
            return Ok(Created { value: DeviceReceipt { device_id }, replayed: true });
        }
        let endpoint_arn = self.push.register_endpoint(request.platform, &request.token, owner).await.map_err(
            |error| match error {
                PushRegistrationError::InvalidToken(_) => ServiceError::Validation(crate::ValidationError::single(
                    "token",
                    "was rejected by the push service",
                )),
                PushRegistrationError::Unavailable(reason) => {
                    tracing::warn!(%reason, "push registry unavailable");
                    ServiceError::Unavailable { what: "the push service" }
                }
            },
        )?;
        let device = Device {
            user_id: owner.clone(),
            device_id,
            platform: request.platform,
            token: request.token,
            endpoint_arn,
            registered_at: Utc::now(),
        };
        let created = self.store.put_device_if_absent(&device).await?;
        Ok(Created { value: DeviceReceipt { device_id }, replayed: !created })
    }

    async fn visible_booking(&self, caller: &Caller, id: &str) -> Result<Booking, ServiceError> {
        let id = BookingId::parse(id).map_err(|_| not_found("booking"))?;
        let booking = self.store.get_booking(id).await?.ok_or(not_found("booking"))?;
        let visible = match caller.role {
            Role::Customer => booking.customer_id == caller.user_id,
            Role::Transporter => {
                booking.accepted_by.as_ref() == Some(&caller.user_id)
                    || self.store.is_offered(OfferSubject::Booking(id), &caller.user_id).await?
            }
        };
        if visible { Ok(booking) } else { Err(not_found("booking")) }
    }

    async fn current_booking_conflict(&self, id: BookingId) -> ServiceError {
        match self.store.get_booking(id).await {
            Ok(Some(booking)) => booking_unavailable(booking.status),
            Ok(None) => not_found("booking"),
            Err(error) => error.into(),
        }
    }

    /// Answers a request whose `Idempotency-Key` an earlier request holds: that request's answer if
    /// it was the same request, else 409. The write is tried first and the record read only when the
    /// key turns out taken, so a first request (nearly all of them) costs no read.
    async fn replay_taken_key<T: DeserializeOwned>(
        &self,
        record: Option<&IdempotencyRecord>,
    ) -> Result<Created<T>, ServiceError> {
        let record =
            record.ok_or_else(|| ServiceError::internal(anyhow::anyhow!("idempotency conflict without a key")))?;
        // Valid at this request's time, as the write's condition judged it: the two agree.
        let stored = self
            .store
            .get_idempotency(&record.scoped_key, record.created_at)
            .await?
            .ok_or_else(|| ServiceError::internal(anyhow::anyhow!("idempotency record vanished")))?;
        IdempotencyClaim { scoped_key: record.scoped_key.clone(), request_hash: record.request_hash.clone() }
            .replay(&stored)
    }

    /// Publishes events that are already committed to the outbox, and marks them sent. A failure is
    /// not the caller's problem: the events stay pending and the relay publishes them later.
    async fn publish_committed(&self, events: &[EventRecord]) {
        match self.bus.publish(events).await {
            Ok(()) => {
                let ids: Vec<EventId> = events.iter().map(|e| e.event_id).collect();
                if let Err(error) = self.store.mark_sent(&ids).await {
                    tracing::warn!(%error, "published events not marked sent; the relay will publish them again");
                }
            }
            Err(error) => {
                tracing::warn!(%error, count = events.len(), "events left in the outbox for the relay")
            }
        }
    }
}

/// An `Idempotency-Key` scoped to its user and operation, with the fingerprint of the request.
struct IdempotencyClaim {
    scoped_key: String,
    request_hash: String,
}

impl IdempotencyClaim {
    fn new(
        caller: &Caller,
        operation: &str,
        key: Option<&str>,
        request: &impl Serialize,
    ) -> Result<Option<Self>, ServiceError> {
        let Some(key) = key else { return Ok(None) };
        let key = requests::parse_idempotency_key(key)?;
        // The validated request, not the raw bytes: the same request with other whitespace is the same request.
        let canonical = serde_json::to_vec(request).map_err(ServiceError::internal)?;
        let request_hash = Sha256::digest(&canonical).iter().map(|b| format!("{b:02x}")).collect();
        Ok(Some(Self { scoped_key: format!("{}#{operation}#{key}", caller.user_id), request_hash }))
    }

    fn record(self, receipt: &impl Serialize, now: DateTime<Utc>) -> IdempotencyRecord {
        IdempotencyRecord {
            scoped_key: self.scoped_key,
            request_hash: self.request_hash,
            receipt: serde_json::to_string(receipt).expect("receipts serialise to JSON"),
            created_at: now,
        }
    }

    fn replay<T: DeserializeOwned>(&self, stored: &IdempotencyRecord) -> Result<Created<T>, ServiceError> {
        if stored.request_hash != self.request_hash {
            return Err(ServiceError::Conflict {
                code: "idempotency_key_reused",
                message: "this Idempotency-Key was already used with a different request".into(),
            });
        }
        let value = serde_json::from_str(&stored.receipt).map_err(ServiceError::internal)?;
        Ok(Created { value, replayed: true })
    }
}

/// What one relay pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RelayReport {
    pub published: usize,
    pub failed: usize,
}

/// Publishes outbox events older than `grace` that are still unsent (the api could not publish
/// them, or crashed before it could), oldest first, and marks them sent. The grace period keeps
/// the relay from racing the api's own publish of events it has just written.
pub async fn relay_outbox<S, B>(
    store: &S,
    bus: &B,
    grace: chrono::Duration,
    page_size: usize,
) -> Result<RelayReport, StoreError>
where
    S: crate::ports::Outbox + ?Sized,
    B: EventBus + ?Sized,
{
    let cutoff = Utc::now() - grace;
    let mut report = RelayReport::default();
    loop {
        let page = store.pending(cutoff, page_size).await?;
        if page.is_empty() {
            return Ok(report);
        }
        match bus.publish(&page).await {
            Ok(()) => {
                let ids: Vec<EventId> = page.iter().map(|e| e.event_id).collect();
                store.mark_sent(&ids).await?;
                report.published += page.len();
            }
            Err(error) => {
                tracing::warn!(%error, pending = page.len(), "relay could not publish; will retry on the next run");
                report.failed += page.len();
                return Ok(report);
            }
        }
        if page.len() < page_size {
            return Ok(report);
        }
    }
}

fn not_found(what: &'static str) -> ServiceError {
    ServiceError::NotFound { what }
}

fn booking_unavailable(status: BookingStatus) -> ServiceError {
    ServiceError::Conflict {
        code: "booking_unavailable",
        message: format!("the booking is already {}", status.as_str()),
    }
}

fn truck_request_unavailable(status: TruckRequestStatus) -> ServiceError {
    let state = match status {
        TruckRequestStatus::Open => "open",
        TruckRequestStatus::Accepted => "accepted",
        TruckRequestStatus::Cancelled => "cancelled",
    };
    ServiceError::Conflict {
        code: "truck_request_unavailable",
        message: format!("the truck request is already {state}"),
    }
}
