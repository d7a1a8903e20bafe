//! Bookings through the real api against the local stack: create, read, accept (with the race),
//! cancel, location, idempotency, ownership, and "a rejected request changes nothing".

use crate::support::*;
use chrono::Utc;
use serde_json::json;
use weelo_core::contract::events::LocationUpdated;
use weelo_core::model::ids::{BookingId, EventId};
use weelo_core::model::location::{LocationPoint, Position};
use weelo_core::ports::{
    BookingStore, CellEntry, Creation, GeoIndexStore, IdempotencyRecord, IndexMove, IndexNote, LocationHistoryStore,
    OfferStore, OfferSubject, TransporterStore,
};

async fn create_booking(app: &ApiClient, customer: &User) -> BookingId {
    let response = app.call("POST", "/v1/bookings", Some(customer), Some(booking_body())).await;
    assert_eq!(response.status, 201, "{}", response.body);
    BookingId::parse(response.body["bookingId"].as_str().unwrap()).unwrap()
}

/// Offers `booking` to `transporters`, each with a profile as the matching requires.
async fn offer(app: &ApiClient, booking: BookingId, transporters: &[&User]) {
    for transporter in transporters {
        let profile = json!({ "vehicleTypes": ["tipper"], "available": true });
        let answer = app.call("PUT", "/v1/transporters/me", Some(transporter), Some(profile)).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
    }
    let ids: Vec<_> = transporters.iter().map(|t| t.user_id()).collect();
    app.app().store.put_offers(OfferSubject::Booking(booking), &ids, Utc::now()).await.unwrap();
}

#[tokio::test]
async fn a_customer_books_a_truck_and_booking_created_is_published_once() {
    // GIVEN a customer
    let app = spawn_app().await;
    let customer = User::customer();
    let since = Utc::now();

    // WHEN they book a tipper
    let response = app.call("POST", "/v1/bookings", Some(&customer), Some(booking_body())).await;

    // THEN the answer is 201 searching, and exactly one booking.created event carries the booking
    assert_eq!(response.status, 201, "{}", response.body);
    assert_eq!(response.body["status"], "searching");
    let booking_id = response.body["bookingId"].as_str().unwrap().to_owned();
    assert!(response.body["createdAt"].as_str().is_some());
    let records = records_of_type("booking.events", &booking_id, CREATED, since, 1).await;
    assert_eq!(records.len(), 1);
    let event = cloud_event(&records[0]);
    assert_eq!(event["type"], "com.weelo.booking.created.v1");
    assert_eq!(event["specversion"], "1.0");
    assert_eq!(event["subject"], format!("booking/{booking_id}"));
    assert_eq!(event["data"]["customerId"], customer.id.as_str());
    assert_eq!(event["data"]["vehicleType"], "tipper");

    // AND the owner can read it back
    let read = app.call("GET", &format!("/v1/bookings/{booking_id}"), Some(&customer), None).await;
    assert_eq!(read.status, 200);
    assert_eq!(read.body["pickup"]["address"], "Andheri East, Mumbai");
    assert_eq!(read.body["status"], "searching");
}

#[tokio::test]
async fn an_invalid_booking_names_its_fields_and_writes_and_publishes_nothing() {
    // GIVEN a customer and a body with three problems
    let app = spawn_app().await;
    let customer = User::customer();
    let since = Utc::now();
    let body = json!({ "pickup": { "lat": 95.0, "lng": 72.8 }, "drop": { "lat": 18.5, "lng": 200.0 }, "vehicleType": "tipper",
                       "scheduledAt": "2020-01-01T00:00:00Z" });
    let headers = vec![
        ("content-type".to_owned(), "application/json".to_owned()),
        ("authorization".to_owned(), format!("Bearer {}", customer.token)),
        ("idempotency-key".to_owned(), "invalid-then-valid".to_owned()),
    ];

    // WHEN it is sent
    let response = app.call_raw("POST", "/v1/bookings", &headers, &body.to_string()).await;

    // THEN 400 names each field
    assert_eq!(response.status, 400);
    assert_eq!(response.error_code(), "validation_failed");
    let fields: Vec<&str> =
        response.body["error"]["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["pickup.lat", "drop.lng", "scheduledAt"]);

    // AND the idempotency key was not consumed: the same key with a valid body creates a booking
    let valid = app.call_raw("POST", "/v1/bookings", &headers, &booking_body().to_string()).await;
    assert_eq!(valid.status, 201, "{}", valid.body);
    assert!(valid.headers.get("idempotent-replayed").is_none());

    // AND the only event for this customer is that valid booking's
    let customer_id = customer.id.clone();
    let events = records_matching("booking.events", since, 1, move |r| r.value_text().contains(&customer_id)).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].key_text().as_deref(), valid.body["bookingId"].as_str());
}

