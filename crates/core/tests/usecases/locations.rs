//! Location processing: every point goes to the history, where the latest position is read; the
//! geo index is written on a move or once per refresh window, each time with the position item
//! that notes it, never older than the one stored.

use crate::support::*;
use chrono::{DateTime, Duration, Utc};
use weelo_core::model::geo::{GeoGrid, GeoPoint};
use weelo_core::ports::TransporterStore;
use weelo_core::testing::MemoryStore;
use weelo_core::usecases::locations::LocationProcessing;

/// `seconds` into a fixed minute (the use case takes points as they come; the api judges their age).
fn at(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap()
}

fn processing(store: &MemoryStore) -> LocationProcessing<MemoryStore> {
    LocationProcessing::new(store.clone(), GeoGrid::default(), Duration::seconds(60))
}

#[tokio::test]
async fn a_batch_keeps_each_transporters_newest_point_and_every_point_in_the_history() {
    // GIVEN a batch with three points of one truck, out of order, and two of another
    let store = MemoryStore::new();
    let batch = [
        point("t1", north_of_pickup(200.0), at(20)),
        point("t1", north_of_pickup(300.0), at(30)),
        point("t2", north_of_pickup(900.0), at(5)),
        point("t1", north_of_pickup(100.0), at(10)),
        point("t2", north_of_pickup(800.0), at(1)),
    ];

    // WHEN it is processed
    let report = processing(&store).on_batch(&batch).await.unwrap();

    // THEN each truck's position is its newest point, written once, and the history holds all five
    assert_eq!((report.points, report.transporters, report.positions_written), (5, 2, 2));
    let newest = |id: &str| {
        let store = store.clone();
        let id = user(id);
        async move { store.latest_position(&id).await.unwrap().unwrap().point.recorded_at }
    };
    assert_eq!((newest("t1").await, newest("t2").await), (at(30), at(5)));
    assert_eq!((store.history_len(&user("t1")), store.history_len(&user("t2"))), (3, 2));
}

#[tokio::test]
async fn an_older_batch_never_winds_a_position_back() {
    let store = MemoryStore::new();
    processing(&store).on_batch(&[point("t1", north_of_pickup(500.0), at(50))]).await.unwrap();

    let late = processing(&store).on_batch(&[point("t1", north_of_pickup(100.0), at(10))]).await.unwrap();

    assert_eq!(late.positions_written, 0);
    let position = store.latest_position(&user("t1")).await.unwrap().unwrap();
    assert_eq!(position.point.recorded_at, at(50));
    assert_eq!(store.history_len(&user("t1")), 2);
}

#[tokio::test]
async fn the_geo_index_is_written_on_a_move_and_once_a_minute_within_a_cell() {
    // GIVEN a truck parked in one cell sending a point every 5 s for a minute, then driving off
    let store = MemoryStore::new();
    let grid = GeoGrid::default();
    let minute_start = at(0);
    let mut index_writes = 0;
    for tick in 0..12 {
        let batch = [point("t1", PICKUP, minute_start + Duration::seconds(tick * 5))];
        index_writes += processing(&store).on_batch(&batch).await.unwrap().index_writes;
    }
    let far = north_of_pickup(20_000.0);
    let moved = processing(&store).on_batch(&[point("t1", far, minute_start + Duration::seconds(61))]).await.unwrap();

    // THEN the minute in one cell cost one index write, the move one more, and the truck is filed
    // only in its new cell
    assert_eq!(index_writes, 1);
    assert_eq!((moved.index_writes, moved.cell_moves), (1, 1));
    let here = grid.cell(GeoPoint { lat: PICKUP.0, lng: PICKUP.1 });
    let there = grid.cell(GeoPoint { lat: far.0, lng: far.1 });
    assert!(store.cell(&here).is_empty());
    assert_eq!(store.cell(&there).len(), 1);
}

#[tokio::test]
async fn a_failed_index_write_leaves_the_note_as_it_was_and_the_redelivery_does_the_whole_move() {
    // GIVEN a truck filed at the pickup, then a batch that moves it 20 km while the index is down
    let store = MemoryStore::new();
    let grid = GeoGrid::default();
    processing(&store).on_batch(&[point("t1", PICKUP, at(0))]).await.unwrap();
    let far = north_of_pickup(20_000.0);
    let batch = [point("t1", far, at(30))];
    store.fail_index_writes(true);
    let note = || {
        let store = store.clone();
        async move { store.stored_positions(&[user("t1")]).await.unwrap()[0].clone() }
    };

    // WHEN the batch fails, and is delivered again once the index is back
    assert!(processing(&store).on_batch(&batch).await.unwrap_err().retryable);
    let before = note().await;
    store.fail_index_writes(false);
    let again = processing(&store).on_batch(&batch).await.unwrap();

    // THEN the failed try left the note at the pickup, and the retry moved the truck: index and
    // note; the latest position is the new point
    assert_eq!((before.recorded_at, before.filed.map(|f| f.at)), (at(0), Some(at(0))));
    assert_eq!((again.positions_written, again.cell_moves), (1, 1));
    assert_eq!(note().await.filed.map(|f| f.cell), Some(grid.cell(GeoPoint { lat: far.0, lng: far.1 })));
    assert_eq!(store.latest_position(&user("t1")).await.unwrap().unwrap().point.recorded_at, at(30));
    assert!(store.cell(&grid.cell(GeoPoint { lat: PICKUP.0, lng: PICKUP.1 })).is_empty());
    assert_eq!(store.cell(&grid.cell(GeoPoint { lat: far.0, lng: far.1 })).len(), 1);
}

#[tokio::test]
async fn a_point_that_needs_no_index_write_writes_no_position_item_yet_is_the_latest_position() {
    // GIVEN a truck filed at the pickup at second 0
    let store = MemoryStore::new();
    processing(&store).on_batch(&[point("t1", PICKUP, at(0))]).await.unwrap();

    // WHEN it sends another point from the same cell within the refresh window
    let report = processing(&store).on_batch(&[point("t1", PICKUP, at(30))]).await.unwrap();

    // THEN neither the index nor the position item is written, the note still says second 0, and
    // the latest position is the new point, from the history
    assert_eq!((report.index_writes, report.positions_written), (0, 0));
    assert_eq!(store.stored_positions(&[user("t1")]).await.unwrap()[0].recorded_at, at(0));
    assert_eq!(store.latest_position(&user("t1")).await.unwrap().unwrap().point.recorded_at, at(30));
}
