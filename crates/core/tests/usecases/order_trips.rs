//! Orders through their trucks' trips: cancelled with some trucks assigned, fulfilled then
//! completed, a line nobody takes expiring (told once per line), a released truck offered again,
//! and what a cancelled order or a busy transporter refuses.

use crate::support::*;
use crate::world::{World, recipients};
use chrono::{Duration, Utc};
use std::collections::BTreeSet;
use weelo_core::ServiceError;
use weelo_core::model::caller::Role;
use weelo_core::model::device::{Device, Platform};
use weelo_core::model::ids::{DeviceId, OrderId};
use weelo_core::model::order::{OrderStatus, OrderView, TruckRequestStatus};
use weelo_core::model::trip::TripStep;
use weelo_core::ports::{DeviceStore, TransporterStore};
use weelo_core::testing::RecordingSender;
use weelo_core::usecases::push::Push;

async fn view(world: &World, order: OrderId) -> OrderView {
    world.orders.get(&caller("asha", Role::Customer), &order.to_string()).await.unwrap()
}

/// The ids of the order's trucks, in order.
async fn trucks(world: &World, order: OrderId) -> Vec<String> {
    view(world, order).await.truck_requests.iter().map(|r| r.truck_request_id.to_string()).collect()
}

fn drivers(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("d{i:02}")).collect()
}

#[tokio::test]
async fn a_twelve_truck_order_cancelled_with_five_assigned_cancels_what_is_not_picked_up_and_tells_the_five() {
    // GIVEN a 12-tipper order offered to 12 drivers, 5 of whom accepted a truck
    let world = World::new();
    let names = drivers(12);
    for (i, name) in names.iter().enumerate() {
        world.driver(name, 100.0 + i as f64 * 20.0).await;
    }
    let order = world.order(12).await;
    let ids = trucks(&world, order).await;
    for (name, truck) in names.iter().zip(&ids).take(5) {
        world.orders.accept_truck_request(&transporter(name), &order.to_string(), truck).await.unwrap();
    }

    // WHEN Asha cancels the order, and the fan-out handles it and the trucks' cancellations
    let cancelled = world.orders.cancel(&customer("asha"), &order.to_string()).await.unwrap();
    assert_eq!(cancelled.order.status, OrderStatus::Cancelled);
    world.deliver("com.weelo.order.cancelled.v1").await;
    world.deliver("com.weelo.order.truck-request-cancelled.v1").await;

    // THEN all 12 trucks are cancelled (7 were searching), the 5 are told and free again
    let after = view(&world, order).await;
    assert_eq!(after.order.status, OrderStatus::Cancelled);
    assert!(after.truck_requests.iter().all(|r| r.status() == TruckRequestStatus::Cancelled));
    let five: BTreeSet<String> = names[..5].iter().cloned().collect();
    assert_eq!(recipients(&world.notifications("order.truck-cancelled")), five);
    for name in &names[..5] {
        assert_eq!(world.store.get_profile(&user(name)).await.unwrap().unwrap().active_trip, None, "{name}");
    }
    // AND the 7 others drop the line's offer, each once, and can no longer take a truck
    let withdrawn = world.notifications("order.withdrawn");
    assert_eq!(withdrawn.len(), 7);
    assert_eq!(recipients(&withdrawn), names[5..].iter().cloned().collect::<BTreeSet<_>>());
    let late = world.orders.accept_truck_request(&transporter(&names[5]), &order.to_string(), &ids[5]).await;
    assert!(matches!(late, Err(ServiceError::Conflict { current_status: Some("cancelled"), .. })), "{late:?}");
    // AND cancelling again answers it unchanged
    let again = world.orders.cancel(&customer("asha"), &order.to_string()).await.unwrap();
    assert_eq!(again.order.status, OrderStatus::Cancelled);
}

