//! End to end under faults: a bridge killed mid-batch, the broker restarted under running consumers,
//! a function whose answers are lost, poison records, a redeploy, a phone whose push endpoint was
//! disabled. Run by `localstack/e2e.sh`, one test at a time.

use base64::Engine;
use serde_json::json;
use std::sync::atomic::Ordering;
use weelo_core::model::ids::UserId;
use weelo_core::ports::DeviceStore;
use weelo_e2e::*;
use weelo_testkit::{local_stack, unique};

#[tokio::test]
async fn killing_the_bridge_mid_batch_loses_nothing_and_pushes_nothing_twice() {
    // GIVEN a user with a phone, a bridge running, and 400 notifications for them on the topic
    let api = e2e_api();
    let groups = unique("-e2e");
    let bridge = Bridge::start(&groups).await;
    let user = User::with_phone(&api, "customer").await;
    let run = unique("run");
    let records: Vec<_> = (0..400).map(|n| notification_for(&user, format!("{run} #{n}"))).collect();
    publish(&records).await;

    // WHEN the bridge is killed once the first pushes arrive, and started again
    let started =
        eventually(120, async || pushes_by_phone(&run).await.get(&user.phone_token).copied().unwrap_or(0) > 0).await;
    assert!(started, "no push arrived");
    bridge.kill();
    let _restarted = Bridge::start(&groups).await;

    // THEN all 400 arrive, each exactly once
    let all =
        eventually(180, async || pushes_by_phone(&run).await.get(&user.phone_token).copied().unwrap_or(0) >= 400).await;
    assert!(all, "not every notification was pushed after the restart");
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    assert_eq!(pushes_by_phone(&run).await.get(&user.phone_token), Some(&400));
}

/// Starts the broker again when dropped, so a failing assertion never leaves the stack without one.
struct BrokerDown;

impl Drop for BrokerDown {
    fn drop(&mut self) {
        local_stack(&["start-kafka"]);
    }
}

#[tokio::test]
async fn restarting_the_broker_while_consumers_run_skips_nothing_and_pushes_nothing_twice() {
    // GIVEN a new bridge (its groups have committed nothing yet) and 300 notifications on their way
    // to one phone
    let api = e2e_api();
    let bridge = Bridge::start(&unique("-broker")).await;
    let user = User::with_phone(&api, "customer").await;
    let run = unique("broker");
    publish(&(0..300).map(|n| notification_for(&user, format!("{run} #{n:03}."))).collect::<Vec<_>>()).await;

    // WHEN the broker stops as soon as the first of them are pushed, and comes back 5 s later,
    // and 100 more are published after it returned
    let started = eventually(120, async || count_pushes(&user.phone_token, &format!("{run} #")).await > 0).await;
    assert!(started, "no push arrived before the restart");
    let down = BrokerDown;
    local_stack(&["stop-kafka"]);
    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    drop(down);
    publish(&(300..400).map(|n| notification_for(&user, format!("{run} #{n:03}."))).collect::<Vec<_>>()).await;

    // THEN all 400 arrive, each exactly once (the same bridge process, which never restarted)
    let all = eventually(240, async || count_pushes(&user.phone_token, &format!("{run} #")).await >= 400).await;
    assert!(
        all,
        "got {} of 400 pushes after the broker restart",
        count_pushes(&user.phone_token, &format!("{run} #")).await
    );
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let messages = pushed_messages(&user.phone_token, &format!("{run} #")).await;
    for n in 0..400 {
        let copies = messages.iter().filter(|m| m.contains(&format!("{run} #{n:03}."))).count();
        assert_eq!(copies, 1, "notification #{n} was pushed {copies} times");
    }
    drop(bridge);
}

#[tokio::test]
async fn a_function_whose_answer_is_lost_twice_is_retried_and_the_phone_hears_once() {
    // GIVEN the notification mapping run through an invoker that lets the real fcm-consumer do its
    // work but loses its answer the first two times (as a timeout after the push would)
    let api = e2e_api();
    let invoker = AnswerLosingInvoker::new(real_functions(), 2);
    let invocations = invoker.invocations.clone();
    let bridge = InProcessBridge::start("fcm-consumer", "notification.fcm", invoker).await;
    let user = User::with_phone(&api, "customer").await;
    let run = unique("lost-answers");

    // WHEN one notification for the user is published
    publish(&[notification_for(&user, run.clone())]).await;

    // THEN the bridge invokes three times, and the phone gets the push exactly once
    let retried = eventually(60, async || invocations.load(Ordering::SeqCst) >= 3).await;
    assert!(retried, "the bridge did not retry: {} invocations", invocations.load(Ordering::SeqCst));
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert_eq!(pushes_by_phone(&run).await.get(&user.phone_token), Some(&1));
    assert!(bridge.dead_letters().await.is_empty(), "nothing was dead-lettered");
}

