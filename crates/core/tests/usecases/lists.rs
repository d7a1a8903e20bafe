//! Lists: a customer's bookings page by page, and the cursor bound to who asked and what they
//! asked for.

use crate::support::*;
use base64::Engine;
use weelo_core::ServiceError;
use weelo_core::contract::cursor::CursorKey;
use weelo_core::contract::requests::ListQuery;
use weelo_core::model::caller::Customer;
use weelo_core::model::trip::{OfferTimes, TripStatus};
use weelo_core::model::vehicle::VehicleType;
use weelo_core::testing::{MemoryStore, RecordingBus};
use weelo_core::usecases::api::{Bookings, Create, Listing, Lists};

fn lists() -> (Lists<MemoryStore>, Bookings<MemoryStore, RecordingBus>) {
    let store = MemoryStore::new();
    let key = CursorKey::from_base64(&base64::engine::general_purpose::STANDARD.encode([9u8; 32])).unwrap();
    (
        Lists::new(store.clone(), key, OfferTimes::default()),
        Bookings::new(store, RecordingBus::default(), OfferTimes::default()),
    )
}

async fn list(lists: &Lists<MemoryStore>, who: &Customer, query: &str) -> Result<Listing<String>, ServiceError> {
    let page = lists.bookings(who, ListQuery::parse(query, &TripStatus::ALL).unwrap()).await?;
    let ids = page.items.iter().map(|b| b.booking_id.to_string()).collect();
    Ok(Listing { items: ids, next_cursor: page.next_cursor })
}

fn with_cursor(query: &str, cursor: &str) -> String {
    let encoded: String = form_urlencoded::byte_serialize(cursor.as_bytes()).collect();
    format!("{query}&cursor={encoded}")
}

#[tokio::test]
async fn pages_follow_one_another_newest_first_until_the_last_says_so() {
    // GIVEN a customer with five bookings, and another customer with one
    let (lists, bookings) = lists();
    let asha = customer("asha");
    let mut made = Vec::new();
    for _ in 0..5 {
        made.push(
            bookings.create(Create::new(&asha, new_booking(VehicleType::Tipper), None)).await.unwrap().value.booking_id,
        );
    }
    bookings.create(Create::new(&customer("ravi"), new_booking(VehicleType::Tipper), None)).await.unwrap();

    // WHEN she reads them two at a time
    let first = list(&lists, &asha, "limit=2").await.unwrap();
    let second = list(&lists, &asha, &with_cursor("limit=2", first.next_cursor.as_deref().unwrap())).await.unwrap();
    let third = list(&lists, &asha, &with_cursor("limit=2", second.next_cursor.as_deref().unwrap())).await.unwrap();

    // THEN she gets her own five, newest first, and the last page has no cursor
    let read: Vec<String> = [first.items, second.items, third.items.clone()].concat();
    let expected: Vec<String> = made.iter().rev().map(ToString::to_string).collect();
    assert_eq!(read, expected);
    assert_eq!((third.items.len(), third.next_cursor), (1, None));
}

#[tokio::test]
async fn a_cursor_answers_only_the_customer_and_the_filter_it_was_given_for() {
    // GIVEN a cursor from the second page of Asha's searching bookings
    let (lists, bookings) = lists();
    let asha = customer("asha");
    for _ in 0..3 {
        bookings.create(Create::new(&asha, new_booking(VehicleType::Tipper), None)).await.unwrap();
    }
    let first = list(&lists, &asha, "status=searching&limit=1").await.unwrap();
    let cursor = first.next_cursor.expect("a next page");

    // WHEN Ravi sends it, or Asha sends it with another filter
    let borrowed = list(&lists, &customer("ravi"), &with_cursor("status=searching&limit=1", &cursor)).await;
    let refiltered = list(&lists, &asha, &with_cursor("status=accepted&limit=1", &cursor)).await;

    // THEN both are refused naming the cursor, and Asha's own use of it still works
    for refused in [borrowed, refiltered] {
        match refused {
            Err(ServiceError::Validation(problem)) => assert_eq!(problem.details[0].field, "cursor"),
            other => panic!("expected a 400 on the cursor, got {other:?}"),
        }
    }
    assert_eq!(list(&lists, &asha, &with_cursor("limit=1&status=searching", &cursor)).await.unwrap().items.len(), 1);
}

