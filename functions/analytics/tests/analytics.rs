//! The analytics handler on MSK batches against the DynamoDB emulator: what its metric documents
//! say, and that a batch delivered again, or to a second execution environment, counts once.

use chrono::{DateTime, Duration, TimeZone, Utc};
use lambda_runtime::{Context, LambdaEvent};
use serde_json::Value;
use std::io::Write;
use std::sync::{Arc, Mutex};
use weelo_analytics::{Analytics, Settings};
use weelo_core::contract::events::{DomainEvent, EventRecord};
use weelo_core::model::booking::Booking;
use weelo_core::model::geo::Place;
use weelo_core::model::ids::{BookingId, EventId, UserId};
use weelo_core::model::trip::{OfferTimes, Trip};
use weelo_core::model::vehicle::VehicleType;
use weelo_core::ports::ProgressStore;
use weelo_core::usecases::analytics::cities::Cities;
use weelo_testkit::{msk_event, unique};

/// What the function wrote, shared with the test.
#[derive(Clone, Default)]
struct Written(Arc<Mutex<Vec<u8>>>);

impl Write for Written {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Written {
    fn documents(&self) -> Vec<Value> {
        let text = String::from_utf8(self.0.lock().unwrap().clone()).unwrap();
        text.lines().map(|line| serde_json::from_str(line).expect("one JSON document a line")).collect()
    }

    /// The sum of `metric` over the documents of `city`.
    fn total(&self, metric: &str, city: &str) -> u64 {
        self.documents().iter().filter(|d| d["City"] == city).filter_map(|d| d[metric].as_u64()).sum()
    }
}

/// A consumer counting under a scope of the test's own, with a city of its own.
async fn consumer(scope: &str, city: &str) -> (Analytics, Written) {
    weelo_testkit::init();
    let mut settings = Settings::from_env().unwrap();
    settings.analytics.scope = scope.to_owned();
    settings.analytics.cities = Cities::parse(&format!("{city}:21.0,79.0,20")).unwrap();
    let written = Written::default();
    (weelo_analytics::connect(&settings, Box::new(written.clone())).await.unwrap(), written)
}

fn created_in_city(at: DateTime<Utc>) -> EventRecord {
    let booking = Booking {
        booking_id: BookingId::generate(),
        customer_id: UserId::parse("customer-analytics").unwrap(),
        pickup: Place { lat: 21.01, lng: 79.01, address: None },
        drop: Place { lat: 21.2, lng: 79.2, address: None },
        vehicle_type: VehicleType::Container,
        scheduled_at: None,
        created_at: at,
        trip: Trip::new(at, None, &OfferTimes::default()),
    };
    DomainEvent::BookingCreated(booking).to_record(EventId::generate(), "/weelo/api", at)
}

fn batch(records: &[EventRecord], first_offset: i64) -> LambdaEvent<aws_lambda_events::kafka::KafkaEvent> {
    LambdaEvent::new(msk_event(records, first_offset), Context::default())
}

#[tokio::test]
async fn a_batch_delivered_again_and_to_a_second_environment_is_counted_once() {
    // GIVEN 6 bookings created over two minutes in the test's city
    let (scope, city) = (unique("scope"), unique("City"));
    let (analytics, written) = consumer(&scope, &city).await;
    let start = Utc.with_ymd_and_hms(2026, 11, 30, 9, 0, 30).unwrap();
    let records: Vec<EventRecord> = (0..6).map(|n| created_in_city(start + Duration::seconds(20 * n))).collect();

    // WHEN the batch is handled, handled again, and then by a second execution environment
    let answer = weelo_analytics::handle(&analytics, batch(&records, 100)).await.unwrap();
    weelo_analytics::handle(&analytics, batch(&records, 100)).await.unwrap();
    let (second, also_written) = consumer(&scope, &city).await;
    weelo_analytics::handle(&second, batch(&records, 100)).await.unwrap();

    // THEN the 6 bookings are counted once, in the minutes they were created in
    assert!(answer.batch_item_failures.is_empty(), "{answer:?}");
    assert_eq!(written.total("BookingsCreated", &city), 6);
    assert_eq!(also_written.total("BookingsCreated", &city), 0);
    let minutes: Vec<i64> = written.documents().iter().filter_map(|d| d["_aws"]["Timestamp"].as_i64()).collect();
    let nine = Utc.with_ymd_and_hms(2026, 11, 30, 9, 0, 0).unwrap().timestamp_millis();
    assert_eq!(minutes, [nine, nine + 60_000, nine + 120_000], "{:?}", written.documents());
}

#[tokio::test]
async fn the_mark_moves_only_from_what_it_was_read_as() {
    // GIVEN a stream's mark at offset 9
    weelo_testkit::init();
    let aws = weelo_aws::sdk_config(weelo_aws::Timeouts::from_env().unwrap()).await;
    let store = weelo_dynamo::DynamoStore::from_env(&aws).unwrap();
    let stream = unique("scope#booking.events#0");
    assert!(store.advance_count(&stream, None, 9).await.unwrap());

    // WHEN two deliveries that both read 9 try to move it
    let (first, second) =
        tokio::join!(store.advance_count(&stream, Some(9), 20), store.advance_count(&stream, Some(9), 20));

    // THEN exactly one moves it, and a stale first write is refused too
    assert!(first.unwrap() ^ second.unwrap());
    assert_eq!(store.counted_up_to(&stream).await.unwrap(), Some(20));
    assert!(!store.advance_count(&stream, None, 30).await.unwrap());
}
