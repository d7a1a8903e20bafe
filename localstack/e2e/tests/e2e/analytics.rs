//! Analytics end to end: a scripted hour of bookings in two cities of the test's own, counted by
//! the real analytics function (run by a local Lambda service of the test's own, so its log holds
//! this test's metric documents only) behind a bridge that delivers every batch twice, then the
//! hour replayed through it with `weelo-ops replay`: the documents count each booking once. The
//! same hour, archived by the audit consumer, gives the same funnel in `weelo-ops funnel`.

use chrono::{DateTime, Duration, DurationRound, TimeDelta, Utc};
use serde_json::Value;
use std::collections::BTreeMap;
use weelo_core::contract::events::{BookingChanged, BookingOffered, DomainEvent, EventRecord, OfferRound};
use weelo_core::model::booking::{Booking, BookingStatus};
use weelo_core::model::geo::Place;
use weelo_core::model::ids::{BookingId, EventId, UserId};
use weelo_core::model::trip::{OfferTimes, Trip, TripStep};
use weelo_core::model::vehicle::VehicleType;
use weelo_e2e::*;
use weelo_local::bridge::{HttpInvoker, Invoke, InvokeError};
use weelo_testkit::unique;

/// Delivers every batch twice, as a mapping retrying a batch whose answer was lost would.
struct Twice(HttpInvoker);

impl Invoke for Twice {
    async fn invoke(&self, function: &str, payload: Vec<u8>) -> Result<Vec<u8>, InvokeError> {
        self.0.invoke(function, payload.clone()).await?;
        self.0.invoke(function, payload).await
    }
}

/// How a scripted booking ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Accepted this many seconds after it was created.
    Accepted(i64),
    Expired,
    Cancelled,
}

/// One scripted booking: where, which truck, when, offered to how many, and how it ended.
struct Scripted {
    city: usize,
    vehicle: VehicleType,
    created_at: DateTime<Utc>,
    reached: u32,
    outcome: Outcome,
}

/// An hour of bookings ending 10 minutes ago: in each of two cities, tippers and tankers, each
/// with 3 accepted (after known delays), 2 expired and 1 cancelled, one every 2.5 minutes.
fn script() -> Vec<Scripted> {
    let hour = (Utc::now() - Duration::minutes(70)).duration_trunc(TimeDelta::minutes(1)).unwrap();
    let outcomes = [
        Outcome::Accepted(0),
        Outcome::Accepted(0),
        Outcome::Accepted(0),
        Outcome::Expired,
        Outcome::Expired,
        Outcome::Cancelled,
    ];
    let mut script = Vec::new();
    for city in 0..2 {
        for vehicle in [VehicleType::Tipper, VehicleType::Tanker] {
            for (n, outcome) in outcomes.iter().enumerate() {
                let i = script.len() as i64;
                let outcome = match outcome {
                    Outcome::Accepted(_) => Outcome::Accepted(20 + 11 * i),
                    other => *other,
                };
                let created_at = hour + Duration::seconds(150 * i);
                script.push(Scripted { city, vehicle, created_at, reached: 2 + n as u32, outcome });
            }
        }
    }
    script
}

/// The records of one scripted booking: created, offered 3 s later, then its outcome.
fn records_of(scripted: &Scripted, centre: (f64, f64)) -> Vec<EventRecord> {
    let t0 = scripted.created_at;
    let booking = Booking {
        booking_id: BookingId::generate(),
        customer_id: UserId::parse("customer-analytics").unwrap(),
        pickup: Place { lat: centre.0 + 0.01, lng: centre.1, address: None },
        drop: Place { lat: centre.0 + 0.2, lng: centre.1, address: None },
        vehicle_type: scripted.vehicle,
        scheduled_at: None,
        created_at: t0,
        trip: Trip::new(t0, None, &OfferTimes::default()),
    };
    let offered = BookingOffered {
        booking_id: booking.booking_id,
        vehicle_type: booking.vehicle_type,
        pickup: booking.pickup.clone(),
        created_at: t0,
        scheduled_at: None,
        round: OfferRound::First,
        first_offer: true,
        transporters: scripted.reached,
    };
    let (step, at) = match scripted.outcome {
        Outcome::Accepted(after) => (TripStep::Accept, t0 + Duration::seconds(after)),
        Outcome::Expired => (TripStep::Expire, t0 + Duration::minutes(5)),
        Outcome::Cancelled => (TripStep::Cancel, t0 + Duration::seconds(45)),
    };
    let driver = UserId::parse("driver-analytics").unwrap();
    let mut after = booking.clone();
    let by = (step == TripStep::Accept).then_some(&driver);
    after.trip.take(step, by, at, &OfferTimes::default()).expect("a legal step");
    let changed =
        BookingChanged { step, previous_status: BookingStatus::Searching, transporter_id: by.cloned(), booking: after };
    vec![
        DomainEvent::BookingCreated(booking).to_record(EventId::generate(), "/e2e", t0),
        DomainEvent::BookingOffered(offered).to_record(EventId::generate(), "/e2e", t0 + Duration::seconds(3)),
        DomainEvent::BookingChanged(changed).to_record(EventId::generate(), "/e2e", at),
    ]
}

