//! Orders: what each transporter may see of an order, and who may accept its truck requests.

use crate::support::*;
use chrono::Utc;
use weelo_core::ServiceError;
use weelo_core::contract::requests::NewOrder;
use weelo_core::model::caller::Role;
use weelo_core::model::order::{TruckLine, TruckRequestStatus};
use weelo_core::model::trip::OfferTimes;
use weelo_core::model::vehicle::VehicleType;
use weelo_core::ports::{OfferStore, OfferSubject, OrderStore};
use weelo_core::testing::{MemoryStore, RecordingBus};
use weelo_core::usecases::api::{Create, Orders};

/// An order for 2 tippers (line 0) and 1 container (line 1), expanded into its truck requests as
/// order-fanout does.
async fn tipper_and_container_order(orders: &Orders<MemoryStore, RecordingBus>, store: &MemoryStore) -> String {
    let trucks = vec![
        TruckLine { vehicle_type: VehicleType::Tipper, quantity: 2 },
        TruckLine { vehicle_type: VehicleType::Container, quantity: 1 },
    ];
    let request = NewOrder { pickup: place(PICKUP), drop: place((18.52, 73.85)), trucks };
    let receipt = orders.create(Create::new(&customer("asha"), request, None)).await.unwrap().value;
    let order = store.get_order(receipt.order_id).await.unwrap().unwrap().order;
    store.put_truck_requests(&order.truck_requests(order.created_at, &OfferTimes::default())).await.unwrap();
    receipt.order_id.to_string()
}

#[tokio::test]
async fn a_transporter_sees_the_lines_offered_to_them_and_not_who_won_the_others_trucks() {
    // GIVEN an order whose tipper line is offered to Kiran and Meera, and Meera won one tipper
    let (store, bus) = (MemoryStore::new(), RecordingBus::default());
    on_the_road(&store, &["kiran", "meera"]).await;
    let orders = Orders::new(store.clone(), bus, OfferTimes::default());
    let id = tipper_and_container_order(&orders, &store).await;
    let order_id = weelo_core::model::ids::OrderId::parse(&id).unwrap();
    store.put_offers(OfferSubject::OrderLine(order_id, 0), &[user("kiran"), user("meera")], Utc::now()).await.unwrap();
    let view = orders.get(&caller("asha", Role::Customer), &id).await.unwrap();
    let tipper = view.truck_requests.iter().find(|r| r.line == 0).unwrap().truck_request_id.to_string();
    orders.accept_truck_request(&transporter("meera"), &id, &tipper).await.unwrap();

    // THEN the owner sees all three truck requests, and who won one
    let owners = orders.get(&caller("asha", Role::Customer), &id).await.unwrap();
    assert_eq!(owners.truck_requests.len(), 3);
    assert!(owners.truck_requests.iter().any(|r| r.trip.accepted_by == Some(user("meera"))));
    // AND Kiran sees the two tipper requests, one taken, without by whom
    let kirans = orders.get(&caller("kiran", Role::Transporter), &id).await.unwrap();
    assert_eq!(kirans.truck_requests.len(), 2);
    assert!(kirans.truck_requests.iter().all(|r| r.line == 0 && r.trip.accepted_by.is_none()));
    assert_eq!(kirans.truck_requests.iter().filter(|r| r.status() == TruckRequestStatus::Accepted).count(), 1);
    // AND Meera sees her own win
    let meeras = orders.get(&caller("meera", Role::Transporter), &id).await.unwrap();
    assert!(meeras.truck_requests.iter().any(|r| r.trip.accepted_by == Some(user("meera"))));
    // AND a transporter offered nothing, and another customer, are told it does not exist
    for (who, role) in [("vijay", Role::Transporter), ("ravi", Role::Customer)] {
        let seen = orders.get(&caller(who, role), &id).await;
        assert!(matches!(seen, Err(ServiceError::NotFound { what: "order" })), "{who}: {seen:?}");
    }
}

#[tokio::test]
async fn a_truck_request_of_a_line_not_offered_cannot_be_accepted_and_a_taken_one_is_a_conflict() {
    let (store, bus) = (MemoryStore::new(), RecordingBus::default());
    on_the_road(&store, &["kiran", "meera"]).await;
    let orders = Orders::new(store.clone(), bus.clone(), OfferTimes::default());
    let id = tipper_and_container_order(&orders, &store).await;
    let order_id = weelo_core::model::ids::OrderId::parse(&id).unwrap();
    store.put_offers(OfferSubject::OrderLine(order_id, 0), &[user("kiran"), user("meera")], Utc::now()).await.unwrap();
    let view = orders.get(&caller("asha", Role::Customer), &id).await.unwrap();
    let on_line = |line: u32| view.truck_requests.iter().find(|r| r.line == line).unwrap().truck_request_id.to_string();

    // WHEN Kiran tries the container line (not offered to him), then takes a tipper Meera then tries
    let container = orders.accept_truck_request(&transporter("kiran"), &id, &on_line(1)).await;
    orders.accept_truck_request(&transporter("kiran"), &id, &on_line(0)).await.unwrap();
    let taken = orders.accept_truck_request(&transporter("meera"), &id, &on_line(0)).await;

    // THEN the first is "not found", the last a conflict, and one acceptance was published
    assert!(matches!(container, Err(ServiceError::NotFound { what: "truck request" })), "{container:?}");
    assert!(matches!(taken, Err(ServiceError::Conflict { code: "truck_request_unavailable", .. })), "{taken:?}");
    assert_eq!(bus.of_type("com.weelo.order.truck-request-accepted.v1").len(), 1);
}
