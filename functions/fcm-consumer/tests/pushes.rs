//! The fcm-consumer handler on MSK batches, against moto's SNS (which records every push) and the
//! DynamoDB emulator.

use chrono::Utc;
use lambda_runtime::{Context, LambdaEvent};
use std::collections::BTreeMap;
use weelo_core::contract::events::{BookingChanged, DomainEvent, EventRecord, FcmNotification};
use weelo_core::model::booking::Booking;
use weelo_core::model::device::{Device, Platform};
use weelo_core::model::geo::Place;
use weelo_core::model::ids::{BookingId, DeviceId, EventId, UserId};
use weelo_core::model::trip::{OfferTimes, Trip, TripStatus, TripStep};
use weelo_core::model::vehicle::VehicleType;
use weelo_core::ports::{DeviceStore, PushRegistry};
use weelo_fcm_consumer::FcmConsumer;
use weelo_testkit::{msk_event, pushes_to_endpoint, unique};

/// Registers a phone the way the api does: an SNS platform endpoint, then the device item.
async fn phone(owner: &UserId) -> Device {
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let arn = std::env::var("SNS_PLATFORM_APPLICATION_ARN").expect("the local stack's environment");
    let registry = weelo_sns::SnsPushRegistry::new(aws_sdk_sns::Client::new(&aws), arn);
    let token = unique("fcm-token");
    let endpoint_arn = registry.register_endpoint(Platform::Android, &token, owner).await.unwrap();
    let device = Device {
        user_id: owner.clone(),
        device_id: DeviceId::derive(owner, &token),
        platform: Platform::Android,
        token,
        endpoint_arn,
        registered_at: Utc::now(),
    };
    assert!(weelo_testkit::store().await.put_device_if_absent(&device).await.unwrap());
    device
}

fn notification(recipient: &UserId) -> EventRecord {
    DomainEvent::NotificationFcm(FcmNotification {
        recipient_id: recipient.clone(),
        kind: "booking.offered".into(),
        title: "New booking near you".into(),
        body: "A tipper truck is needed 2.1 km from you".into(),
        data: BTreeMap::from([("bookingId".to_owned(), BookingId::generate().to_string())]),
        data_only: false,
    })
    .to_record(EventId::generate(), "/weelo/order-fanout", Utc::now())
}

async fn handle(consumer: &FcmConsumer, records: &[EventRecord]) -> weelo_msk::BatchResponse {
    weelo_fcm_consumer::handle(consumer, LambdaEvent::new(msk_event(records, 0), Context::default())).await.unwrap()
}

#[tokio::test]
async fn every_device_gets_one_fcm_v1_push_even_when_the_notification_is_redelivered() {
    // GIVEN a transporter with two phones
    weelo_testkit::init();
    let consumer = weelo_fcm_consumer::from_env().await.unwrap();
    let driver = UserId::parse(&unique("transporter")).unwrap();
    let (first, second) = (phone(&driver).await, phone(&driver).await);
    let record = notification(&driver);

    // WHEN the notification is delivered, and delivered again
    assert!(handle(&consumer, std::slice::from_ref(&record)).await.is_success());
    assert!(handle(&consumer, std::slice::from_ref(&record)).await.is_success());

    // THEN each phone got exactly one push, in FCM HTTP v1 form
    for device in [&first, &second] {
        let pushes = pushes_to_endpoint(&device.endpoint_arn).await;
        assert_eq!(pushes.len(), 1, "{}", device.endpoint_arn);
        let gcm: serde_json::Value = serde_json::from_str(pushes[0]["GCM"].as_str().unwrap()).unwrap();
        let message = &gcm["fcmV1Message"]["message"];
        assert_eq!(message["notification"]["title"], "New booking near you");
        assert_eq!(message["android"]["priority"], "high");
        assert!(message["data"]["bookingId"].is_string());
    }
}

