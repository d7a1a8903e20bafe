//! The location-consumer's handler on MSK batches, against the DynamoDB emulator.

use chrono::{Duration, Utc};
use lambda_runtime::{Context, LambdaEvent};
use weelo_core::contract::events::{DomainEvent, EventRecord, LocationUpdated, LocationsReported};
use weelo_core::model::geo::{GeoGrid, GeoPoint};
use weelo_core::model::ids::{EventId, UserId};
use weelo_core::model::location::LocationPoint;
use weelo_core::ports::{GeoIndexStore, LocationHistoryStore, TrackRange, TransporterStore};
use weelo_testkit::{consumed, msk_event, msk_event_of, unique};

fn update(transporter: &UserId, lat: f64, lng: f64, seconds_ago: i64) -> EventRecord {
    let point = LocationPoint {
        lat,
        lng,
        recorded_at: Utc::now() - Duration::seconds(seconds_ago),
        speed_kmh: Some(30.0),
        heading_deg: None,
        accuracy_m: Some(5.0),
    };
    DomainEvent::LocationUpdated(LocationUpdated { transporter_id: transporter.clone(), point }).to_record(
        EventId::generate(),
        "/weelo/api",
        Utc::now(),
    )
}

/// How many of `transporter`'s points a track of the last day reads.
async fn history_points(transporter: &UserId) -> usize {
    let now = Utc::now();
    let day = TrackRange { from: now - Duration::days(1), until: now, limit: 10_000, after: None };
    let day = weelo_testkit::store().await.track(transporter, day).await.unwrap();
    day.items.len()
}

/// How many items (segments) `transporter`'s history holds in the table.
async fn history_items(transporter: &UserId) -> i32 {
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let client = aws_sdk_dynamodb::Client::new(&aws);
    let output = client
        .query()
        .table_name(std::env::var("TABLE_LOCATION_HISTORY").unwrap())
        .key_condition_expression("transporterId = :t")
        .expression_attribute_values(":t", aws_sdk_dynamodb::types::AttributeValue::S(transporter.to_string()))
        .select(aws_sdk_dynamodb::types::Select::Count)
        .send()
        .await
        .unwrap();
    output.count()
}

#[tokio::test]
async fn ten_thousand_out_of_order_points_keep_the_newest_position_and_all_history() {
    // GIVEN 500 transporters, each sending 20 points, shuffled across batches of 1000
    weelo_testkit::init();
    let consumer = weelo_location_consumer::from_env().await.unwrap();
    let transporters: Vec<UserId> = (0..500).map(|_| UserId::parse(&unique("driver")).unwrap()).collect();
    let mut records = Vec::new();
    for (t, transporter) in transporters.iter().enumerate() {
        for n in 0..20 {
            // seconds_ago = 100 - n: n = 19 is the newest point, at latitude 19.0 + 19/1000.
            records.push((t, n, update(transporter, 19.0 + n as f64 / 1000.0, 72.8 + t as f64 / 10_000.0, 100 - n)));
        }
    }
    // A deterministic shuffle: newest points often come before older ones.
    records.sort_by_key(|(t, n, _)| ((*t as i64 * 7919 + n * 104_729) % 10_007, *n));

    // WHEN the batches are handled
    for (i, chunk) in records.chunks(1000).enumerate() {
        let batch: Vec<EventRecord> = chunk.iter().map(|(_, _, r)| r.clone()).collect();
        let event = LambdaEvent::new(msk_event(&batch, (i * 1000) as i64), Context::default());
        let response = weelo_location_consumer::handle(&consumer, event).await.unwrap();
        assert!(response.is_success(), "{response:?}");
    }

    // THEN each latest position is the newest point, and the history holds all 20 points each
    for transporter in transporters.iter().step_by(25) {
        let position = weelo_testkit::store().await.latest_position(transporter).await.unwrap().unwrap();
        assert!((position.point.lat - 19.019).abs() < 1e-9, "{transporter}: {}", position.point.lat);
        assert_eq!(history_points(transporter).await, 20, "{transporter}");
    }
    let mut total = 0;
    for transporter in &transporters {
        total += history_points(transporter).await;
    }
    assert_eq!(total, 10_000);

    // AND handling the same batches again changes nothing (idempotent)
    let again: Vec<EventRecord> = records.iter().take(1000).map(|(_, _, r)| r.clone()).collect();
    let response =
        weelo_location_consumer::handle(&consumer, LambdaEvent::new(msk_event(&again, 0), Context::default()))
            .await
            .unwrap();
    assert!(response.is_success());
    assert_eq!(history_points(&transporters[0]).await, 20);
}