#[tokio::test]
async fn the_same_idempotency_key_and_body_returns_the_same_booking_and_one_event() {
    // GIVEN a booking made with an idempotency key
    let app = spawn_app().await;
    let customer = User::customer();
    let since = Utc::now();
    let headers = |key: &str| {
        vec![
            ("content-type".to_owned(), "application/json".to_owned()),
            ("authorization".to_owned(), format!("Bearer {}", customer.token)),
            ("idempotency-key".to_owned(), key.to_owned()),
        ]
    };
    let first = app.call_raw("POST", "/v1/bookings", &headers("key-1"), &booking_body().to_string()).await;
    assert_eq!(first.status, 201);

    // WHEN the same request is retried, with other whitespace
    let retry = app.call_raw("POST", "/v1/bookings", &headers("key-1"), &format!("  {}  ", booking_body())).await;

    // THEN it answers the same booking, marked as a replay
    assert_eq!(retry.status, 201);
    assert_eq!(retry.body, first.body);
    assert_eq!(retry.headers.get("idempotent-replayed").unwrap(), "true");

    // AND the same key with another body is a conflict
    let mut other = booking_body();
    other["vehicleType"] = json!("container");
    let conflict = app.call_raw("POST", "/v1/bookings", &headers("key-1"), &other.to_string()).await;
    assert_eq!(conflict.status, 409);
    assert_eq!(conflict.error_code(), "idempotency_key_reused");

    // AND keys are private to their user: another customer's "key-1" is a new booking
    let stranger = User::customer();
    let theirs = app
        .call_raw(
            "POST",
            "/v1/bookings",
            &[
                ("content-type".to_owned(), "application/json".to_owned()),
                ("authorization".to_owned(), format!("Bearer {}", stranger.token)),
                ("idempotency-key".to_owned(), "key-1".to_owned()),
            ],
            &booking_body().to_string(),
        )
        .await;
    assert_eq!(theirs.status, 201);
    assert_ne!(theirs.body["bookingId"], first.body["bookingId"]);

    // AND exactly one event was published for the first booking
    let records = records_of_type("booking.events", first.body["bookingId"].as_str().unwrap(), CREATED, since, 1).await;
    assert_eq!(records.len(), 1);
}

#[tokio::test]
async fn concurrent_idempotent_retries_create_one_booking() {
    // GIVEN one request sent five times at once with the same key
    let app = spawn_app().await;
    let customer = User::customer();
    let headers = vec![
        ("content-type".to_owned(), "application/json".to_owned()),
        ("authorization".to_owned(), format!("Bearer {}", customer.token)),
        ("idempotency-key".to_owned(), "burst".to_owned()),
    ];
    let body = booking_body().to_string();
    let calls = (0..5).map(|_| app.call_raw("POST", "/v1/bookings", &headers, &body));

    // WHEN they race
    let responses = futures::future::join_all(calls).await;

    // THEN all answer 201 with one and the same booking id
    assert!(responses.iter().all(|r| r.status == 201), "{:?}", responses.iter().map(|r| r.status).collect::<Vec<_>>());
    let ids: std::collections::BTreeSet<String> = responses.iter().map(|r| r.body["bookingId"].to_string()).collect();
    assert_eq!(ids.len(), 1);
}