#[tokio::test]
async fn an_order_is_fulfilled_when_nothing_searches_and_completed_when_every_truck_is_delivered() {
    // GIVEN a two-tipper order offered to three drivers
    let world = World::new();
    for (name, metres) in [("kiran", 100.0), ("meera", 200.0), ("vijay", 300.0)] {
        world.driver(name, metres).await;
    }
    let order = world.order(2).await;
    let ids = trucks(&world, order).await;
    assert_eq!(view(&world, order).await.order.status, OrderStatus::Open);

    // WHEN Kiran and Meera accept one truck each
    for (name, truck) in [("kiran", &ids[0]), ("meera", &ids[1])] {
        world.orders.accept_truck_request(&transporter(name), &order.to_string(), truck).await.unwrap();
    }
    world.deliver("com.weelo.order.truck-request-accepted.v1").await;

    // THEN the order is fulfilled and Vijay drops the line's offer
    assert_eq!(view(&world, order).await.order.status, OrderStatus::Fulfilled);
    assert_eq!(recipients(&world.notifications("order.withdrawn")), BTreeSet::from(["vijay".to_owned()]));

    // WHEN both take their truck through the trip, each step twice
    for (name, truck) in [("kiran", &ids[0]), ("meera", &ids[1])] {
        for step in [TripStep::Arrive, TripStep::PickUp, TripStep::Deliver] {
            let first = world.orders.advance_truck(&transporter(name), &order.to_string(), truck, step).await.unwrap();
            let again = world.orders.advance_truck(&transporter(name), &order.to_string(), truck, step).await.unwrap();
            assert_eq!(first, again);
        }
    }

    // THEN it is completed, and both drivers are free
    assert_eq!(view(&world, order).await.order.status, OrderStatus::Completed);
    assert_eq!(world.store.get_profile(&user("kiran")).await.unwrap().unwrap().active_trip, None);
    // AND an out-of-order step on a delivered truck is refused with its status
    let late = world.orders.advance_truck(&transporter("kiran"), &order.to_string(), &ids[0], TripStep::Release).await;
    assert!(matches!(late, Err(ServiceError::Conflict { current_status: Some("delivered"), .. })), "{late:?}");
}

#[tokio::test]
async fn a_line_nobody_takes_expires_and_the_customer_is_told_once_for_the_line() {
    // GIVEN a three-tipper order of which Kiran takes one truck, and Asha's phone
    let world = World::new();
    world.driver("kiran", 100.0).await;
    let order = world.order(3).await;
    let ids = trucks(&world, order).await;
    world.orders.accept_truck_request(&transporter("kiran"), &order.to_string(), &ids[0]).await.unwrap();
    let sender = RecordingSender::default();
    let push = Push::new(world.store.clone(), sender.clone(), Duration::seconds(20));
    let phone = Device {
        user_id: user("asha"),
        device_id: DeviceId::derive(&user("asha"), "asha-phone"),
        platform: Platform::Android,
        token: "asha-phone".into(),
        endpoint_arn: "endpoint/asha".into(),
        registered_at: Utc::now(),
    };
    world.store.put_device_if_absent(&phone).await.unwrap();

    // WHEN two windows pass with nobody taking the other two (the sweeper widens, then expires them)
    let widened = world.deadlines.sweep(Utc::now() + Duration::minutes(3)).await.unwrap();
    world.deliver("com.weelo.order.truck-request-widened.v1").await;
    let expired = world.deadlines.sweep(Utc::now() + Duration::minutes(6)).await.unwrap();
    world.deliver("com.weelo.order.truck-request-expired.v1").await;
    for (id, event) in world.api_bus.of_type("com.weelo.order.truck-request-expired.v1") {
        push.on_event(id, &event).await.unwrap();
    }

    // THEN two trucks expired, the customer heard once which line found nobody, Kiran's truck is
    // untouched and the order is fulfilled
    assert_eq!((widened.widened, expired.expired), (2, 2));
    let told: Vec<_> = sender.sent().into_iter().map(|(_, _, n)| n).collect();
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!((told[0].kind.as_str(), told[0].data["line"].as_str()), ("order.line-expired", "1"));
    let after = view(&world, order).await;
    let statuses: Vec<TruckRequestStatus> = after.truck_requests.iter().map(|r| r.status()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == TruckRequestStatus::Expired).count(), 2);
    assert_eq!(after.order.status, OrderStatus::Fulfilled);
}