/// What the metric documents in `log` say about `cities`: each count per (metric, city, vehicle
/// type), and every delay sample per metric.
#[derive(Debug, Default, PartialEq)]
struct Counted {
    counts: BTreeMap<(String, String, String), u64>,
    delays: BTreeMap<String, Vec<i64>>,
}

fn counted(log: &str, cities: &[String]) -> Counted {
    let mut counted = Counted::default();
    let text = std::fs::read_to_string(log).unwrap_or_default();
    for line in text.lines() {
        let Some(start) = line.find("{\"") else { continue };
        let Ok(document) = serde_json::from_str::<Value>(&line[start..]) else { continue };
        let Some(city) = document["City"].as_str().filter(|c| cities.iter().any(|ours| ours == c)) else { continue };
        let vehicle = document["VehicleType"].as_str().unwrap_or("?").to_owned();
        let metrics = document["_aws"]["CloudWatchMetrics"][0]["Metrics"].as_array().cloned().unwrap_or_default();
        for name in metrics.iter().filter_map(|m| m["Name"].as_str()) {
            match &document[name] {
                Value::Array(samples) => counted
                    .delays
                    .entry(name.to_owned())
                    .or_default()
                    .extend(samples.iter().filter_map(Value::as_f64).map(|ms| ms as i64)),
                value => {
                    let key = (name.to_owned(), city.to_owned(), vehicle.clone());
                    *counted.counts.entry(key).or_default() += value.as_u64().unwrap_or(0);
                }
            }
        }
    }
    counted.delays.values_mut().for_each(|samples| samples.sort_unstable());
    counted
}

/// What the script should count.
fn expected(script: &[Scripted], cities: &[String]) -> Counted {
    let mut expected = Counted::default();
    for booking in script {
        let key = |metric: &str| (metric.to_owned(), cities[booking.city].clone(), booking.vehicle.as_str().to_owned());
        let mut add = |metric: &str, by: u64| *expected.counts.entry(key(metric)).or_default() += by;
        add("BookingsCreated", 1);
        add("BookingsOffered", 1);
        add("TransportersReached", u64::from(booking.reached));
        match booking.outcome {
            Outcome::Accepted(after) => {
                add("BookingsAccepted", 1);
                expected.delays.entry("TimeToAccept".into()).or_default().push(after * 1000);
            }
            Outcome::Expired => add("BookingsExpired", 1),
            Outcome::Cancelled => add("BookingsCancelled", 1),
        }
        expected.delays.entry("TimeToFirstOffer".into()).or_default().push(3000);
    }
    expected.delays.values_mut().for_each(|samples| samples.sort_unstable());
    expected
}

