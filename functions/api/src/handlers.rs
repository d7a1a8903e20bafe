//! The edge of each route: the role it needs, its body or query string decoded and validated into
//! the use case's command (in that order: 403 before 400), the use case, and the answer's status.

use crate::respond;
use crate::router::Route;
use chrono::Utc;
use lambda_http::{Body, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use weelo_core::contract::cursor::CursorKey;
use weelo_core::contract::requests::{
    CreateBookingRequest, CreateOrderRequest, IdempotencyKey, ListQuery, OfferQuery, RegisterDeviceRequest, TrackQuery,
    TransporterProfileRequest, decode, parse_location_body,
};
use weelo_core::model::caller::{Caller, Customer};
use weelo_core::model::order::OrderStatus;
use weelo_core::model::trip::{OfferTimes, TripStatus};
use weelo_core::usecases::api::{Bookings, Create, Created, Devices, Lists, Orders, Profiles, Shares, TrackingIngest};
use weelo_core::{ServiceError, ValidationError};
use weelo_dynamo::DynamoStore;
use weelo_kafka::KafkaEventBus;
use weelo_sns::SnsPushRegistry;

/// The api's use cases over the adapters, built once per cold start.
pub(crate) struct UseCases {
    pub(crate) bookings: Bookings<DynamoStore, KafkaEventBus>,
    pub(crate) orders: Orders<DynamoStore, KafkaEventBus>,
    pub(crate) devices: Devices<DynamoStore, SnsPushRegistry>,
    pub(crate) profiles: Profiles<DynamoStore>,
    pub(crate) tracking: TrackingIngest<KafkaEventBus>,
    pub(crate) lists: Lists<DynamoStore>,
    pub(crate) shares: Shares<DynamoStore>,
}

impl UseCases {
    pub(crate) fn new(
        store: &DynamoStore, bus: &KafkaEventBus, push: SnsPushRegistry, times: OfferTimes, cursor_key: CursorKey,
        shares: (String, chrono::Duration),
    ) -> Self {
        Self {
            bookings: Bookings::new(store.clone(), bus.clone(), times),
            orders: Orders::new(store.clone(), bus.clone(), times),
            devices: Devices::new(store.clone(), push),
            profiles: Profiles::new(store.clone()),
            tracking: TrackingIngest::new(bus.clone()),
            shares: Shares::new(store.clone(), cursor_key.clone(), shares.0, shares.1),
            lists: Lists::new(store.clone(), cursor_key, times),
        }
    }
}

/// What a request carries besides its route and caller.
pub(crate) struct Input<'a> {
    pub(crate) body: &'a [u8],
    /// The query string, without `?` (empty when none).
    pub(crate) query: &'a str,
    pub(crate) idempotency_key: Option<&'a str>,
}

/// Runs `route` for `caller` with this input: the route table. Routes needing more than the
/// use case's call get a method of [`Call`], grouped by what they act on.
pub(crate) async fn handle(
    app: &UseCases, route: Route<'_>, caller: &Caller, input: Input<'_>,
) -> Result<Response<Body>, ServiceError> {
    let call = Call { app, caller, input };
    Ok(match route {
        // Answered before authentication (app.rs); here for completeness.
        Route::Health | Route::TrackPage => respond::json(200, &serde_json::json!({ "status": "ok" })),
        Route::RegisterDevice => call.register_device().await?,
        Route::DeleteDevice(id) => {
            app.devices.delete(caller, id).await?;
            respond::no_content()
        }
        Route::PutTransporterProfile => call.put_profile().await?,
        Route::IngestLocation => call.ingest_location().await?,
        Route::ListOffers => call.list_offers().await?,
        Route::ListTrips => call.list_trips().await?,
        Route::CreateBooking => call.create_booking().await?,
        Route::ListBookings => call.list_bookings().await?,
        Route::GetBooking(id) => respond::json(200, &app.bookings.get(caller, id).await?),
        Route::AcceptBooking(id) => respond::json(200, &app.bookings.accept(&caller.transporter()?, id).await?),
        Route::CancelBooking(id) => respond::json(200, &app.bookings.cancel(&caller.customer()?, id).await?),
        Route::BookingStep(id, step) => {
            respond::json(200, &app.bookings.advance(&caller.transporter()?, id, step).await?)
        }
        Route::BookingLocation(id) => respond::json(200, &app.bookings.location(&caller.customer()?, id).await?),
        Route::BookingTrack(id) => call.booking_track(id).await?,
        Route::ShareBooking(id) => respond::json(201, &app.shares.create(&caller.customer()?, id).await?),
        Route::RevokeShare { booking, share } => {
            app.shares.revoke(&caller.customer()?, booking, share).await?;
            respond::no_content()
        }
        Route::CreateOrder => call.create_order().await?,
        Route::ListOrders => call.list_orders().await?,
        Route::GetOrder(id) => respond::json(200, &app.orders.get(caller, id).await?),
        Route::CancelOrder(id) => respond::json(200, &app.orders.cancel(&caller.customer()?, id).await?),
        Route::AcceptTruckRequest { order, truck_request } => {
            let transporter = caller.transporter()?;
            respond::json(200, &app.orders.accept_truck_request(&transporter, order, truck_request).await?)
        }
        Route::TruckTrack { order, truck_request } => call.truck_track(order, truck_request).await?,
        Route::TruckStep { order, truck_request, step } => {
            let transporter = caller.transporter()?;
            respond::json(200, &app.orders.advance_truck(&transporter, order, truck_request, step).await?)
        }
    })
}

