//! Analytics: the funnel per minute, vehicle type and city, the delays, and counted once.

use crate::support::*;
use chrono::{DateTime, Duration, TimeZone, Utc};
use weelo_core::contract::events::{
    BookingChanged, BookingOffered, DomainEvent, LocationsReported, OfferRound, TimedEvent,
};
use weelo_core::model::booking::{Booking, BookingStatus};
use weelo_core::model::ids::EventId;
use weelo_core::model::trip::{OfferTimes, TripStep};
use weelo_core::model::vehicle::VehicleType;
use weelo_core::testing::{MemoryProgress, RecordingFigures};
use weelo_core::usecases::analytics::cities::Cities;
use weelo_core::usecases::analytics::metrics::*;
use weelo_core::usecases::analytics::{Analytics, AnalyticsSettings, PartitionRecords};

const MUMBAI: (f64, f64) = (19.07, 72.87);
const PUNE: (f64, f64) = (18.52, 73.85);

fn analytics() -> (Analytics<MemoryProgress, RecordingFigures>, MemoryProgress, RecordingFigures) {
    let (progress, figures) = (MemoryProgress::default(), RecordingFigures::default());
    let cities = Cities::parse("Mumbai:19.076,72.8777,40;Pune:18.5204,73.8567,30").unwrap();
    let settings = AnalyticsSettings { cities, scope: "test".into() };
    (Analytics::new(progress.clone(), figures.clone(), settings), progress, figures)
}

fn noon() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).unwrap()
}

fn booked(at: (f64, f64), vehicle: VehicleType, created_at: DateTime<Utc>) -> Booking {
    let mut booking = booking_of("customer-a");
    (booking.pickup, booking.vehicle_type, booking.created_at) = (place(at), vehicle, created_at);
    booking
}

fn timed(event: DomainEvent, time: DateTime<Utc>) -> Option<TimedEvent> {
    Some(TimedEvent { id: EventId::generate(), time, event })
}

fn stepped(booking: &Booking, step: TripStep, time: DateTime<Utc>) -> Option<TimedEvent> {
    let mut after = booking.clone();
    after.trip.take(step, Some(&user("driver-1")), time, &OfferTimes::default()).unwrap();
    let changed = BookingChanged {
        step,
        previous_status: BookingStatus::Searching,
        transporter_id: Some(user("driver-1")),
        booking: after,
    };
    timed(DomainEvent::BookingChanged(changed), time)
}

fn offered(booking: &Booking, transporters: u32, time: DateTime<Utc>) -> Option<TimedEvent> {
    let offer = BookingOffered {
        booking_id: booking.booking_id,
        vehicle_type: booking.vehicle_type,
        pickup: booking.pickup.clone(),
        created_at: booking.created_at,
        scheduled_at: None,
        round: OfferRound::First,
        first_offer: true,
        transporters,
    };
    timed(DomainEvent::BookingOffered(offer), time)
}

fn partition(records: Vec<Option<TimedEvent>>, first_offset: i64) -> PartitionRecords<'static> {
    let records = records.into_iter().enumerate().map(|(n, e)| (first_offset + n as i64, e)).collect();
    PartitionRecords { topic: "booking.events", partition: 3, records }
}

fn in_city(city: &str) -> impl Fn(&Figures) -> bool + '_ {
    move |f| matches!(&f.group, Group::Booking { city: c, .. } if c == city)
}

#[tokio::test]
async fn the_funnel_is_counted_per_city_and_vehicle_type_with_the_delays_it_took() {
    // GIVEN a tipper booked in Mumbai, offered to 5 after 2 s and accepted after 40 s; a tanker
    // booked in Pune that expires; and a booking far from both that is cancelled
    let (analytics, _, figures) = analytics();
    let t0 = noon();
    let mumbai = booked(MUMBAI, VehicleType::Tipper, t0);
    let pune = booked(PUNE, VehicleType::Tanker, t0);
    let delhi = booked((28.61, 77.2), VehicleType::Tipper, t0);
    let events = vec![
        timed(DomainEvent::BookingCreated(mumbai.clone()), t0),
        offered(&mumbai, 5, t0 + Duration::seconds(2)),
        stepped(&mumbai, TripStep::Accept, t0 + Duration::seconds(40)),
        timed(DomainEvent::BookingCreated(pune.clone()), t0),
        stepped(&pune, TripStep::Expire, t0 + Duration::minutes(3)),
        timed(DomainEvent::BookingCreated(delhi.clone()), t0),
        stepped(&delhi, TripStep::Cancel, t0 + Duration::seconds(10)),
    ];

    // WHEN analytics counts the partition's batch
    let report = analytics.count(partition(events, 0)).await.unwrap();

    // THEN each city and vehicle type has its counts, the delays are those it took, and each
    // figure sits in the minute its events happened
    assert_eq!(report.counted, 7);
    assert_eq!(figures.total(BOOKINGS_CREATED, in_city("Mumbai")), 1);
    assert_eq!(figures.total(TRANSPORTERS_REACHED, in_city("Mumbai")), 5);
    assert_eq!(figures.total(BOOKINGS_ACCEPTED, in_city("Mumbai")), 1);
    assert_eq!(figures.total(BOOKINGS_EXPIRED, in_city("Pune")), 1);
    assert_eq!(figures.total(BOOKINGS_CANCELLED, in_city("other")), 1);
    let tankers = |f: &Figures| matches!(f.group, Group::Booking { vehicle: VehicleType::Tanker, .. });
    assert_eq!(figures.total(BOOKINGS_CREATED, tankers), 1);
    assert_eq!((figures.delays(TIME_TO_FIRST_OFFER), figures.delays(TIME_TO_ACCEPT)), (vec![2000.0], vec![40_000.0]));
    let expired_at = |f: &Figures| f.count(BOOKINGS_EXPIRED) == 1;
    let published = figures.published.lock().unwrap().clone();
    assert_eq!(published.iter().find(|f| expired_at(f)).unwrap().minute, t0 + Duration::minutes(3));
    assert!(published.iter().any(|f| f.subjects.contains(&mumbai.booking_id.to_string())));
}

