//! The local runs as a person uses them: `make run` after tests and benchmarks left a backlog on the
//! broker, a function process that dies mid-batch, and an invocation that outlives its function's
//! timeout, each handled as Lambda and its event-source mappings handle them.

use std::collections::HashMap;
use std::time::Duration;
use weelo_core::contract::events::{DomainEvent, EventRecord, FcmNotification, LocationUpdated};
use weelo_core::model::ids::{EventId, UserId};
use weelo_core::model::location::LocationPoint;
use weelo_core::ports::TransporterStore;
use weelo_e2e::*;
use weelo_kafka::KafkaConfig;
use weelo_kafka::lag::group_lag;
use weelo_testkit::unique;

/// `make run`'s consumer groups (no suffix), as `weelo-local bridge` names them.
const RUN_LOCATION_GROUP: &str = "weelo-location-consumer-location.updated";
const RUN_FCM_GROUP: &str = "weelo-fcm-consumer-notification.fcm";

/// Commits the current end of `topic` for `group`, so the group exists and whatever is published
/// next is its backlog. A group whose last member has just gone (a stopped `make run`) refuses
/// commits from outside until the broker lets that member's session lapse (10 s): retried until then.
fn commit_end(kafka: &KafkaConfig, group: &str, topic: &str) {
    use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
    use rdkafka::{Offset, TopicPartitionList};
    let consumer: BaseConsumer<weelo_kafka::KafkaContext> = kafka
        .client_config()
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .create_with_context(weelo_kafka::KafkaContext::default())
        .expect("a consumer");
    let mut ends = TopicPartitionList::new();
    for lag in group_lag(kafka, group, topic).expect("the group's offsets") {
        ends.add_partition_offset(topic, lag.partition, Offset::Offset(lag.end)).expect("an offset");
    }
    for attempt in 1..=30 {
        match consumer.commit(&ends, CommitMode::Sync) {
            Ok(()) => return,
            Err(error) if attempt < 30 => {
                eprintln!("committing the end of {topic} for {group}: {error}; trying again");
                std::thread::sleep(Duration::from_secs(1));
            }
            Err(error) => panic!("committing the end of {topic} for {group}: {error}"),
        }
    }
}

/// `n` events made by `make`, published in chunks.
async fn publish_many(n: usize, make: impl Fn(usize) -> EventRecord) {
    for chunk in (0..n).collect::<Vec<_>>().chunks(10_000) {
        let records: Vec<EventRecord> = chunk.iter().map(|i| make(*i)).collect();
        publish(&records).await;
    }
}

fn stale_point(transporter: &UserId, i: usize) -> EventRecord {
    let point = LocationPoint {
        lat: -50.0 + (i % 1000) as f64 * 0.01,
        lng: -170.0,
        recorded_at: chrono::Utc::now(),
        speed_kmh: None,
        heading_deg: None,
        accuracy_m: None,
    };
    DomainEvent::LocationUpdated(LocationUpdated { transporter_id: transporter.clone(), point }).to_record(
        EventId::generate(),
        "/e2e/backlog",
        chrono::Utc::now(),
    )
}

fn stale_notification(recipient: &UserId, i: usize) -> EventRecord {
    DomainEvent::NotificationFcm(FcmNotification {
        recipient_id: recipient.clone(),
        kind: "test".into(),
        title: "old".into(),
        body: format!("backlog #{i}"),
        data: Default::default(),
        data_only: false,
    })
    .to_record(EventId::generate(), "/e2e/backlog", chrono::Utc::now())
}

fn total_lag(kafka: &KafkaConfig, group: &str, topic: &str) -> i64 {
    group_lag(kafka, group, topic).expect("the group's lag").iter().map(|p| p.lag()).sum()
}