#[tokio::test]
async fn a_transporter_who_changes_cell_is_indexed_in_the_new_cell_only() {
    weelo_testkit::init();
    let consumer = weelo_location_consumer::from_env().await.unwrap();
    let grid = GeoGrid::default();
    let driver = UserId::parse(&unique("driver")).unwrap();
    let (andheri, pune) = (GeoPoint { lat: 19.1136, lng: 72.8697 }, GeoPoint { lat: 18.5204, lng: 73.8567 });

    // GIVEN the driver seen in Andheri, WHEN seen later in Pune
    for (point, seconds_ago) in [(andheri, 60), (pune, 10)] {
        let batch = [update(&driver, point.lat, point.lng, seconds_ago)];
        weelo_location_consumer::handle(&consumer, LambdaEvent::new(msk_event(&batch, 0), Context::default()))
            .await
            .unwrap();
    }

    // THEN the index has them in Pune's cell and no longer in Andheri's
    let in_cell = |entries: Vec<weelo_core::ports::CellEntry>| entries.iter().any(|e| e.transporter_id == driver);
    assert!(in_cell(weelo_testkit::store().await.transporters_in_cells(&[grid.cell(pune)]).await.unwrap()));
    assert!(!in_cell(weelo_testkit::store().await.transporters_in_cells(&[grid.cell(andheri)]).await.unwrap()));

    // AND an older point arriving late moves nothing
    let late = [update(&driver, andheri.lat, andheri.lng, 30)];
    weelo_location_consumer::handle(&consumer, LambdaEvent::new(msk_event(&late, 5), Context::default()))
        .await
        .unwrap();
    assert!(in_cell(weelo_testkit::store().await.transporters_in_cells(&[grid.cell(pune)]).await.unwrap()));
    assert_eq!(weelo_testkit::store().await.latest_position(&driver).await.unwrap().unwrap().point.lat, pune.lat);
}

#[tokio::test]
async fn a_poison_record_fails_alone_and_the_points_before_it_are_kept() {
    weelo_testkit::init();
    let consumer = weelo_location_consumer::from_env().await.unwrap();
    let driver = UserId::parse(&unique("driver")).unwrap();
    let good = update(&driver, 19.0, 72.8, 5);
    let later = update(&driver, 19.5, 72.8, 1);
    let event = msk_event_of(&[
        consumed("location.updated", 0, 40, good.key.as_bytes(), good.payload.as_bytes()),
        consumed("location.updated", 0, 41, b"k", b"{not json"),
        consumed("location.updated", 0, 42, b"k", later.payload.as_bytes()),
    ]);

    let response =
        weelo_location_consumer::handle(&consumer, LambdaEvent::new(event, Context::default())).await.unwrap();

    assert_eq!(response.batch_item_failures.len(), 1);
    assert_eq!(response.batch_item_failures[0].item_identifier.offset, 41);
    assert_eq!(response.batch_item_failures[0].item_identifier.partition, "location.updated-0");
    // the point before the poison is stored; the one after waits for the redelivery from offset 41
    assert_eq!(weelo_testkit::store().await.latest_position(&driver).await.unwrap().unwrap().point.lat, 19.0);
}

#[tokio::test]
async fn a_request_of_points_is_stored_point_by_point_and_its_redelivery_adds_none() {
    // GIVEN a driver's 5-point request as the api publishes it (one record), after a single point
    // of the form published before
    weelo_testkit::init();
    let consumer = weelo_location_consumer::from_env().await.unwrap();
    let driver = UserId::parse(&unique("driver")).unwrap();
    let points: Vec<LocationPoint> = (0..5)
        .map(|n| LocationPoint {
            lat: 19.0 + f64::from(n) / 1000.0,
            lng: 72.8,
            recorded_at: Utc::now() - Duration::seconds(50 - 5 * i64::from(n)),
            speed_kmh: None,
            heading_deg: None,
            accuracy_m: None,
        })
        .collect();
    let reported = LocationsReported { transporter_id: driver.clone(), points };
    let request = DomainEvent::LocationsReported(reported).to_record(EventId::generate(), "/weelo/api", Utc::now());
    let batch = [update(&driver, 18.9, 72.8, 120), request];

    // WHEN the batch is handled, then delivered again
    for _ in 0..2 {
        let event = LambdaEvent::new(msk_event(&batch, 0), Context::default());
        let response = weelo_location_consumer::handle(&consumer, event).await.unwrap();
        assert!(response.is_success(), "{response:?}");
    }

    // THEN the history holds the six points once each, in one item (one segment a transporter
    // a batch), and the position is the request's newest
    assert_eq!(history_points(&driver).await, 6);
    assert_eq!(history_items(&driver).await, 1);
    assert!(
        (weelo_testkit::store().await.latest_position(&driver).await.unwrap().unwrap().point.lat - 19.004).abs() < 1e-9
    );
}
