//! Devices (SNS platform endpoints), transporter profiles and GPS ingest through the real api.

use crate::support::*;
use chrono::{Duration, Utc};
use serde_json::json;
use weelo_core::model::ids::DeviceId;
use weelo_core::ports::DeviceStore;

#[tokio::test]
async fn registering_a_device_creates_one_sns_endpoint_and_is_idempotent() {
    // GIVEN a transporter with a phone
    let app = spawn_app().await;
    let driver = User::transporter();
    let token = unique("fcm-token");
    let body = json!({ "platform": "android", "token": token });

    // WHEN the phone registers twice
    let first = app.call("POST", "/v1/devices", Some(&driver), Some(body.clone())).await;
    let second = app.call("POST", "/v1/devices", Some(&driver), Some(body)).await;

    // THEN 201 then 200 with the same device id
    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!(second.status, 200);
    assert_eq!(first.body["deviceId"], second.body["deviceId"]);

    // AND the device is stored with a real SNS platform endpoint for that token
    let device_id = DeviceId::parse(first.body["deviceId"].as_str().unwrap()).unwrap();
    let device = app.app().store.get_device(&driver.user_id(), device_id).await.unwrap().unwrap();
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let attributes = aws_sdk_sns::Client::new(&aws)
        .get_endpoint_attributes()
        .endpoint_arn(&device.endpoint_arn)
        .send()
        .await
        .expect("the endpoint exists in SNS");
    assert_eq!(attributes.attributes().unwrap().get("Token"), Some(&token));
}

#[tokio::test]
async fn device_registration_rejects_bad_platforms_and_tokens() {
    let app = spawn_app().await;
    let user = User::customer();
    let cases = [
        (json!({ "platform": "windows", "token": "t" }), "platform"),
        (json!({ "platform": "ios" }), "token"),
        (json!({ "platform": "ios", "token": "" }), "token"),
        (json!({ "platform": "ios", "token": "has space" }), "token"),
        (json!({ "platform": "ios", "token": "x".repeat(4097) }), "token"),
        (json!({ "platform": "ios", "token": "t", "extra": 1 }), "extra"),
    ];
    for (body, field) in cases {
        let response = app.call("POST", "/v1/devices", Some(&user), Some(body.clone())).await;
        assert_eq!(response.status, 400, "{body}");
        assert_eq!(response.body["error"]["details"][0]["field"], field, "{body}");
    }
}

#[tokio::test]
async fn a_transporter_sets_their_profile_and_customers_cannot() {
    let app = spawn_app().await;
    let driver = User::transporter();
    let body = json!({ "vehicleTypes": ["tipper", "open"], "available": true });
    let response = app.call("PUT", "/v1/transporters/me", Some(&driver), Some(body.clone())).await;
    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(response.body["transporterId"], driver.id.as_str());
    assert_eq!(response.body["vehicleTypes"], json!(["tipper", "open"]));
    assert_eq!(response.body["available"], true);

    let update = app
        .call(
            "PUT",
            "/v1/transporters/me",
            Some(&driver),
            Some(json!({ "vehicleTypes": ["mini"], "available": false })),
        )
        .await;
    assert_eq!(update.body["vehicleTypes"], json!(["mini"]));
    assert_eq!(update.body["available"], false);

    assert_eq!(app.call("PUT", "/v1/transporters/me", Some(&User::customer()), Some(body)).await.status, 403);
    let invalid = app
        .call("PUT", "/v1/transporters/me", Some(&driver), Some(json!({ "vehicleTypes": ["bus"], "available": true })))
        .await;
    assert_eq!(invalid.status, 400);
    assert_eq!(invalid.body["error"]["details"][0]["field"], "vehicleTypes[0]");
}