#[tokio::test]
async fn a_batch_delivered_again_or_overlapping_is_counted_once() {
    // GIVEN a batch of 3 bookings counted
    let (analytics, _, figures) = analytics();
    let created: Vec<_> =
        (0..5).map(|_| timed(DomainEvent::BookingCreated(booked(MUMBAI, VehicleType::Open, noon())), noon())).collect();
    analytics.count(partition(created[..3].to_vec(), 10)).await.unwrap();

    // WHEN the same batch comes again, then one that overlaps it and goes two records further,
    // one of which is the same event published twice
    let again = analytics.count(partition(created[..3].to_vec(), 10)).await.unwrap();
    let mut overlapping = created[1..].to_vec();
    overlapping.push(created[4].clone());
    let overlapping = analytics.count(partition(overlapping, 11)).await.unwrap();

    // THEN each booking counts once
    assert_eq!((again.counted, again.already_counted), (0, 3));
    assert_eq!((overlapping.counted, overlapping.already_counted), (2, 3));
    assert_eq!(figures.total(BOOKINGS_CREATED, in_city("Mumbai")), 5);
}

#[tokio::test]
async fn a_delivery_that_loses_the_race_to_another_publishes_nothing() {
    // GIVEN another delivery of the same records moves the mark while this one is counting
    let figures = RecordingFigures::default();
    let settings =
        AnalyticsSettings { cities: Cities::parse("Pune:18.5204,73.8567,30").unwrap(), scope: "test".into() };
    let loser = Analytics::new(LoseOnce(MemoryProgress::default()), figures.clone(), settings);
    let created = timed(DomainEvent::BookingCreated(booked(PUNE, VehicleType::Open, noon())), noon());

    // WHEN this one counts the records and tries to move the mark
    let report = loser.count(partition(vec![created.clone(), created], 5)).await.unwrap();

    // THEN nothing is published and the report says why
    assert!(report.lost_race, "{report:?}");
    assert_eq!(figures.total(BOOKINGS_CREATED, |_| true), 0);
}

/// A progress store whose mark another delivery always moves first.
struct LoseOnce(MemoryProgress);

#[async_trait::async_trait]
impl weelo_core::ports::ProgressStore for LoseOnce {
    async fn counted_up_to(&self, stream: &str) -> Result<Option<i64>, weelo_core::ports::StoreError> {
        self.0.counted_up_to(stream).await
    }

    async fn advance_count(
        &self, stream: &str, seen: Option<i64>, to: i64,
    ) -> Result<bool, weelo_core::ports::StoreError> {
        self.0.set(stream, to);
        self.0.advance_count(stream, seen, to).await
    }
}

#[tokio::test]
async fn a_truck_is_active_once_per_minute_however_many_points_and_batches() {
    // GIVEN two trucks sending points: the first three times in one minute, over two batches, once
    // a request of three points (the api's form) and otherwise single points (the form of before)
    let (analytics, _, figures) = analytics();
    let at = |transporter: &str, second: i64| {
        let time = noon() + Duration::seconds(second);
        timed(DomainEvent::LocationUpdated(point(transporter, MUMBAI, time).1), time)
    };
    let request = |transporter: &str, second: i64| {
        let time = noon() + Duration::seconds(second);
        let points = (0..3).map(|_| point(transporter, MUMBAI, time).1.point).collect();
        let reported = LocationsReported { transporter_id: user(transporter), points };
        timed(DomainEvent::LocationsReported(reported), time)
    };
    let gps = |records: Vec<Option<TimedEvent>>, first: i64| {
        let records = records.into_iter().enumerate().map(|(n, e)| (first + n as i64, e)).collect();
        PartitionRecords { topic: "location.updated", partition: 0, records }
    };

    // WHEN both batches are counted, and a record that is not an event among them
    analytics.count(gps(vec![at("t1", 1), at("t2", 2), request("t1", 20)], 0)).await.unwrap();
    let report = analytics.count(gps(vec![at("t1", 40), None, at("t1", 61)], 3)).await.unwrap();

    // THEN 7 points in all, 2 trucks active in the first minute and 1 in the next
    assert_eq!(report.not_events, 1);
    assert_eq!(figures.total(GPS_POINTS, |_| true), 7);
    let in_minute = |m: i64| move |f: &Figures| f.minute == noon() + Duration::minutes(m);
    assert_eq!((figures.total(ACTIVE_TRUCKS, in_minute(0)), figures.total(ACTIVE_TRUCKS, in_minute(1))), (2, 1));
}
