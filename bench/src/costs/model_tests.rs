//! The cost model's rows against a fixture of counts and the committed prices and definitions.

use super::*;
use crate::costs::counted::{BookingCounts, GpsCounts, TableUnits, TripCounts};

/// What an operation served: (table, write units, read units) per table touched, and a topic's bytes.
fn served(tables: &[(&str, f64, f64)], topic: &str, bytes: f64) -> Served {
    let tables: BTreeMap<String, TableUnits> = tables
        .iter()
        .map(|(table, write_units, read_units)| {
            (table.to_string(), TableUnits { write_units: *write_units, read_units: *read_units })
        })
        .collect();
    Served {
        write_units: tables.values().map(|u| u.write_units).sum(),
        read_units: tables.values().map(|u| u.read_units).sum(),
        publishes: 0.0,
        kafka_bytes: BTreeMap::from([(topic.to_owned(), bytes)]),
        tables,
    }
}

fn counted() -> Counted {
    Counted {
        measured: "fixture".into(),
        booking: BookingCounts {
            recipients: 10.0,
            create: served(&[("bookings", 3.0, 0.0), ("outbox", 2.0, 0.0)], "booking.events", 1000.0),
            // 10 recipients: an offer each, a push-log claim and its confirmation; geo cells read
            fanout: Served {
                publishes: 10.0,
                ..served(
                    &[("offers", 10.0, 0.0), ("push-log", 20.0, 0.0), ("geo-cells", 0.0, 15.0)],
                    "notification.fcm",
                    5000.0,
                )
            },
            api_seconds: 0.01,
            fanout_seconds: 0.1,
            push_seconds: 0.2,
        },
        trip: TripCounts {
            recipients: 10.0,
            served: served(&[("bookings", 20.0, 8.0), ("offers", 20.0, 0.0)], "booking.events", 4000.0),
        },
        gps: GpsCounts {
            points_per_request: 6,
            // 0.5 write and 0.1 read units a point
            consumer: served(
                &[("location-history", 0.3, 0.0), ("positions", 0.1, 0.1), ("geo-cells", 0.1, 0.0)],
                "none",
                0.0,
            ),
            consumer_seconds_per_point: 0.001,
            ingest: served(&[], "location.updated", 100.0),
            api_seconds_per_request: 0.002,
        },
    }
}

fn priced(scale: &Scale) -> Vec<Row> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    Committed::load(&root).unwrap().inputs(&counted()).rows(scale).unwrap()
}

fn scale(drivers: f64, bookings_per_day: f64) -> Scale {
    Scale {
        name: "test".into(),
        profile: "standard".into(),
        drivers,
        point_every_seconds: 5.0,
        points_per_request: 6,
        bookings_per_day,
        recipients_per_booking: 20.0,
        monthly_active_users: 0.0,
        cognito_tier: "lite".into(),
        gps_through_function_url: false,
    }
}

fn usd(rows: &[Row], item: &str) -> f64 {
    rows.iter().find(|r| r.item.starts_with(item)).unwrap_or_else(|| panic!("no row {item}")).usd
}

#[test]
fn ten_times_the_drivers_cost_ten_times_the_gps_writes_and_the_same_fixed_items() {
    // GIVEN the same deployment with 1,000 and with 10,000 drivers
    let (small, large) = (priced(&scale(1000.0, 0.0)), priced(&scale(10_000.0, 0.0)));
    // THEN Kafka data grow tenfold, the brokers and the pollers do not
    let ratio = |item| usd(&large, item) / usd(&small, item);
    assert!((ratio("data between zones") - 10.0).abs() < 1e-9);
    assert_eq!(usd(&large, "MSK provisioned brokers"), usd(&small, "MSK provisioned brokers"));
    assert_eq!(usd(&large, "event pollers"), usd(&small, "event pollers"));
    // AND on-demand (the small profile), 1,000 drivers' points at 0.5 write units each are
    // priced at the file's price per unit
    let on_demand = priced(&Scale { profile: "small".into(), ..scale(1000.0, 0.0) });
    let points = 1000.0 / 5.0 * 30.0 * 86_400.0;
    assert!((usd(&on_demand, "point writes, on-demand") - points * 0.5 / 1e6 * 0.625).abs() < 1e-6);
    let on_demand_fewer = priced(&Scale { profile: "small".into(), ..scale(100.0, 0.0) });
    let ratio = usd(&on_demand, "point writes") / usd(&on_demand_fewer, "point writes");
    assert!((ratio - 10.0).abs() < 1e-9, "{ratio}");
}

