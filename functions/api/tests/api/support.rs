//! What the api's tests share: the real `api` application started in-process against the running
//! local stack (Kafka, the DynamoDB emulator, moto for SNS), fed API Gateway HTTP API v2 events
//! exactly as Lambda delivers them (`weelo_testkit::api`), and the request bodies they send. Every
//! test makes its own users and resources (unique ids), so tests run in parallel and against a
//! stack that already holds other data.
//!
//! The environment comes from `.local/stack.env` (exported by `make test`). Set `WEELO_TEST_LOG`
//! (e.g. `debug`) to see the application's logs.

use serde_json::{Value, json};
pub use weelo_testkit::api::{Answer, ApiClient, User};
pub use weelo_testkit::{cloud_event, records_matching, records_of_type, records_with_key, token_for, unique};

/// CloudEvents types of booking events (all on `booking.events`).
pub const CREATED: &str = "com.weelo.booking.created.v1";
pub const ACCEPTED: &str = "com.weelo.booking.accepted.v1";
pub const CANCELLED: &str = "com.weelo.booking.cancelled.v1";

/// The api, in this process, publishing patiently: tests look for what it published.
pub async fn spawn_app() -> ApiClient {
    ApiClient::in_process_publishing_patiently().await
}

/// The same code as the `gps-ingest` function runs it (`API_ROUTES=gps-ingest`), publishing
/// patiently as [`spawn_app`] does.
pub async fn spawn_gps_ingest() -> ApiClient {
    let settings = weelo_testkit::api::patient_settings();
    ApiClient::in_process_with(&weelo_api::Settings { routes: weelo_api::router::Served::GpsIngest, ..settings }).await
}

pub fn booking_body() -> Value {
    json!({
        "pickup": { "lat": 19.0760, "lng": 72.8777, "address": "Andheri East, Mumbai" },
        "drop": { "lat": 18.5204, "lng": 73.8567 },
        "vehicleType": "tipper"
    })
}

pub fn order_body() -> Value {
    json!({
        "pickup": { "lat": 19.0760, "lng": 72.8777 },
        "drop": { "lat": 18.5204, "lng": 73.8567 },
        "trucks": [
            { "vehicleType": "tipper", "quantity": 2 },
            { "vehicleType": "container", "quantity": 1 }
        ]
    })
}

/// An order of `owner`'s (`body`) expanded into its truck requests and marked open, as
/// order-fanout does, with its first line offered to `driver`.
pub async fn order_offered_to(
    app: &ApiClient, owner: &User, body: Value, driver: &User,
) -> weelo_core::model::ids::OrderId {
    use weelo_core::model::order::OrderStatus;
    use weelo_core::ports::{OfferStore, OfferSubject, OrderStore};
    let created = app.call("POST", "/v1/orders", Some(owner), Some(body)).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let order = weelo_core::model::ids::OrderId::parse(created.body["orderId"].as_str().unwrap()).unwrap();
    let store = &app.app().store;
    let view = store.get_order(order).await.unwrap().unwrap();
    let now = chrono::Utc::now();
    store
        .put_truck_requests(&view.order.truck_requests(now, &weelo_core::model::trip::OfferTimes::default()))
        .await
        .unwrap();
    store.put_offers(OfferSubject::OrderLine(order, 0), &[driver.user_id()], now).await.unwrap();
    assert!(store.set_order_status(order, OrderStatus::Processing, OrderStatus::Open).await.unwrap());
    order
}