#[tokio::test]
async fn an_idempotency_key_used_more_than_a_day_ago_makes_a_new_booking() {
    // GIVEN a key this customer used 25 hours ago: its record has expired (keys live 24 h) but is
    // still in the table, as DynamoDB's TTL deletes expired items up to days late
    let app = spawn_app().await;
    let customer = User::customer();
    let store = &app.app().store;
    let mut yesterday_s = store.get_booking(create_booking(&app, &customer).await).await.unwrap().unwrap();
    yesterday_s.booking_id = BookingId::generate();
    let used_at = Utc::now() - chrono::Duration::hours(25);
    let expired = IdempotencyRecord {
        // The scoping the api applies to a client's key: `<user>#<operation>#<key>`.
        scoped_key: format!("{}#create-booking#yesterday", customer.id),
        request_hash: "the hash of yesterday's request".into(),
        receipt: json!({ "bookingId": yesterday_s.booking_id, "status": "searching", "createdAt": used_at })
            .to_string(),
        created_at: used_at,
    };
    store.create_booking(Creation { new: &yesterday_s, events: &[], idempotency: Some(&expired) }).await.unwrap();
    let headers = vec![
        ("content-type".to_owned(), "application/json".to_owned()),
        ("authorization".to_owned(), format!("Bearer {}", customer.token)),
        ("idempotency-key".to_owned(), "yesterday".to_owned()),
    ];

    // WHEN the customer books with the same key today
    let today = app.call_raw("POST", "/v1/bookings", &headers, &booking_body().to_string()).await;

    // THEN it is a new booking, not yesterday's answer and not a conflict
    assert_eq!(today.status, 201, "{}", today.body);
    assert!(today.headers.get("idempotent-replayed").is_none());
    assert_ne!(today.body["bookingId"], json!(yesterday_s.booking_id));

    // AND the key now holds today's booking: a retry replays it
    let retry = app.call_raw("POST", "/v1/bookings", &headers, &booking_body().to_string()).await;
    assert_eq!(retry.status, 201);
    assert_eq!(retry.headers.get("idempotent-replayed").unwrap(), "true");
    assert_eq!(retry.body, today.body);
}

#[tokio::test]
async fn a_booking_is_visible_to_its_owner_and_offered_transporters_only() {
    // GIVEN a booking offered to one transporter
    let app = spawn_app().await;
    let (owner, stranger) = (User::customer(), User::customer());
    let (offered, not_offered) = (User::transporter(), User::transporter());
    let booking = create_booking(&app, &owner).await;
    offer(&app, booking, &[&offered]).await;
    let path = format!("/v1/bookings/{booking}");

    // WHEN each of them reads it THEN only the owner and the offered transporter see it
    assert_eq!(app.call("GET", &path, Some(&owner), None).await.status, 200);
    assert_eq!(app.call("GET", &path, Some(&offered), None).await.status, 200);
    let hidden = app.call("GET", &path, Some(&stranger), None).await;
    assert_eq!(hidden.status, 404);
    assert_eq!(hidden.error_code(), "not_found");
    assert_eq!(app.call("GET", &path, Some(&not_offered), None).await.status, 404);

    // AND ids that do not exist or are not ids at all are simply not found
    assert_eq!(
        app.call("GET", &format!("/v1/bookings/{}", BookingId::generate()), Some(&owner), None).await.status,
        404
    );
    assert_eq!(app.call("GET", "/v1/bookings/not-an-id", Some(&owner), None).await.status, 404);
}

#[tokio::test]
async fn twenty_concurrent_accepts_have_exactly_one_winner() {
    // GIVEN a booking offered to twenty transporters
    let app = spawn_app().await;
    let owner = User::customer();
    let transporters: Vec<User> = (0..20).map(|_| User::transporter()).collect();
    let booking = create_booking(&app, &owner).await;
    offer(&app, booking, &transporters.iter().collect::<Vec<_>>()).await;
    let since = Utc::now();
    let path = format!("/v1/bookings/{booking}/accept");

    // WHEN all of them accept at once
    let calls = transporters.iter().map(|t| app.call("POST", &path, Some(t), None));
    let responses = futures::future::join_all(calls).await;

    // THEN exactly one gets 200 and nineteen get 409
    let statuses: Vec<u16> = responses.iter().map(|r| r.status).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 19, "{statuses:?}");
    let winner = responses.iter().find(|r| r.status == 200).unwrap();
    assert_eq!(winner.body["status"], "accepted");
    let loser = responses.iter().find(|r| r.status == 409).unwrap();
    assert_eq!(loser.error_code(), "booking_unavailable");

    // AND the stored booking names the winner to the owner but not to a loser, and one
    // booking.accepted event was published
    let stored = app.call("GET", &format!("/v1/bookings/{booking}"), Some(&owner), None).await;
    assert_eq!(stored.body["acceptedBy"], winner.body["acceptedBy"]);
    let losing_transporter = transporters.iter().find(|t| winner.body["acceptedBy"] != t.id.as_str()).unwrap();
    let seen_by_loser = app.call("GET", &format!("/v1/bookings/{booking}"), Some(losing_transporter), None).await;
    assert_eq!(seen_by_loser.body["status"], "accepted", "{}", seen_by_loser.body);
    assert!(seen_by_loser.body.get("acceptedBy").is_none() && seen_by_loser.body.get("acceptedAt").is_none());
    let records = records_of_type("booking.events", &booking.to_string(), ACCEPTED, since, 1).await;
    assert_eq!(records.len(), 1);
    assert_eq!(cloud_event(&records[0])["data"]["transporterId"], winner.body["acceptedBy"]);
    assert_eq!(cloud_event(&records[0])["data"]["customerId"], owner.id.as_str());
}

