//! The edge of each route: the role it needs, its body or query string decoded and validated into
//! the use case's command (in that order: 403 before 400), the use case, and the answer's status.

use crate::respond;
use crate::router::Route;
use chrono::Utc;
use lambda_http::{Body, Response};
use serde::Serialize;
use weelo_core::ServiceError;
use weelo_core::contract::cursor::CursorKey;
use weelo_core::contract::requests::{
    CreateBookingRequest, CreateOrderRequest, IdempotencyKey, ListQuery, OfferQuery, RegisterDeviceRequest, TrackQuery,
    TransporterProfileRequest, decode, parse_location_body,
};
use weelo_core::model::caller::Caller;
use weelo_core::model::order::OrderStatus;
use weelo_core::model::trip::{OfferTimes, TripStatus};
use weelo_core::usecases::api::{Bookings, Created, Devices, Lists, Orders, Profiles, Shares, TrackingIngest};
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
        store: &DynamoStore,
        bus: &KafkaEventBus,
        push: SnsPushRegistry,
        times: OfferTimes,
        cursor_key: CursorKey,
        shares: (String, chrono::Duration),
    ) -> Self {
        Self {
            bookings: Bookings::new(store.clone(), bus.clone(), times),
            orders: Orders::new(store.clone(), bus.clone(), times),
            devices: Devices::new(store.clone(), push),
            profiles: Profiles::new(store.clone()),
            tracking: TrackingIngest::new(bus.clone()),
            shares: Shares::new(store.clone(), cursor_key.clone(), shares.0, shares.1),
            lists: Lists::new(store.clone(), cursor_key),
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

/// Runs `route` for `caller` with this input.
pub(crate) async fn handle(
    app: &UseCases,
    route: Route<'_>,
    caller: &Caller,
    input: Input<'_>,
) -> Result<Response<Body>, ServiceError> {
    let Input { body, query, idempotency_key } = input;
    let key = || idempotency_key.map(IdempotencyKey::parse).transpose();
    Ok(match route {
        // Answered before authentication (app.rs); here for completeness.
        Route::Health | Route::TrackPage => respond::json(200, &serde_json::json!({ "status": "ok" })),
        Route::RegisterDevice => {
            let device = decode::<RegisterDeviceRequest>(body)?.validate()?;
            created_or_ok(app.devices.register(caller, device).await?, 201, 200)
        }
        Route::DeleteDevice(id) => {
            app.devices.delete(caller, id).await?;
            respond::no_content()
        }
        Route::PutTransporterProfile => {
            let transporter = caller.transporter()?;
            let update = decode::<TransporterProfileRequest>(body)?.validate()?;
            respond::json(200, &app.profiles.put(&transporter, update).await?)
        }
        Route::IngestLocation => {
            let transporter = caller.transporter()?;
            let points = parse_location_body(body, Utc::now())?;
            let accepted = app.tracking.ingest(&transporter, points).await?;
            respond::json(202, &serde_json::json!({ "accepted": accepted }))
        }
        Route::CreateBooking => {
            let customer = caller.customer()?;
            let booking = decode::<CreateBookingRequest>(body)?.validate(Utc::now())?;
            created_or_ok(app.bookings.create(&customer, booking, key()?.as_ref()).await?, 201, 201)
        }
        Route::ListBookings => {
            let customer = caller.customer()?;
            let query = ListQuery::parse(query, &TripStatus::ALL)?;
            respond::json(200, &app.lists.bookings(&customer, query).await?)
        }
        Route::GetBooking(id) => respond::json(200, &app.bookings.get(caller, id).await?),
        Route::AcceptBooking(id) => respond::json(200, &app.bookings.accept(&caller.transporter()?, id).await?),
        Route::CancelBooking(id) => respond::json(200, &app.bookings.cancel(&caller.customer()?, id).await?),
        Route::BookingStep(id, step) => {
            respond::json(200, &app.bookings.advance(&caller.transporter()?, id, step).await?)
        }
        Route::BookingLocation(id) => respond::json(200, &app.bookings.location(&caller.customer()?, id).await?),
        Route::BookingTrack(id) => {
            let query = TrackQuery::parse(query)?;
            respond::json(200, &app.lists.booking_track(caller, id, query).await?)
        }
        Route::ShareBooking(id) => respond::json(201, &app.shares.create(&caller.customer()?, id).await?),
        Route::RevokeShare { booking, share } => {
            app.shares.revoke(&caller.customer()?, booking, share).await?;
            respond::no_content()
        }
        Route::ListOffers => {
            let transporter = caller.transporter()?;
            let query = OfferQuery::parse(query)?;
            respond::json(200, &app.lists.offers(&transporter, query).await?)
        }
        Route::ListTrips => {
            let transporter = caller.transporter()?;
            // No `status` parameter: a transporter's trips are few, and the one they hold is first.
            let query = ListQuery::parse(query, &[])?;
            respond::json(200, &app.lists.trips(&transporter, query).await?)
        }
        Route::CreateOrder => {
            let customer = caller.customer()?;
            let order = decode::<CreateOrderRequest>(body)?.validate()?;
            created_or_ok(app.orders.create(&customer, order, key()?.as_ref()).await?, 201, 201)
        }
        Route::ListOrders => {
            let customer = caller.customer()?;
            let query = ListQuery::parse(query, &OrderStatus::ALL)?;
            respond::json(200, &app.lists.orders(&customer, query).await?)
        }
        Route::GetOrder(id) => respond::json(200, &app.orders.get(caller, id).await?),
        Route::CancelOrder(id) => respond::json(200, &app.orders.cancel(&caller.customer()?, id).await?),
        Route::AcceptTruckRequest { order, truck_request } => {
            let transporter = caller.transporter()?;
            respond::json(200, &app.orders.accept_truck_request(&transporter, order, truck_request).await?)
        }
        Route::TruckTrack { order, truck_request } => {
            let query = TrackQuery::parse(query)?;
            respond::json(200, &app.lists.truck_track(caller, order, truck_request, query).await?)
        }
        Route::TruckStep { order, truck_request, step } => {
            let transporter = caller.transporter()?;
            respond::json(200, &app.orders.advance_truck(&transporter, order, truck_request, step).await?)
        }
    })
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