/// One request on its way to a use case.
struct Call<'a> {
    app: &'a UseCases,
    caller: &'a Caller,
    input: Input<'a>,
}

type Answer = Result<Response<Body>, ServiceError>;

/// The caller's own things: phones, transporter profile, GPS, offers and trips.
impl Call<'_> {
    async fn register_device(&self) -> Answer {
        let device = decode::<RegisterDeviceRequest>(self.input.body)?.validate()?;
        Ok(created_or_ok(self.app.devices.register(self.caller, device).await?, 201, 200))
    }

    async fn put_profile(&self) -> Answer {
        let transporter = self.caller.transporter()?;
        let update = decode::<TransporterProfileRequest>(self.input.body)?.validate()?;
        Ok(respond::json(200, &self.app.profiles.put(&transporter, update).await?))
    }

    async fn ingest_location(&self) -> Answer {
        let transporter = self.caller.transporter()?;
        let points = parse_location_body(self.input.body, Utc::now())?;
        let accepted = self.app.tracking.ingest(&transporter, points).await?;
        Ok(respond::json(202, &serde_json::json!({ "accepted": accepted })))
    }

    async fn list_offers(&self) -> Answer {
        let transporter = self.caller.transporter()?;
        let query = OfferQuery::parse(self.input.query)?;
        Ok(respond::json(200, &self.app.lists.offers(&transporter, query).await?))
    }

    async fn list_trips(&self) -> Answer {
        let transporter = self.caller.transporter()?;
        // No `status` parameter: a transporter's trips are few, and the one they hold is first.
        let query = self.list_query(&[])?;
        Ok(respond::json(200, &self.app.lists.trips(&transporter, query).await?))
    }

    /// The query string as a list's page and filter (`status` one of `statuses`; none: no filter).
    fn list_query<St: Copy + Ord + std::fmt::Display>(&self, statuses: &[St]) -> Result<ListQuery<St>, ServiceError> {
        Ok(ListQuery::parse(self.input.query, statuses)?)
    }

    /// A customer's new booking or order: the role, then the body decoded and validated into the
    /// command, then the `Idempotency-Key` header.
    fn customer_command<R: DeserializeOwned, C>(
        &self, validate: impl FnOnce(R) -> Result<C, ValidationError>,
    ) -> Result<(Customer, C, Option<IdempotencyKey>), ServiceError> {
        let customer = self.caller.customer()?;
        let command = validate(decode::<R>(self.input.body)?)?;
        let key = self.input.idempotency_key.map(IdempotencyKey::parse).transpose()?;
        Ok((customer, command, key))
    }

    /// A customer's list of their bookings or orders: the role first, so a caller who may not list
    /// them learns nothing about the query; then the page and filter (`status` one of `statuses`).
    fn customer_list<St: Copy + Ord + std::fmt::Display>(
        &self, statuses: &[St],
    ) -> Result<(Customer, ListQuery<St>), ServiceError> {
        Ok((self.caller.customer()?, self.list_query(statuses)?))
    }
}

/// Bookings and orders: creating, listing and tracking them.
impl Call<'_> {
    async fn create_booking(&self) -> Answer {
        let (customer, booking, key) =
            self.customer_command(|request: CreateBookingRequest| request.validate(Utc::now()))?;
        Ok(created_or_ok(self.app.bookings.create(Create::new(&customer, booking, key.as_ref())).await?, 201, 201))
    }

    async fn list_bookings(&self) -> Answer {
        let (customer, query) = self.customer_list(&TripStatus::ALL)?;
        Ok(respond::json(200, &self.app.lists.bookings(&customer, query).await?))
    }

    async fn booking_track(&self, id: &str) -> Answer {
        let query = TrackQuery::parse(self.input.query)?;
        Ok(respond::json(200, &self.app.lists.booking_track(self.caller, id, query).await?))
    }

    async fn create_order(&self) -> Answer {
        let (customer, order, key) = self.customer_command(CreateOrderRequest::validate)?;
        Ok(created_or_ok(self.app.orders.create(Create::new(&customer, order, key.as_ref())).await?, 201, 201))
    }

    async fn list_orders(&self) -> Answer {
        let (customer, query) = self.customer_list(&OrderStatus::ALL)?;
        Ok(respond::json(200, &self.app.lists.orders(&customer, query).await?))
    }

    async fn truck_track(&self, order: &str, truck_request: &str) -> Answer {
        let query = TrackQuery::parse(self.input.query)?;
        Ok(respond::json(200, &self.app.lists.truck_track(self.caller, order, truck_request, query).await?))
    }
}

/// A created resource answers `created`; a replay (same idempotency key, or a device registered
/// before) answers `replayed` and says so in `Idempotent-Replayed`.
fn created_or_ok<T: Serialize>(created: Created<T>, created_status: u16, replayed_status: u16) -> Response<Body> {
    let mut response = respond::json(if created.replayed { replayed_status } else { created_status }, &created.value);
    if created.replayed {
        response.headers_mut().insert("idempotent-replayed", http::HeaderValue::from_static("true"));
    }
    response
}