#[tokio::test]
async fn a_released_truck_is_offered_again_on_its_line_but_not_to_whoever_released_it() {
    // GIVEN a one-tipper order offered to Kiran and Meera; Kiran took it, so Meera dropped it
    let world = World::new();
    world.driver("kiran", 100.0).await;
    world.driver("meera", 200.0).await;
    let order = world.order(1).await;
    let truck = trucks(&world, order).await.remove(0);
    world.orders.accept_truck_request(&transporter("kiran"), &order.to_string(), &truck).await.unwrap();
    world.deliver("com.weelo.order.truck-request-accepted.v1").await;
    assert_eq!(recipients(&world.notifications("order.withdrawn")), BTreeSet::from(["meera".to_owned()]));

    // WHEN Kiran releases it
    let released =
        world.orders.advance_truck(&transporter("kiran"), &order.to_string(), &truck, TripStep::Release).await.unwrap();
    world.deliver("com.weelo.order.truck-request-released.v1").await;

    // THEN it searches again, Meera is offered the line again and can take it; Kiran cannot
    assert_eq!(released.status(), TruckRequestStatus::Searching);
    let to_meera = world.notifications("order.offered").iter().filter(|(_, n)| n.recipient_id == user("meera")).count();
    assert_eq!(to_meera, 2);
    let kiran = world.orders.accept_truck_request(&transporter("kiran"), &order.to_string(), &truck).await;
    assert!(matches!(kiran, Err(ServiceError::NotFound { .. })), "{kiran:?}");
    world.orders.accept_truck_request(&transporter("meera"), &order.to_string(), &truck).await.unwrap();
}

#[tokio::test]
async fn a_line_offer_made_before_one_of_its_trucks_was_released_still_stands_for_that_truck() {
    // GIVEN a two-tipper order offered to Kiran, Meera and Vijay; Kiran took one truck, so the
    // line still searches and nobody was told to drop it; Vijay then went off duty
    let world = World::new();
    for (id, metres) in [("kiran", 100.0), ("meera", 200.0), ("vijay", 300.0)] {
        world.driver(id, metres).await;
    }
    let order = world.order(2).await;
    let ids = trucks(&world, order).await;
    world.orders.accept_truck_request(&transporter("kiran"), &order.to_string(), &ids[0]).await.unwrap();
    world.deliver("com.weelo.order.truck-request-accepted.v1").await;
    let mut vijay: weelo_core::model::transporter::TransporterProfile =
        world.store.get_profile(&user("vijay")).await.unwrap().unwrap();
    vijay.available = false;
    world.store.put_profile(&vijay).await.unwrap();

    // WHEN Kiran releases his truck (a moment later: offers are timed to the millisecond), the
    // line is offered again, but not to Vijay
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    world.orders.advance_truck(&transporter("kiran"), &order.to_string(), &ids[0], TripStep::Release).await.unwrap();
    world.deliver("com.weelo.order.truck-request-released.v1").await;
    let to_vijay = world.notifications("order.offered").iter().filter(|(_, n)| n.recipient_id == user("vijay")).count();
    assert_eq!(to_vijay, 1, "Vijay was offered the line once, before the release");
    assert!(world.notifications("order.withdrawn").is_empty());

    // THEN Vijay's first offer, never taken back, stands for the released truck as for the other
    world.orders.accept_truck_request(&transporter("vijay"), &order.to_string(), &ids[0]).await.unwrap();
}

#[tokio::test]
async fn a_transporter_on_a_booking_cannot_take_a_truck_of_an_order() {
    let world = World::new();
    world.driver("kiran", 100.0).await;
    let booking = world.book().await;
    world.bookings.accept(&transporter("kiran"), &booking.to_string()).await.unwrap();
    world.driver("meera", 150.0).await;

    let order = world.order(1).await;
    let truck = trucks(&world, order).await.remove(0);

    // Kiran, busy, was not even offered the line; Meera was
    assert_eq!(recipients(&world.notifications("order.offered")), BTreeSet::from(["meera".to_owned()]));
    let busy = world.orders.accept_truck_request(&transporter("kiran"), &order.to_string(), &truck).await;
    assert!(matches!(busy, Err(ServiceError::NotFound { .. })), "{busy:?}");
}