#[tokio::test]
async fn only_offered_transporters_may_accept() {
    // GIVEN a booking offered to nobody in particular
    let app = spawn_app().await;
    let owner = User::customer();
    let booking = create_booking(&app, &owner).await;
    let path = format!("/v1/bookings/{booking}/accept");

    // WHEN a transporter it was not offered to accepts THEN 404, and a customer gets 403
    assert_eq!(app.call("POST", &path, Some(&User::transporter()), None).await.status, 404);
    let forbidden = app.call("POST", &path, Some(&owner), None).await;
    assert_eq!(forbidden.status, 403);
    assert_eq!(forbidden.error_code(), "forbidden");

    // AND the booking is still searching
    let stored = app.call("GET", &format!("/v1/bookings/{booking}"), Some(&owner), None).await;
    assert_eq!(stored.body["status"], "searching");
}

#[tokio::test]
async fn the_owner_cancels_and_the_booking_can_no_longer_be_accepted() {
    // GIVEN an offered booking
    let app = spawn_app().await;
    let (owner, stranger, offered) = (User::customer(), User::customer(), User::transporter());
    let booking = create_booking(&app, &owner).await;
    offer(&app, booking, &[&offered]).await;
    let since = Utc::now();
    let cancel = format!("/v1/bookings/{booking}/cancel");

    // WHEN someone else tries to cancel THEN 404 (customer) or 403 (transporter), and nothing changes
    assert_eq!(app.call("POST", &cancel, Some(&stranger), None).await.status, 404);
    assert_eq!(app.call("POST", &cancel, Some(&offered), None).await.status, 403);

    // WHEN the owner cancels THEN 200 cancelled, once more 200 unchanged, and one booking.cancelled event
    let cancelled = app.call("POST", &cancel, Some(&owner), None).await;
    assert_eq!(cancelled.status, 200);
    assert_eq!(cancelled.body["status"], "cancelled");
    let again = app.call("POST", &cancel, Some(&owner), None).await;
    assert_eq!(again.status, 200);
    assert_eq!(again.body["cancelledAt"], cancelled.body["cancelledAt"]);
    let records = records_of_type("booking.events", &booking.to_string(), CANCELLED, since, 1).await;
    assert_eq!(records.len(), 1);
    assert_eq!(cloud_event(&records[0])["data"]["previousStatus"], "searching");

    // AND accepting it now is a conflict
    let late = app.call("POST", &format!("/v1/bookings/{booking}/accept"), Some(&offered), None).await;
    assert_eq!(late.status, 409);
    assert_eq!(late.error_code(), "booking_unavailable");
}

#[tokio::test]
async fn the_owner_sees_the_assigned_transporters_latest_position() {
    // GIVEN a booking
    let app = spawn_app().await;
    let (owner, stranger, driver) = (User::customer(), User::customer(), User::transporter());
    let booking = create_booking(&app, &owner).await;
    let path = format!("/v1/bookings/{booking}/location");

    // WHEN nobody has accepted THEN there is no position
    let none = app.call("GET", &path, Some(&owner), None).await;
    assert_eq!(none.status, 404);

    // WHEN the driver accepted but has sent no position THEN still 404
    offer(&app, booking, &[&driver]).await;
    assert_eq!(app.call("POST", &format!("/v1/bookings/{booking}/accept"), Some(&driver), None).await.status, 200);
    assert_eq!(app.call("GET", &path, Some(&owner), None).await.status, 404);

    // WHEN a point of the driver's is in the GPS history THEN the owner gets it; others get 404 or 403
    let point = LocationPoint {
        lat: 19.1,
        lng: 72.9,
        recorded_at: Utc::now(),
        speed_kmh: Some(32.5),
        heading_deg: Some(90.0),
        accuracy_m: None,
    };
    let reported = LocationUpdated { transporter_id: driver.user_id(), point };
    app.app().store.append_points(&[(EventId::generate(), reported)]).await.unwrap();
    let seen = app.call("GET", &path, Some(&owner), None).await;
    assert_eq!(seen.status, 200, "{}", seen.body);
    assert_eq!(seen.body["transporterId"], driver.id.as_str());
    assert_eq!(seen.body["lat"], 19.1);
    assert_eq!(seen.body["speedKmh"], 32.5);
    assert_eq!(app.call("GET", &path, Some(&stranger), None).await.status, 404);
    assert_eq!(app.call("GET", &path, Some(&driver), None).await.status, 403);
}