#[tokio::test]
async fn an_hour_of_bookings_is_counted_once_though_every_batch_comes_twice_and_the_hour_is_replayed() {
    // GIVEN the analytics function with two cities of the test's own, behind a bridge for its
    // booking.events mapping that delivers every batch twice
    let cities = [unique("North"), unique("South")];
    let centres = [private_city(), private_city()];
    let list = format!(
        "{}:{},{},20;{}:{},{},20",
        cities[0], centres[0].0, centres[0].1, cities[1], centres[1].0, centres[1].1
    );
    let env = [("ANALYTICS_CITIES", format!("\"{list}\"")), ("ANALYTICS_SCOPE", unique("e2e"))];
    let service = PrivateFunctions::start(9033, &env, &[]).await;
    let invoker = Twice(HttpInvoker { client: reqwest::Client::new(), base_url: service.url.clone() });
    let bridge = InProcessBridge::start("analytics", "booking.events", invoker).await;
    let _archiving = InProcessBridge::start("audit-consumer", "booking.events", real_functions()).await;

    // WHEN a scripted hour of bookings is published: accepted, expired and cancelled, across two
    // vehicle types and two cities, with known delays to the offer and to the acceptance
    let from = Utc::now() - Duration::seconds(2);
    let script = script();
    let records: Vec<EventRecord> = script.iter().flat_map(|s| records_of(s, centres[s.city])).collect();
    publish(&records).await;
    let want = expected(&script, &cities);
    let mut seen = Counted::default();
    let all_counted = eventually(120, async || {
        seen = counted(&service.log, &cities);
        seen == want
    })
    .await;

    // THEN the documents carry exactly the script's counts and delays
    assert!(all_counted, "counted:\n{seen:#?}\nexpected:\n{want:#?}");
    assert_eq!(want.delays["TimeToAccept"].len(), 12);

    // AND WHEN an operator replays that hour of booking.events through the function
    drop(bridge);
    let to = Utc::now() + Duration::seconds(1);
    let args = ["replay", "--topic", "booking.events", "--from", &from.to_rfc3339(), "--to", &to.to_rfc3339()];
    let (ok, out) = weelo_ops_via(&service.url, &[&args[..], &["--to-function", "analytics"]].concat());

    // THEN every record went through the function again, and the counts have not changed
    assert!(ok, "{out}");
    let replayed: u64 = out.split_whitespace().nth(1).and_then(|n| n.parse().ok()).expect("a count");
    assert!(replayed >= records.len() as u64, "{out}");
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert_eq!(counted(&service.log, &cities), want);

    // AND `weelo-ops funnel` over the audit archive prints the same counts for those cities, and
    // draws them
    let chart = std::env::temp_dir().join(format!("{}.png", unique("funnel")));
    let chart_arg = chart.to_string_lossy().to_string();
    let mut printed = String::new();
    let archived = eventually(120, async || {
        let (ok, out) = weelo_ops(&["funnel", "--days", "2", "--cities", &list, "--chart", &chart_arg]);
        printed = out;
        ok && funnel_rows(&printed, &cities) == funnel_wanted(&want)
    })
    .await;
    assert!(archived, "weelo-ops funnel printed:\n{printed}\nwanted {:?}", funnel_wanted(&want));
    assert_eq!(&std::fs::read(&chart).expect("the chart")[..4], b"\x89PNG");
    let _ = std::fs::remove_file(chart);
}

/// The columns of `weelo-ops funnel` after day, city and vehicle type.
const FUNNEL_COLUMNS: [&str; 8] = [
    "BookingsCreated",
    "BookingsOffered",
    "TransportersReached",
    "BookingsAccepted",
    "BookingsExpired",
    "BookingsCancelled",
    "BookingsReleased",
    "BookingsDelivered",
];

/// `(metric, city, vehicle) → count` from the rows of `cities` in `weelo-ops funnel`'s table,
/// summed over the days; zeros left out.
fn funnel_rows(printed: &str, cities: &[String]) -> BTreeMap<(String, String, String), u64> {
    let mut rows = BTreeMap::new();
    for line in printed.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() < 11 || !cities.iter().any(|c| c == fields[1]) {
            continue;
        }
        for (metric, value) in FUNNEL_COLUMNS.iter().zip(&fields[3..11]) {
            let count: u64 = value.parse().unwrap_or(0);
            if count > 0 {
                *rows.entry((metric.to_string(), fields[1].to_owned(), fields[2].to_owned())).or_default() += count;
            }
        }
    }
    rows
}

fn funnel_wanted(want: &Counted) -> BTreeMap<(String, String, String), u64> {
    want.counts.iter().filter(|(_, n)| **n > 0).map(|(k, n)| (k.clone(), *n)).collect()
}