#[test]
fn gps_through_the_function_url_moves_its_lambda_time_to_gps_ingest_and_drops_its_gateway_requests() {
    // GIVEN 1,000 drivers (8.64 M requests a month of 6 points) and 100,000 bookings a day, their
    // GPS requests sent through the HTTP API and through gps-ingest's URL
    let through_gateway = priced(&scale(1000.0, 100_000.0));
    let through_url = priced(&Scale { gps_through_function_url: true, ..scale(1000.0, 100_000.0) });
    let (gps_requests, booking_requests) = (1000.0 / 5.0 * 30.0 * 86_400.0 / 6.0, 100_000.0 * 30.0 * 10.0);
    // THEN the Lambda time is the same, split between the api and gps-ingest (the same memory)
    let served = |rows: &[Row]| -> (usize, f64) {
        let lambda = rows.iter().filter(|r| r.part == "Lambda" && (r.item == "api" || r.item == "gps-ingest"));
        lambda.fold((0, 0.0), |(count, usd), row| (count + 1, usd + row.usd))
    };
    let ((gateway_rows, gateway_usd), (url_rows, url_usd)) = (served(&through_gateway), served(&through_url));
    assert_eq!((gateway_rows, url_rows), (1, 2));
    assert!((url_usd - gateway_usd).abs() < 1e-9, "{url_usd} {gateway_usd}");
    // AND only the bookings' requests reach API Gateway and write an access-log line
    let gateway =
        |rows: &[Row]| rows.iter().find(|r| r.item.starts_with("HTTP API requests")).unwrap().quantity.clone();
    assert_eq!(gateway(&through_gateway), format!("{:.0} M", (gps_requests + booking_requests) / 1e6));
    assert_eq!(gateway(&through_url), format!("{:.0} M", booking_requests / 1e6));
    let access = |rows: &[Row]| usd(rows, "logs: an access log line");
    let ratio = access(&through_url) / access(&through_gateway);
    assert!((ratio - booking_requests / (gps_requests + booking_requests)).abs() < 1e-9, "{ratio}");
}

#[test]
fn provisioned_tables_cost_the_capacity_that_keeps_each_ones_counted_rate_at_the_target_utilisation() {
    // GIVEN 1,000 drivers (200 points a second at 0.5 write and 0.1 read units each) on the
    // standard profile, whose tables with a steady load (the GPS tables, the push log, offers
    // and its one index) are provisioned at 70 %, and no booking
    let rows = priced(&scale(1000.0, 0.0));
    // THEN the GPS tables' writes cost 100 / 0.7 write units for the month, the push log, which
    // nothing writes, its minimum of 5, and offers 5 for the table and 5 for its index; their
    // reads 20 / 0.7 read units for the positions' and each other table's and index's minimum
    let hours = 730.0;
    let (writes, reads) = ("writes of the provisioned tables", "reads of the provisioned tables");
    assert!((usd(&rows, writes) - (100.0 / 0.7 + 5.0 + 2.0 * 5.0) * hours * 0.00065).abs() < 1e-6);
    assert!((usd(&rows, reads) - (20.0 / 0.7 + 3.0 * 5.0 + 2.0 * 5.0) * hours * 0.00013).abs() < 1e-6);
    // AND no point is priced on-demand
    assert!(!rows.iter().any(|r| r.item.starts_with("point")), "{rows:?}");
    // AND idle, each of the five steady tables and the one index keeps its minimum of 5 units
    let idle = priced(&scale(0.0, 0.0));
    assert!((usd(&idle, writes) - 6.0 * 5.0 * hours * 0.00065).abs() < 1e-9);
    assert!((usd(&idle, reads) - 6.0 * 5.0 * hours * 0.00013).abs() < 1e-9);
}