#[tokio::test]
async fn an_older_position_never_overwrites_a_newer_one() {
    // GIVEN a stored position item (the geo index's note of a point)
    let app = spawn_app().await;
    let driver = User::transporter().user_id();
    // In whole milliseconds, as positions store their times.
    let now = chrono::DateTime::from_timestamp_millis(Utc::now().timestamp_millis()).unwrap();
    let at = |seconds_ago: i64| Position {
        transporter_id: driver.clone(),
        point: LocationPoint {
            lat: 10.0 + seconds_ago as f64,
            lng: 70.0,
            recorded_at: now - chrono::Duration::seconds(seconds_ago),
            speed_kmh: None,
            heading_deg: None,
            accuracy_m: None,
        },
    };
    let store = &app.app().store;
    assert!(store.write_position(&at(10), None).await.unwrap());

    // WHEN an older point arrives THEN it is ignored; a newer one replaces it
    let stored_at = async || store.stored_positions(std::slice::from_ref(&driver)).await.unwrap()[0].recorded_at;
    assert!(!store.write_position(&at(20), None).await.unwrap());
    assert_eq!(stored_at().await, at(10).point.recorded_at);
    assert!(store.write_position(&at(1), None).await.unwrap());
    assert_eq!(stored_at().await, at(1).point.recorded_at);
}

#[tokio::test]
async fn a_position_is_read_back_with_where_the_index_files_the_transporter_and_a_move_leaves_one_entry() {
    // GIVEN a transporter filed in the geo index in cell-a as of a point 30 s ago, its position
    // written with that note
    let app = spawn_app().await;
    let store = &app.app().store;
    let driver = User::transporter().user_id();
    // In whole milliseconds, as positions store their times.
    let now = chrono::DateTime::from_timestamp_millis(Utc::now().timestamp_millis()).unwrap();
    let at = |seconds_ago: i64| Position {
        transporter_id: driver.clone(),
        point: LocationPoint {
            lat: 10.0,
            lng: 70.0,
            recorded_at: now - chrono::Duration::seconds(seconds_ago),
            speed_kmh: None,
            heading_deg: None,
            accuracy_m: None,
        },
    };
    let moved = |seconds_ago: i64, from: Option<&str>, to: &str| IndexMove {
        entry: CellEntry {
            transporter_id: driver.clone(),
            lat: 10.0,
            lng: 70.0,
            recorded_at: at(seconds_ago).point.recorded_at,
        },
        from: from.map(str::to_owned),
        to: to.to_owned(),
    };
    let note =
        |seconds_ago: i64, cell: &str| IndexNote { cell: cell.to_owned(), at: at(seconds_ago).point.recorded_at };
    let read = async || store.stored_positions(std::slice::from_ref(&driver)).await.unwrap();
    assert!(read().await.is_empty(), "no position yet");
    store.file_in_index(&[moved(30, None, "cell-a")]).await.unwrap();
    assert!(store.write_position(&at(30), Some(&note(30, "cell-a"))).await.unwrap());
    let stored = read().await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].recorded_at.timestamp_millis(), at(30).point.recorded_at.timestamp_millis());
    assert_eq!(stored[0].filed, Some(note(30, "cell-a")));

    // WHEN a point 10 s ago moves them to cell-b, the move filed first and the position last
    store.file_in_index(&[moved(10, Some("cell-a"), "cell-b")]).await.unwrap();
    assert!(store.write_position(&at(10), Some(&note(10, "cell-b"))).await.unwrap());

    // THEN the position says cell-b as of that point, only cell-b holds the transporter, and the
    // same move filed again (a redelivery) changes nothing
    assert_eq!(read().await[0].filed, Some(note(10, "cell-b")));
    store.file_in_index(&[moved(10, Some("cell-a"), "cell-b")]).await.unwrap();
    let in_a = store.transporters_in_cells(&["cell-a".to_owned()]).await.unwrap();
    let in_b = store.transporters_in_cells(&["cell-b".to_owned()]).await.unwrap();
    assert!(in_a.iter().all(|e| e.transporter_id != driver));
    assert_eq!(in_b.iter().filter(|e| e.transporter_id == driver).count(), 1);
    // AND the write replaces the whole item: a position written with no note has none (the use
    // case passes the stored note on when no index write is due)
    assert!(store.write_position(&at(1), None).await.unwrap());
    assert_eq!(read().await[0].filed, None);
}