#[tokio::test]
async fn a_disabled_endpoint_is_pruned_and_the_other_devices_still_get_theirs() {
    // GIVEN a transporter with two phones, one of whose endpoints SNS has disabled
    weelo_testkit::init();
    let consumer = weelo_fcm_consumer::from_env().await.unwrap();
    let driver = UserId::parse(&unique("transporter")).unwrap();
    let (dead, alive) = (phone(&driver).await, phone(&driver).await);
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    aws_sdk_sns::Client::new(&aws)
        .set_endpoint_attributes()
        .endpoint_arn(&dead.endpoint_arn)
        .attributes("Enabled", "false")
        .send()
        .await
        .unwrap();

    // WHEN a notification is handled
    let response = handle(&consumer, &[notification(&driver)]).await;

    // THEN the batch succeeds, the live phone got its push, the dead one is removed
    assert!(response.is_success(), "{response:?}");
    assert_eq!(pushes_to_endpoint(&alive.endpoint_arn).await.len(), 1);
    assert_eq!(pushes_to_endpoint(&dead.endpoint_arn).await.len(), 0);
    let remaining: Vec<DeviceId> =
        weelo_testkit::store().await.list_devices(&driver).await.unwrap().into_iter().map(|d| d.device_id).collect();
    assert_eq!(remaining, vec![alive.device_id]);
}

#[tokio::test]
async fn the_customer_is_told_who_accepted_and_a_withdrawal_is_a_silent_data_message() {
    // GIVEN a customer's and a transporter's phones
    weelo_testkit::init();
    let consumer = weelo_fcm_consumer::from_env().await.unwrap();
    let customer = UserId::parse(&unique("customer")).unwrap();
    let device = phone(&customer).await;
    let driver = UserId::parse(&unique("transporter")).unwrap();
    let drivers_phone = phone(&driver).await;
    let mut booking = Booking {
        booking_id: BookingId::generate(),
        customer_id: customer.clone(),
        pickup: Place { lat: 19.0, lng: 72.8, address: None },
        drop: Place { lat: 19.5, lng: 72.8, address: None },
        vehicle_type: VehicleType::Tipper,
        scheduled_at: None,
        created_at: Utc::now(),
        trip: Trip::new(Utc::now(), None, &OfferTimes::default()),
    };
    let kiran = UserId::parse(&unique("transporter")).unwrap();
    booking.trip.take(TripStep::Accept, Some(&kiran), Utc::now(), &OfferTimes::default()).unwrap();
    let changed = BookingChanged {
        step: TripStep::Accept,
        previous_status: TripStatus::Searching,
        transporter_id: Some(kiran.clone()),
        booking: booking.clone(),
    };
    let accepted = DomainEvent::BookingChanged(changed).to_record(EventId::generate(), "/weelo/api", Utc::now());
    let mut withdrawal = notification(&driver);
    let DomainEvent::NotificationFcm(mut silent) = DomainEvent::from_payload(withdrawal.payload.as_bytes()).unwrap().1
    else {
        unreachable!()
    };
    silent.data_only = true;
    withdrawal = DomainEvent::NotificationFcm(silent).to_record(withdrawal.event_id, "/weelo/order-fanout", Utc::now());

    // WHEN the acceptance is delivered twice, and the withdrawal once
    assert!(handle(&consumer, std::slice::from_ref(&accepted)).await.is_success());
    assert!(handle(&consumer, &[accepted, withdrawal]).await.is_success());

    // THEN the customer got one visible push naming the transporter
    let pushes = pushes_to_endpoint(&device.endpoint_arn).await;
    assert_eq!(pushes.len(), 1);
    let gcm: serde_json::Value = serde_json::from_str(pushes[0]["GCM"].as_str().unwrap()).unwrap();
    let message = &gcm["fcmV1Message"]["message"];
    assert_eq!(
        (message["data"]["kind"].as_str(), message["data"]["transporterId"].as_str()),
        (Some("booking.accepted"), Some(kiran.as_str()))
    );
    assert!(message["notification"].is_object());
    // AND the transporter's app got a data message the phone does not show
    let pushes = pushes_to_endpoint(&drivers_phone.endpoint_arn).await;
    assert_eq!(pushes.len(), 1);
    let gcm: serde_json::Value = serde_json::from_str(pushes[0]["GCM"].as_str().unwrap()).unwrap();
    let message = &gcm["fcmV1Message"]["message"];
    assert!(message.get("notification").is_none() && message["android"].get("notification").is_none(), "{message}");
    assert!(message["data"].is_object());
}