mod orders {
    use crate::support::*;
    use base64::Engine;
    use chrono::{Duration, Utc};
    use weelo_core::contract::cursor::CursorKey;
    use weelo_core::contract::requests::ListQuery;
    use weelo_core::model::ids::OrderId;
    use weelo_core::model::order::{Order, OrderStatus, TruckLine};
    use weelo_core::model::trip::{OfferTimes, TripStep};
    use weelo_core::model::vehicle::VehicleType;
    use weelo_core::ports::{Creation, OrderStore};
    use weelo_core::testing::MemoryStore;
    use weelo_core::usecases::api::Lists;

    /// An order of `customer`'s for two tippers, created `minutes_ago`, stored `status`, whose
    /// trucks `accepted` of the two were accepted (none expanded when `None`).
    async fn order(
        store: &MemoryStore, customer: &str, minutes_ago: i64, status: OrderStatus, accepted: Option<usize>,
    ) -> OrderId {
        let at = Utc::now() - Duration::minutes(minutes_ago);
        let order = Order {
            order_id: OrderId::generate(),
            customer_id: user(customer),
            status,
            pickup: place(PICKUP),
            drop: place((18.52, 73.85)),
            trucks: vec![TruckLine { vehicle_type: VehicleType::Tipper, quantity: 2 }],
            trucks_requested: 2,
            created_at: at,
        };
        store.create_order(Creation::alone(&order)).await.unwrap();
        if let Some(accepted) = accepted {
            let mut trucks = order.truck_requests(at, &OfferTimes::default());
            for (n, truck) in trucks.iter_mut().take(accepted).enumerate() {
                truck
                    .trip
                    .take(TripStep::Accept, Some(&user(&format!("driver-{n}"))), at, &OfferTimes::default())
                    .unwrap();
            }
            store.put_truck_requests(&trucks).await.unwrap();
        }
        order.order_id
    }

    async fn ids(lists: &Lists<MemoryStore>, who: &str, query: &str) -> Vec<(OrderId, OrderStatus)> {
        let (mut read, mut cursor) = (Vec::new(), None::<String>);
        loop {
            let raw = match &cursor {
                Some(c) => {
                    format!("{query}&cursor={}", form_urlencoded::byte_serialize(c.as_bytes()).collect::<String>())
                }
                None => query.to_owned(),
            };
            let page = lists.orders(&customer(who), ListQuery::parse(&raw, &OrderStatus::ALL).unwrap()).await.unwrap();
            read.extend(page.items.iter().map(|o| (o.order_id, o.status)));
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => return read,
            }
        }
    }

    #[tokio::test]
    async fn a_customers_orders_come_newest_first_with_the_status_their_trucks_give_them() {
        // GIVEN Asha's orders: one still processing, one open (a truck of two taken), one
        // fulfilled (both taken), one cancelled; and one of Ravi's
        let store = MemoryStore::new();
        let open = order(&store, "asha", 40, OrderStatus::Open, Some(1)).await;
        let fulfilled = order(&store, "asha", 30, OrderStatus::Open, Some(2)).await;
        let cancelled = order(&store, "asha", 20, OrderStatus::Cancelled, Some(0)).await;
        let processing = order(&store, "asha", 10, OrderStatus::Processing, None).await;
        order(&store, "ravi", 5, OrderStatus::Open, Some(0)).await;
        let key = CursorKey::from_base64(&base64::engine::general_purpose::STANDARD.encode([4u8; 32])).unwrap();
        let lists = Lists::new(store, key, OfferTimes::default());

        // WHEN she lists them one a page, and by status
        let all = ids(&lists, "asha", "limit=1").await;
        let on_the_road = ids(&lists, "asha", "status=fulfilled").await;
        let still_open = ids(&lists, "asha", "status=open,processing&limit=1").await;

        // THEN all four newest first, each with its derived status, and each filter keeps its own
        assert_eq!(
            all,
            [
                (processing, OrderStatus::Processing),
                (cancelled, OrderStatus::Cancelled),
                (fulfilled, OrderStatus::Fulfilled),
                (open, OrderStatus::Open)
            ]
        );
        assert_eq!(on_the_road, [(fulfilled, OrderStatus::Fulfilled)]);
        assert_eq!(still_open, [(processing, OrderStatus::Processing), (open, OrderStatus::Open)]);
    }
}