#[tokio::test]
async fn gps_points_are_accepted_and_published_one_record_per_request_keyed_by_transporter() {
    // GIVEN a transporter streaming GPS
    let app = spawn_app().await;
    let driver = User::transporter();
    let since = Utc::now();
    let point = |seconds_ago: i64| json!({ "lat": 19.1, "lng": 72.9, "recordedAt": (Utc::now() - Duration::seconds(seconds_ago)).to_rfc3339(), "speedKmh": 40.0 });

    // WHEN they send one point, then a batch of three
    let single = app.call("POST", "/v1/tracking/location", Some(&driver), Some(point(5))).await;
    let batch = app
        .call("POST", "/v1/tracking/location", Some(&driver), Some(json!({ "points": [point(4), point(3), point(2)] })))
        .await;

    // THEN 202 with the counts, and one location.updated record per request keyed by the
    // transporter, holding that request's points in the order sent
    assert_eq!(single.status, 202, "{}", single.body);
    assert_eq!(single.body, json!({ "accepted": 1 }));
    assert_eq!(batch.status, 202);
    assert_eq!(batch.body, json!({ "accepted": 3 }));
    let records = records_with_key("location.updated", &driver.id, since, 2).await;
    assert_eq!(records.len(), 2);
    let events: Vec<_> = records.iter().map(cloud_event).collect();
    for event in &events {
        assert_eq!(event["type"], "com.weelo.location.reported.v1");
        assert_eq!(event["data"]["transporterId"], driver.id.as_str());
    }
    let sent = |event: &serde_json::Value| event["data"]["points"].as_array().unwrap().len();
    assert_eq!((sent(&events[0]), sent(&events[1])), (1, 3));
    assert_eq!(events[0]["data"]["points"][0]["speedKmh"], 40.0);
    let recorded: Vec<_> = events[1]["data"]["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| chrono::DateTime::parse_from_rfc3339(p["recordedAt"].as_str().unwrap()).unwrap())
        .collect();
    assert!(recorded.windows(2).all(|w| w[0] < w[1]), "{recorded:?}");
}

#[tokio::test]
async fn the_gps_ingest_function_takes_points_and_answers_every_other_route_404() {
    // GIVEN the api's code as the gps-ingest function runs it, and a transporter and a customer
    let gps = spawn_gps_ingest().await;
    let (driver, customer) = (User::transporter(), User::customer());
    let since = Utc::now();
    let point = json!({ "lat": 19.1, "lng": 72.9, "recordedAt": Utc::now().to_rfc3339() });

    // WHEN the transporter sends a point, and the customer tries to book and to list bookings
    let sent = gps.call("POST", "/v1/tracking/location", Some(&driver), Some(point)).await;
    let booked = gps.call("POST", "/v1/bookings", Some(&customer), Some(booking_body())).await;
    let listed = gps.call("GET", "/v1/bookings", Some(&customer), None).await;
    let health = gps.call("GET", "/v1/health", None, None).await;

    // THEN the point is accepted and published, as by the api
    assert_eq!((sent.status, &sent.body), (202, &json!({ "accepted": 1 })));
    assert_eq!(records_with_key("location.updated", &driver.id, since, 1).await.len(), 1);
    // AND every other route is unknown there, before any token or body is looked at, so nothing
    // is written: the customer has no booking
    for refused in [&booked, &listed] {
        assert_eq!((refused.status, refused.error_code()), (404, "route_not_found"), "{}", refused.body);
    }
    let mine = spawn_app().await.call("GET", "/v1/bookings", Some(&customer), None).await;
    assert_eq!(mine.body["items"], json!([]), "{}", mine.body);
    // AND the liveness check answers there too
    assert_eq!(health.status, 200);
    // AND so are they without a token or with another method: nothing there but the point route
    let anonymous = gps.call("POST", "/v1/bookings", None, Some(booking_body())).await;
    let wrong_method = gps.call("DELETE", "/v1/bookings/b-1", Some(&customer), None).await;
    for refused in [&anonymous, &wrong_method] {
        assert_eq!((refused.status, refused.error_code()), (404, "route_not_found"), "{}", refused.body);
    }
    // AND a point without a token, or a GET of the point route, is answered as by the api
    let no_token = gps.call("POST", "/v1/tracking/location", None, Some(json!({}))).await;
    assert_eq!(no_token.status, 401);
    assert_eq!(gps.call("GET", "/v1/tracking/location", Some(&driver), None).await.status, 405);
}

#[tokio::test]
async fn gps_ingest_rejects_bad_points_and_other_roles() {
    let app = spawn_app().await;
    let driver = User::transporter();
    let now = Utc::now();
    let point = |fields: serde_json::Value| {
        let mut p = json!({ "lat": 19.1, "lng": 72.9, "recordedAt": now.to_rfc3339() });
        p.as_object_mut().unwrap().extend(fields.as_object().unwrap().clone());
        p
    };
    let cases = [
        (point(json!({ "lat": -91.0 })), "lat"),
        (point(json!({ "recordedAt": (now + Duration::hours(1)).to_rfc3339() })), "recordedAt"),
        (point(json!({ "recordedAt": (now - Duration::days(2)).to_rfc3339() })), "recordedAt"),
        (point(json!({ "recordedAt": "yesterday" })), "recordedAt"),
        (point(json!({ "headingDeg": 360.0 })), "headingDeg"),
        (point(json!({ "speedKmh": -1.0 })), "speedKmh"),
        (json!({ "points": [] }), "points"),
        (json!({ "points": vec![point(json!({})); 101] }), "points"),
        (json!({ "points": [point(json!({})), point(json!({ "accuracyM": -5.0 }))] }), "points[1].accuracyM"),
    ];
    for (body, field) in cases {
        let response = app.call("POST", "/v1/tracking/location", Some(&driver), Some(body.clone())).await;
        assert_eq!(response.status, 400, "{body}");
        assert_eq!(response.body["error"]["details"][0]["field"], field, "{body}");
    }
    let forbidden = app.call("POST", "/v1/tracking/location", Some(&User::customer()), Some(point(json!({})))).await;
    assert_eq!(forbidden.status, 403);
}

#[tokio::test]
async fn logging_a_phone_out_deletes_its_endpoint_and_device_and_only_its_owner_may() {
    // GIVEN a customer with a registered phone
    let app = spawn_app().await;
    let owner = User::customer();
    let token = unique("fcm-token");
    let registered =
        app.call("POST", "/v1/devices", Some(&owner), Some(json!({ "platform": "android", "token": token }))).await;
    assert_eq!(registered.status, 201, "{}", registered.body);
    let device_id = DeviceId::parse(registered.body["deviceId"].as_str().unwrap()).unwrap();
    let path = format!("/v1/devices/{device_id}");
    let endpoint_arn = app.app().store.get_device(&owner.user_id(), device_id).await.unwrap().unwrap().endpoint_arn;
    let sns = aws_sdk_sns::Client::new(&aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await);
    // moto's data dump keeps deleted endpoints, so ask SNS itself.
    let endpoint_exists = async || sns.get_endpoint_attributes().endpoint_arn(&endpoint_arn).send().await.is_ok();
    assert!(endpoint_exists().await);

    // WHEN someone else tries to log it out
    let stranger = app.call("DELETE", &path, Some(&User::customer()), None).await;

    // THEN it is not found for them, and the phone is still registered
    assert_eq!(stranger.status, 404, "{}", stranger.body);
    assert!(app.app().store.get_device(&owner.user_id(), device_id).await.unwrap().is_some());
    assert!(endpoint_exists().await);

    // WHEN the owner logs it out, and again
    let logout = app.call("DELETE", &path, Some(&owner), None).await;
    let again = app.call("DELETE", &path, Some(&owner), None).await;

    // THEN 204 with no body, its SNS endpoint and its device are gone, and the second is a 404
    assert_eq!((logout.status, &logout.body), (204, &serde_json::Value::Null));
    assert!(!endpoint_exists().await, "the endpoint is still in SNS");
    assert!(app.app().store.list_devices(&owner.user_id()).await.unwrap().is_empty());
    assert_eq!(again.status, 404, "{}", again.body);
    let malformed = app.call("DELETE", "/v1/devices/not-a-uuid", Some(&owner), None).await;
    assert_eq!(malformed.status, 404, "{}", malformed.body);
}