#[tokio::test]
async fn make_run_after_a_large_backlog_pushes_the_next_booking_at_once() {
    // GIVEN 100,000 GPS points and 5,000 notifications waiting under make run's own consumer groups
    let kafka = KafkaConfig::from_env().expect("KAFKA_* settings");
    commit_end(&kafka, RUN_LOCATION_GROUP, "location.updated");
    commit_end(&kafka, RUN_FCM_GROUP, "notification.fcm");
    let (old_truck, old_user) = (UserId::parse(&unique("old-truck")).unwrap(), UserId::parse(&unique("old")).unwrap());
    publish_many(100_000, |i| stale_point(&old_truck, i)).await;
    publish_many(5_000, |i| stale_notification(&old_user, i)).await;
    assert!(total_lag(&kafka, RUN_LOCATION_GROUP, "location.updated") >= 100_000);
    assert!(total_lag(&kafka, RUN_FCM_GROUP, "notification.fcm") >= 5_000);

    // WHEN make run starts
    let run = MakeRun::start(9040, "e2e-make-run.log").await;
    // THEN it printed a sample tracking link, whose page the api serves and whose socket admits it
    assert_sample_link_is_live(&run).await;

    // WHEN a transporter near a city sends a point and a customer books there
    let api = ApiClient::over_http(&run.base_url);
    let centre = private_city();
    let driver = User::with_phone(&api, "transporter").await;
    api.drive(&driver, "tipper", true, centre).await;
    wait_until_located(std::slice::from_ref(&driver)).await;
    let customer = User::with_phone(&api, "customer").await;
    let booked = api.call("POST", "/v1/bookings", Some(&customer), Some(booking_at(centre, "tipper"))).await;
    assert_eq!(booked.status, 201, "{booked:?}");
    let booking_id = booked.body["bookingId"].as_str().unwrap().to_owned();

    // THEN the transporter's phone gets the offer, and the backlog was skipped, not worked through
    // (the lags and the old truck's position below tell; the wait only bounds order-fanout, which
    // first works through the deadlines earlier tests left due: on an emulator the whole suite
    // shares, a batch of those took more than its 60 s timeout, and a 2-minute bound failed CI)
    let pushed = eventually(240, async || count_pushes(&driver.phone_token, &booking_id).await == 1).await;
    assert!(pushed, "no push for the booking within 4 minutes");
    assert!(total_lag(&kafka, RUN_LOCATION_GROUP, "location.updated") < 1_000);
    assert!(total_lag(&kafka, RUN_FCM_GROUP, "notification.fcm") < 1_000);
    let old_position = store().await.latest_position(&old_truck).await.expect("the GPS history answers");
    assert_eq!(old_position, None, "the run worked through the backlog's GPS points");
    assert!(run.printed("not replayed"), "the banner does not say the run starts at the end of the topics");
    // AND the status lines say every part is up: at once, or once the run has done the work it
    // found waiting (deadlines earlier tests left due fire when its sweeper starts, and a batch
    // that takes longer than 30 s shows as NOT MOVING until it is done)
    let bridge_up = || run.lines_with("bridge ").last().is_some_and(|l| l.contains("✓") && l.contains("mappings"));
    let up = eventually(180, async || bridge_up()).await;
    assert!(up, "{}", run.lines_with("bridge ").last().map(String::as_str).unwrap_or("no status line for the bridge"));
    assert!(run.lines_with("stack ").last().is_some_and(|l| !l.contains("DOWN")));
    println!("status after the booking:\n{}", run.lines_with("  ").join("\n"));
    // AND Ctrl-C stops everything it started
    let mut run = run;
    assert!(run.stop(), "make run left processes running after it was stopped");
    assert!(run.printed("stopping"), "make run did not say it was stopping");
}

/// `make run`'s sample tracking link: its page is served, and its token connects and shows the demo
/// trip accepted by the run's own driver, or still being offered when the fan-out is busy with what
/// earlier tests left due (never expired at once: the run books only once the driver's point is in
/// the geo index).
async fn assert_sample_link_is_live(run: &MakeRun) {
    let link = run.lines_with("/track#s1.").first().map(|l| l.trim().to_owned()).expect("a sample tracking link");
    let page = reqwest::get(link.split_once('#').unwrap().0).await.expect("the page answers");
    assert_eq!(page.status(), 200, "{link}");
    assert!(page.text().await.unwrap().contains("ws://127.0.0.1:9040/websocket"), "the page names another socket");
    let token = link.split_once('#').unwrap().1;
    let url = "ws://127.0.0.1:9040/websocket";
    let mut viewer = LiveClient::connect(url, token, Carry::Subprotocol).await.expect("the sample link connects");
    viewer.send(serde_json::json!({"action": "subscribe"})).await;
    let snapshot = viewer.next_of("subscribed", 30).await.expect("the sample link subscribes");
    let status = snapshot["trips"][0]["status"].as_str().unwrap_or_default().to_owned();
    assert!(["accepted", "searching"].contains(&status.as_str()), "{snapshot}");
}

