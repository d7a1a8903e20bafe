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
use weelo_core::usecases::api::{Bookings, Listing, Lists};

fn lists() -> (Lists<MemoryStore>, Bookings<MemoryStore, RecordingBus>) {
    let store = MemoryStore::new();
    let key = CursorKey::from_base64(&base64::engine::general_purpose::STANDARD.encode([9u8; 32])).unwrap();
    (Lists::new(store.clone(), key), Bookings::new(store, RecordingBus::default(), OfferTimes::default()))
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
        made.push(bookings.create(&asha, new_booking(VehicleType::Tipper), None).await.unwrap().value.booking_id);
    }
    bookings.create(&customer("ravi"), new_booking(VehicleType::Tipper), None).await.unwrap();

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
        bookings.create(&asha, new_booking(VehicleType::Tipper), None).await.unwrap();
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
