//! `weelo-ops funnel`: the booking funnel per day, city and vehicle type, with time to first
//! offer and time to accept, read from the audit archive (`AUDIT_BUCKET`) and counted by the
//! analytics consumer's own rules (`weelo_core::usecases::analytics::Tally`), so it prints what
//! the consumer's metrics add up to. Records are read once each (topic, partition, offset) and
//! events once each (by id). In AWS, Athena answers the same over the same objects
//! (infra/terraform's named queries); this is the local and small-range answer.

mod chart;
mod table;

pub use chart::draw as chart;
pub use table::render as table;

use chrono::{NaiveDate, Utc};
use std::collections::{BTreeMap, BTreeSet};
use weelo_audit::{ArchiveSettings, ArchivedRecord};
use weelo_core::contract::events::DomainEvent;
use weelo_core::usecases::analytics::Tally;
use weelo_core::usecases::analytics::cities::Cities;
use weelo_core::usecases::analytics::metrics::{Figures, Group, TIME_TO_ACCEPT, TIME_TO_FIRST_OFFER};

/// One line of the funnel: a day, a city and a vehicle type.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Line {
    pub counts: BTreeMap<&'static str, u64>,
    pub time_to_first_offer_ms: Vec<f64>,
    pub time_to_accept_ms: Vec<f64>,
}

impl Line {
    pub fn count(&self, metric: &str) -> u64 {
        self.counts.get(metric).copied().unwrap_or_default()
    }

    fn add(&mut self, figures: &Figures) {
        for (metric, count) in &figures.counts {
            *self.counts.entry(metric).or_default() += count;
        }
        let delays = |metric: &str| figures.delays_ms.get(metric).cloned().unwrap_or_default();
        self.time_to_first_offer_ms.extend(delays(TIME_TO_FIRST_OFFER));
        self.time_to_accept_ms.extend(delays(TIME_TO_ACCEPT));
    }
}

/// `(day, city, vehicle type) → line`.
pub type Funnel = BTreeMap<(NaiveDate, String, String), Line>;

/// The funnel of `records` (archived `booking.events`).
pub fn count(records: &[ArchivedRecord], cities: &Cities) -> Funnel {
    let mut tally = Tally::default();
    let mut seen = BTreeSet::new();
    for record in records {
        let Some(value) = &record.value else { continue };
        let Ok(bytes) = serde_json::to_vec(value) else { continue };
        let Ok(timed) = DomainEvent::from_payload_timed(&bytes) else { continue };
        if seen.insert(timed.id) {
            tally.add(cities, &timed);
        }
    }
    let mut funnel = Funnel::new();
    for figures in tally.into_figures() {
        let Group::Booking { vehicle, city } = &figures.group else { continue };
        let key = (figures.minute.date_naive(), city.clone(), vehicle.as_str().to_owned());
        funnel.entry(key).or_default().add(&figures);
    }
    funnel
}

/// Reads the archived `booking.events` of the last `days` days (today included) and counts them.
pub async fn read(days: i64, cities: &Cities) -> anyhow::Result<Funnel> {
    let archive = ArchiveSettings::from_env()?.connect().await;
    let today = Utc::now().date_naive();
    let bar = crate::progress(0, "reading the archive");
    let on_object = |total: Option<u64>| match total {
        Some(total) => bar.set_length(total),
        None => bar.inc(1),
    };
    let from = today - chrono::Duration::days(days.max(1) - 1);
    let records = archive.records_of("booking.events", from, today, on_object).await?;
    bar.finish_and_clear();
    Ok(count(&records, cities))
}