#[tokio::test]
async fn a_function_process_killed_mid_batch_is_replaced_and_its_batch_is_retried() {
    // GIVEN a user with a phone, a bridge, and 300 notifications for them being pushed
    let api = e2e_api();
    let service = std::env::var("E2E_INVOKE_URL").expect("E2E_INVOKE_URL");
    let _bridge = Bridge::start(&unique("-e2e")).await;
    let driver = User::with_phone(&api, "transporter").await;
    let run = unique("run");
    let records: Vec<_> = (0..300).map(|n| notification_for(&driver, format!("{run} #{n}"))).collect();
    let exits_before = fcm_consumer_exits(&service).await;
    publish(&records).await;

    // WHEN every fcm-consumer process is killed once the first pushes arrive
    let started = eventually(120, async || count_pushes(&driver.phone_token, &run).await > 0).await;
    assert!(started, "no push arrived");
    let killed = kill_processes(&service, "fcm-consumer").await;
    assert!(killed > 0, "no fcm-consumer process to kill");

    // THEN the crash is seen as one, and every notification still reaches the phone
    let seen = eventually(30, async || fcm_consumer_exits(&service).await > exits_before).await;
    assert!(seen, "the service did not notice the killed process");
    let all = eventually(180, async || pushed_notifications(&driver.phone_token, &run).await.len() == 300).await;
    assert!(all, "{} of 300 notifications pushed", pushed_notifications(&driver.phone_token, &run).await.len());
    // AND a push the crash interrupted was sent again under the same collapse key, so the phone
    // shows each notification once
    for (body, keys) in pushed_notifications(&driver.phone_token, &run).await {
        assert_eq!(keys.len(), 1, "{body}: pushed under different collapse keys {keys:?}");
    }

    // AND the next booking's push arrives
    let centre = private_city();
    api.drive(&driver, "tipper", true, centre).await;
    wait_until_located(std::slice::from_ref(&driver)).await;
    let customer = User::with_phone(&api, "customer").await;
    let booked = api.call("POST", "/v1/bookings", Some(&customer), Some(booking_at(centre, "tipper"))).await;
    assert_eq!(booked.status, 201, "{booked:?}");
    let booking_id = booked.body["bookingId"].as_str().unwrap().to_owned();
    let pushed = eventually(120, async || count_pushes(&driver.phone_token, &booking_id).await == 1).await;
    assert!(pushed, "no push for the booking after the crash");
}

async fn fcm_consumer_exits(service: &str) -> u64 {
    let status = functions_status(service).await;
    status.functions.iter().find(|f| f.name == "fcm-consumer").map_or(0, |f| f.stats.exits)
}

/// Each notification of `run` pushed to `phone`: its body → the collapse keys it was pushed under.
async fn pushed_notifications(phone: &str, run: &str) -> HashMap<String, Vec<String>> {
    let mut pushed: HashMap<String, Vec<String>> = HashMap::new();
    for message in pushed_messages(phone, run).await {
        let outer: serde_json::Value = serde_json::from_str(&message).expect("an SNS JSON message");
        let fcm: serde_json::Value = serde_json::from_str(outer["GCM"].as_str().expect("a GCM part")).expect("JSON");
        let body = fcm["fcmV1Message"]["message"]["notification"]["body"].as_str().unwrap_or_default().to_owned();
        let key = fcm["fcmV1Message"]["message"]["android"]["collapse_key"].as_str().unwrap_or_default().to_owned();
        let keys = pushed.entry(body).or_default();
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    pushed
}

#[tokio::test]
async fn an_invocation_that_outlives_its_timeout_is_retried_then_dead_lettered() {
    // GIVEN fcm-consumer with a 2 s timeout, whose DynamoDB accepts connections and never answers
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = silent.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            held.push(socket);
        }
    });
    let env = [
        ("AWS_ENDPOINT_URL_DYNAMODB", format!("http://{address}")),
        ("SDK_ATTEMPT_TIMEOUT_MS", "60000".to_owned()),
        ("SDK_OPERATION_TIMEOUT_MS", "60000".to_owned()),
    ];
    let service = PrivateFunctions::start(9031, &env, &["--timeout", "fcm-consumer=2"]).await;
    let invoker = bridge_invoker(&service.url);
    let bridge = InProcessBridge::start("fcm-consumer", "notification.fcm", invoker).await;
    let user = User::with_phone(&e2e_api(), "customer").await;

    // WHEN a notification for them is published
    let record = notification_for(&user, unique("slow"));
    publish(std::slice::from_ref(&record)).await;

    // THEN each attempt is ended at the timeout, retried as the mapping says, then dead-lettered
    let dead = eventually(120, async || !bridge.dead_letters().await.is_empty()).await;
    assert!(dead, "nothing was dead-lettered");
    let letters = bridge.dead_letters().await;
    assert_eq!(letters.len(), 1, "{letters:?}");
    let error = letters[0]["error"].as_str().unwrap_or_default();
    assert!(error.contains("Sandbox.Timedout") && error.contains("Task timed out after 2.00 seconds"), "{error}");
    let status = functions_status(&service.url).await;
    let fcm = status.functions.iter().find(|f| f.name == "fcm-consumer").expect("fcm-consumer");
    let attempts = 1 + u64::from(bridge.mapping.maximum_retry_attempts);
    assert_eq!((fcm.stats.invocations, fcm.stats.timeouts), (attempts, attempts));
    // AND no process of the timed-out invocations is left running
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(functions_status(&service.url).await.functions.iter().all(|f| f.instances.iter().all(|i| !i.busy)));
}

fn bridge_invoker(url: &str) -> weelo_local::bridge::HttpInvoker {
    weelo_local::bridge::HttpInvoker { client: reqwest::Client::new(), base_url: url.to_owned() }
}