#[tokio::test]
async fn poison_records_are_dead_lettered_with_their_reason_and_the_next_record_is_still_pushed() {
    // GIVEN the notification mapping with a dead-letter queue of its own
    let api = e2e_api();
    let bridge = InProcessBridge::start("fcm-consumer", "notification.fcm", real_functions()).await;
    let user = User::with_phone(&api, "customer").await;
    let run = unique("after-poison");
    let good = notification_for(&user, run.clone());
    // Three kinds of poison: not JSON, a CloudEvent of a schema version nobody reads, and a huge value.
    let not_json = format!("not a cloud event {run}").into_bytes();
    let future_version =
        good.payload.replace("com.weelo.notification.fcm.v1", "com.weelo.notification.fcm.v99").into_bytes();
    let huge = format!("{{\"run\":\"{run}\",\"padding\":\"{}\"}}", "x".repeat(900 * 1024)).into_bytes();
    assert_ne!(future_version, good.payload.as_bytes());

    // WHEN they, then a good notification, land in the same partition
    for poison in [&not_json, &future_version, &huge] {
        publish_raw("notification.fcm", &good.key, poison).await;
    }
    publish(std::slice::from_ref(&good)).await;

    // THEN the good notification is pushed once, after each poison record went to the dead-letter
    // queue with its reason; nothing else was dead-lettered
    let pushed = eventually(240, async || pushes_by_phone(&run).await.contains_key(&user.phone_token)).await;
    assert!(pushed, "the record after the poison ones was not processed");
    let dead = bridge.dead_letters().await;
    assert_eq!(dead.len(), 3, "{dead:?}");
    let b64 = base64::engine::general_purpose::STANDARD;
    let values: Vec<&str> = dead.iter().filter_map(|d| d["value"].as_str()).collect();
    for poison in [&not_json, &future_version] {
        assert!(values.contains(&b64.encode(poison).as_str()), "a poison record is missing from the queue");
    }
    // Too big for an SQS message: named by its offsets and size, to be read from Kafka
    let too_big: Vec<_> = dead.iter().filter(|d| d["value"].is_null()).collect();
    assert_eq!(too_big.len(), 1, "{dead:?}");
    assert_eq!(too_big[0]["valueBytes"], huge.len());
    for letter in &dead {
        assert_eq!(letter["function"], "fcm-consumer");
        assert!(letter["error"].as_str().is_some_and(|e| !e.is_empty()), "{letter}");
    }
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert_eq!(pushes_by_phone(&run).await.get(&user.phone_token), Some(&1));
}

#[tokio::test]
async fn a_redeploy_with_1000_events_published_while_everything_was_down_processes_each_once() {
    // GIVEN a user with a phone, whose partition the consumers have processed up to now, and then
    // the consumers stopped (a redeploy)
    let api = e2e_api();
    let groups = unique("-redeploy");
    let bridge = Bridge::start(&groups).await;
    let user = User::with_phone(&api, "customer").await;
    let run = unique("redeploy");
    publish(&[notification_for(&user, format!("{run} warm-up"))]).await;
    let warm =
        eventually(60, async || pushes_by_phone(&format!("{run} warm-up")).await.contains_key(&user.phone_token));
    assert!(warm.await, "the warm-up notification was not pushed");
    bridge.kill();

    // WHEN 1000 notifications are published while nothing consumes, and everything starts again
    let records: Vec<_> = (0..1000).map(|n| notification_for(&user, format!("{run} #{n:04}."))).collect();
    publish(&records).await;
    let _started = Bridge::start(&groups).await;

    // THEN every notification is pushed, each exactly once
    let all =
        eventually(240, async || pushes_by_phone(&run).await.get(&user.phone_token).copied().unwrap_or(0) >= 1001)
            .await;
    assert!(all, "not every notification was pushed after the restart");
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    // 1000 + the warm-up, each once
    assert_eq!(pushes_by_phone(&run).await.get(&user.phone_token), Some(&1001));
}

#[tokio::test]
async fn a_phone_whose_endpoint_is_disabled_is_forgotten_and_the_others_still_get_the_push() {
    // GIVEN a transporter near a city with two phones, one of whose SNS endpoints FCM has disabled
    let api = e2e_api();
    let _bridge = Bridge::start(&unique("-e2e")).await;
    let centre = private_city();
    let driver = User::with_phone(&api, "transporter").await;
    let second_phone = unique("phone");
    let registered = api
        .call("POST", "/v1/devices", Some(&driver), Some(json!({"platform": "android", "token": second_phone})))
        .await;
    assert_eq!(registered.status, 201, "{registered:?}");
    api.drive(&driver, "tipper", true, centre).await;
    wait_until_located(std::slice::from_ref(&driver)).await;
    let store = store().await;
    let owner = UserId::parse(&driver.id).unwrap();
    let devices = store.list_devices(&owner).await.unwrap();
    let broken = devices.iter().find(|d| d.token == second_phone).expect("the second phone is registered");
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    aws_sdk_sns::Client::new(&aws)
        .set_endpoint_attributes()
        .endpoint_arn(&broken.endpoint_arn)
        .attributes("Enabled", "false")
        .send()
        .await
        .unwrap();

    // WHEN a customer books a tipper there
    let customer = User::with_phone(&api, "customer").await;
    let booked = api.call("POST", "/v1/bookings", Some(&customer), Some(booking_at(centre, "tipper"))).await;
    assert_eq!(booked.status, 201, "{booked:?}");
    let booking_id = booked.body["bookingId"].as_str().unwrap().to_owned();

    // THEN the working phone gets the push once, and the disabled one is removed from the devices
    let pushed = eventually(60, async || pushes_by_phone(&booking_id).await.contains_key(&driver.phone_token)).await;
    assert!(pushed, "the working phone got no push");
    let forgotten =
        eventually(30, async || store.list_devices(&owner).await.unwrap().iter().all(|d| d.token != second_phone))
            .await;
    assert!(forgotten, "the disabled phone is still registered");
    let counts = pushes_by_phone(&booking_id).await;
    assert_eq!(counts.get(&driver.phone_token), Some(&1));
    assert_eq!(counts.get(&second_phone), None);
    assert_eq!(store.list_devices(&owner).await.unwrap().len(), 1);
}