/// The `p`-quantile (0..=1) of `samples`, nearest rank; 0 when there are none.
pub fn quantile(samples: &[f64], p: f64) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.get(((sorted.len() as f64 * p).ceil() as usize).saturating_sub(1)).copied().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Duration, TimeZone};
    use weelo_core::contract::events::{BookingChanged, EventRecord};
    use weelo_core::model::booking::{Booking, BookingStatus};
    use weelo_core::model::geo::Place;
    use weelo_core::model::ids::{BookingId, EventId, UserId};
    use weelo_core::model::trip::{OfferTimes, Trip, TripStep};
    use weelo_core::model::vehicle::VehicleType;
    use weelo_core::usecases::analytics::metrics::{BOOKINGS_ACCEPTED, BOOKINGS_CREATED};
    use weelo_msk::RecordId;

    fn archived(record: &EventRecord, offset: i64) -> ArchivedRecord {
        ArchivedRecord {
            id: RecordId { topic: record.topic.clone(), partition: 0, offset },
            timestamp: Utc::now(),
            key: Some(record.key.clone()),
            value: serde_json::from_str(&record.payload).ok(),
            value_base64: None,
        }
    }

    fn accepted_booking(lat: f64, created_at: DateTime<Utc>, after_secs: i64) -> Vec<EventRecord> {
        let booking = Booking {
            booking_id: BookingId::generate(),
            customer_id: UserId::parse("customer-1").unwrap(),
            pickup: Place { lat, lng: 72.87, address: None },
            drop: Place { lat: 18.5, lng: 73.8, address: None },
            vehicle_type: VehicleType::Mini,
            scheduled_at: None,
            created_at,
            trip: Trip::new(created_at, None, &OfferTimes::default()),
        };
        let driver = UserId::parse("driver-1").unwrap();
        let at = created_at + Duration::seconds(after_secs);
        let mut after = booking.clone();
        after.trip.take(TripStep::Accept, Some(&driver), at, &OfferTimes::default()).unwrap();
        let changed = BookingChanged {
            step: TripStep::Accept,
            previous_status: BookingStatus::Searching,
            transporter_id: Some(driver),
            booking: after,
        };
        vec![
            DomainEvent::BookingCreated(booking).to_record(EventId::generate(), "/t", created_at),
            DomainEvent::BookingChanged(changed).to_record(EventId::generate(), "/t", at),
        ]
    }

    #[test]
    fn the_archive_s_bookings_are_counted_per_day_city_and_vehicle_once_each() {
        // GIVEN two bookings accepted in Mumbai after 30 s and 90 s, one of whose events was
        // archived twice (a redelivered batch written under another key), and one outside any city
        let noon = Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).unwrap();
        let mut events = accepted_booking(19.07, noon, 30);
        events.extend(accepted_booking(19.08, noon, 90));
        events.extend(accepted_booking(-10.0, noon, 10));
        let mut records: Vec<ArchivedRecord> = events.iter().enumerate().map(|(n, e)| archived(e, n as i64)).collect();
        records.push(archived(&events[1], 99));
        let cities = Cities::parse("Mumbai:19.076,72.8777,40").unwrap();

        // WHEN the funnel is counted, printed and drawn
        let funnel = count(&records, &cities);
        let printed = table(&funnel);
        let path = std::env::temp_dir().join(format!("funnel-{}.png", uuid::Uuid::new_v4()));
        chart(&funnel, "test", &path).unwrap();

        // THEN Mumbai's minis: 2 created, 2 accepted, waits of 30 and 90 s; the other booking
        // counts as "other"; the table says so and the chart is a PNG
        let mumbai = &funnel[&(noon.date_naive(), "Mumbai".to_owned(), "mini".to_owned())];
        assert_eq!((mumbai.count(BOOKINGS_CREATED), mumbai.count(BOOKINGS_ACCEPTED)), (2, 2));
        assert_eq!(mumbai.time_to_accept_ms, [30_000.0, 90_000.0]);
        assert!(funnel.contains_key(&(noon.date_naive(), "other".to_owned(), "mini".to_owned())));
        assert!(printed.lines().any(|l| l.starts_with("2026-11-30  Mumbai") && l.contains("100%")), "{printed}");
        assert!(printed.lines().last().unwrap().starts_with("total"), "{printed}");
        let png = std::fs::read(&path).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let _ = std::fs::remove_file(path);
    }
}