#[test]
fn a_booking_reaching_twice_the_counted_transporters_costs_twice_its_fanout_and_its_creation_once() {
    // GIVEN a fan-out counted for 10 recipients (10 write units of offers, 20 of the push log)
    // and a creation of 5 write units
    // WHEN a scale's bookings reach 20 transporters each, on the small profile (all on-demand)
    let rows = priced(&Scale { profile: "small".into(), ..scale(0.0, 1000.0) });
    // THEN each booking writes 5 + 60 units, and pushes 20 times
    let bookings = 1000.0 * 30.0;
    assert!((usd(&rows, "booking writes") - bookings * 65.0 / 1e6 * 0.625).abs() < 1e-9);
    assert!((usd(&rows, "mobile push") - bookings * 20.0 / 1e6 * 0.5).abs() < 1e-9);
    // AND on the standard profile the push log's 40 a booking and the offers' 20 (and the trips'
    // 40, 0.8 trips a booking) move to their provisioned capacity, the offers' under its minimum
    // of 5 for the table and 5 for its index
    let standard = priced(&scale(0.0, 1000.0));
    let push_log = bookings * 40.0 / (30.0 * 86_400.0) / 0.7;
    let offers = (bookings * 20.0 + 0.8 * bookings * 40.0) / (30.0 * 86_400.0) / 0.7;
    assert!((usd(&standard, "booking writes") - bookings * 5.0 / 1e6 * 0.625).abs() < 1e-9);
    let provisioned = (3.0 * 5.0 + push_log.max(5.0) + offers.max(10.0)) * 730.0 * 0.00065;
    assert!((usd(&standard, "writes of the provisioned tables") - provisioned).abs() < 1e-9);
}

#[test]
fn brokers_bill_their_volumes_grown_with_the_retained_records_and_what_crosses_a_zone() {
    // GIVEN the standard profile's three brokers of 200 GB, idle, and with 100,000 and
    // 200,000 drivers, whose 7 days of records need more than 60 % of 200 GB
    let (idle, busy, busier) =
        (priced(&scale(0.0, 0.0)), priced(&scale(100_000.0, 0.0)), priced(&scale(200_000.0, 0.0)));
    // THEN idle, the volumes are what they start with
    assert!((usd(&idle, "broker storage") - 3.0 * 200.0 * 0.10).abs() < 1e-9);
    assert_eq!(usd(&idle, "data between zones"), 0.0);
    // AND busy, they grow with the records (each broker a copy of every partition)
    let ratio = usd(&busier, "broker storage") / usd(&busy, "broker storage");
    assert!((ratio - 2.0).abs() < 1e-3, "{ratio}");
    // AND two thirds of the records in and of every consumer group's reads cross a zone, each
    // crossing billed twice
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mappings = weelo_definitions::load_mappings(&root.join("infra/definitions")).unwrap();
    let readers = mappings.iter().filter(|m| m.topic == "location.updated").count() as f64;
    let bytes_in = 100_000.0 / 5.0 * 30.0 * 86_400.0 * 100.0;
    let crossing = bytes_in * (1.0 + readers) / 1e9 * 2.0 / 3.0;
    assert!((usd(&busy, "data between zones") - crossing * 2.0 * 0.01).abs() < 1e-6);
}

#[test]
fn a_scale_whose_records_outgrow_the_brokers_ceiling_is_refused() {
    // GIVEN the small profile's brokers, whose volumes grow to 100 GiB at most, and 100,000 drivers
    let too_many = Scale { profile: "small".into(), ..scale(100_000.0, 0.0) };
    // WHEN it is priced THEN it is refused, naming the ceiling
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let error = Committed::load(&root).unwrap().inputs(&counted()).rows(&too_many).unwrap_err();
    assert!(error.to_string().contains("msk_broker_volume_max_gb"), "{error}");
}

#[test]
fn a_scale_sending_another_request_shape_than_was_counted_is_refused() {
    let mut other = scale(10.0, 0.0);
    other.points_per_request = 1;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let model: CostModel =
        serde_json::from_str(&std::fs::read_to_string(root.join("infra/cost-model.json")).unwrap()).unwrap();
    let prices = Prices::load(&root).unwrap();
    let counted = counted();
    let inputs = Inputs { model: &model, counted: &counted, prices: &prices, topics: &[], mappings: &[], tables: &[] };
    assert!(inputs.rows(&other).is_err());
}

#[test]
fn only_a_profile_that_provisions_the_steady_tables_pays_for_their_throttle_alarms() {
    // GIVEN the same idle month on the standard profile, which provisions the five steady tables
    // and offers' one index, and on the small one, which keeps every table on-demand
    let standard = priced(&scale(0.0, 0.0));
    let small = priced(&Scale { profile: "small".into(), ..scale(0.0, 0.0) });
    // THEN the standard profile's alarms cost two alarm metrics more a table and an index
    // (reads and writes): 12 at $0.10 a month
    let alarms = "alarms, custom metrics, dashboard";
    assert!((usd(&standard, alarms) - usd(&small, alarms) - 12.0 * 0.10).abs() < 1e-9);
    // AND the small profile prices only the alarms every profile has, and the dashboard
    let committed = Committed::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("..")).unwrap();
    assert!((usd(&small, alarms) - (committed.model.alarm_metrics * 0.10 + 3.0)).abs() < 1e-9);
}