#[tokio::test]
async fn an_undecodable_record_is_reported_and_the_others_are_delivered() {
    weelo_testkit::init();
    let consumer = weelo_fcm_consumer::from_env().await.unwrap();
    let driver = UserId::parse(&unique("transporter")).unwrap();
    let device = phone(&driver).await;
    let good = notification(&driver);
    let event = weelo_testkit::msk_event_of(&[
        weelo_testkit::consumed("notification.fcm", 0, 10, good.key.as_bytes(), good.payload.as_bytes()),
        weelo_testkit::consumed("notification.fcm", 5, 77, b"k", b"\xff\xfe"),
    ]);

    let response = weelo_fcm_consumer::handle(&consumer, LambdaEvent::new(event, Context::default())).await.unwrap();

    assert_eq!(response.batch_item_failures.len(), 1);
    assert_eq!(response.batch_item_failures[0].item_identifier.partition, "notification.fcm-5");
    assert_eq!(response.batch_item_failures[0].item_identifier.offset, 77);
    assert_eq!(pushes_to_endpoint(&device.endpoint_arn).await.len(), 1);
}

#[tokio::test]
async fn a_push_claim_written_again_by_its_claimant_still_holds_and_another_claimant_is_refused() {
    // GIVEN a push nobody has claimed
    weelo_testkit::init();
    let store = weelo_testkit::store().await;
    let push_key = unique("notification/device");

    // WHEN one claimant writes its claim twice (the SDK retrying a write whose answer was lost),
    // confirms its push, and then another claimant tries
    let lease = Utc::now() - chrono::Duration::seconds(20);
    let first = store.claim_push_as(&push_key, "claimant-a", lease).await.unwrap();
    let again = store.claim_push_as(&push_key, "claimant-a", lease).await.unwrap();
    let confirmed = store.confirm_push_as(&push_key, "claimant-a").await.unwrap();
    let other = store.claim_push_as(&push_key, "claimant-b", Utc::now()).await.unwrap();

    // THEN the claimant holds the claim both times (its push is sent), and the other is refused
    assert_eq!((first, again, confirmed, other), (true, true, true, false));
}

#[tokio::test]
async fn a_push_claimed_by_a_delivery_that_died_before_confirming_it_is_pushed_by_the_next() {
    // GIVEN a notification whose push to a phone was claimed by a delivery that then crashed
    // (no push sent, nothing confirmed), and a claim lease of one second
    weelo_testkit::init();
    let mut settings = weelo_fcm_consumer::Settings::from_env().unwrap();
    settings.claim_lease = chrono::Duration::seconds(1);
    let consumer = weelo_fcm_consumer::connect(&settings).await.unwrap();
    let driver = UserId::parse(&unique("transporter")).unwrap();
    let device = phone(&driver).await;
    let record = notification(&driver);
    let (id, _) = DomainEvent::from_payload(record.payload.as_bytes()).unwrap();
    let push_key = format!("{id}#{}", device.device_id);
    assert!(
        weelo_testkit::store().await.claim_push_as(&push_key, "a-delivery-that-crashed", Utc::now()).await.unwrap()
    );

    // WHEN the notification is delivered again, twice
    assert!(handle(&consumer, std::slice::from_ref(&record)).await.is_success());
    assert!(handle(&consumer, std::slice::from_ref(&record)).await.is_success());

    // THEN the phone got it once, once the dead delivery's claim outlived the lease, under the
    // notification's id as collapse key (a resend after a crash replaces the first on the phone),
    // and the dead delivery's claim no longer holds
    let pushes = pushes_to_endpoint(&device.endpoint_arn).await;
    assert_eq!(pushes.len(), 1);
    let gcm: serde_json::Value = serde_json::from_str(pushes[0]["GCM"].as_str().unwrap()).unwrap();
    let message = &gcm["fcmV1Message"]["message"];
    assert_eq!(message["android"]["collapse_key"], id.to_string());
    assert_eq!(message["android"]["notification"]["tag"], id.to_string());
    assert_eq!(message["apns"]["headers"]["apns-collapse-id"], id.to_string());
    assert!(!weelo_testkit::store().await.confirm_push_as(&push_key, "a-delivery-that-crashed").await.unwrap());
}
