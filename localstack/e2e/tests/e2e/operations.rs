//! The operator's tool against the running system: the audit archive holds a booking's whole
//! history, a replayed time range changes nothing, dead letters are redriven one by one (from a
//! queue, and a failed audit batch from its S3 bucket), a record that stops an on-demand partition
//! is skipped into a queue, consumer lag is visible, and the functions' metrics add up. Run by `localstack/e2e.sh`, one test at a time.

use base64::Engine;
use serde_json::json;
use weelo_e2e::*;
use weelo_local::bridge::{HttpInvoker, Invoke, InvokeError, OnFailureKind};
use weelo_testkit::unique;

/// Invokes the real function, except that every batch holding a record whose value contains
/// `needle` fails without reaching it (as a function that crashes on that record would).
struct FailingOn {
    inner: HttpInvoker,
    needle: String,
    /// How many batches it failed.
    crashes: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl FailingOn {
    fn new(inner: HttpInvoker, needle: String) -> Self {
        Self { inner, needle, crashes: Default::default() }
    }
}

impl Invoke for FailingOn {
    async fn invoke(&self, function: &str, payload: Vec<u8>) -> Result<Vec<u8>, InvokeError> {
        let event: serde_json::Value = serde_json::from_slice(&payload).expect("the bridge sends MSK events");
        let b64 = base64::engine::general_purpose::STANDARD;
        let values = event["records"].as_object().into_iter().flat_map(|p| p.values()).flat_map(|r| r.as_array());
        let holds_needle = values
            .flatten()
            .filter_map(|record| b64.decode(record["value"].as_str()?).ok())
            .any(|value| String::from_utf8_lossy(&value).contains(&self.needle));
        if holds_needle {
            self.crashes.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            return Err(InvokeError::Function(format!("crashed on purpose on {}", self.needle)));
        }
        self.inner.invoke(function, payload).await
    }
}

/// The audit archive's lines that name `id`, as `weelo-ops audit query` prints them.
fn archived(id: &str) -> String {
    let (ok, out) = weelo_ops(&["audit", "query", "--booking", id, "--days", "2"]);
    assert!(ok, "{out}");
    out
}

#[tokio::test]
async fn a_booking_s_whole_history_is_in_the_audit_archive() {
    // GIVEN the whole system running, and a transporter near a customer
    let api = e2e_api();
    let _bridge = Bridge::start(&unique("-audit")).await;
    let centre = private_city();
    let driver = User::with_phone(&api, "transporter").await;
    api.drive(&driver, "open", true, centre).await;
    wait_until_located(std::slice::from_ref(&driver)).await;

    // WHEN the customer books, the transporter is told and accepts
    let customer = User::with_phone(&api, "customer").await;
    let booked = api.call("POST", "/v1/bookings", Some(&customer), Some(booking_at(centre, "open"))).await;
    assert_eq!(booked.status, 201, "{booked:?}");
    let booking_id = booked.body["bookingId"].as_str().unwrap().to_owned();
    assert!(eventually(60, async || count_pushes(&driver.phone_token, &booking_id).await == 1).await, "no offer push");
    let accepted = api.call("POST", &format!("/v1/bookings/{booking_id}/accept"), Some(&driver), None).await;
    assert_eq!(accepted.status, 200, "{accepted:?}");

    // THEN `weelo-ops audit query` prints the booking's events in order: created, the offer, accepted
    // (each topic is archived by its own batches, so one may arrive before another's; two days, as
    // an object is dated by its first record and a run near midnight spans two dates)
    let mut printed = String::new();
    let complete = eventually(90, async || {
        let (ok, out) = weelo_ops(&["audit", "query", "--booking", &booking_id, "--days", "2"]);
        printed = out;
        ok && ["booking.created", "notification.fcm", "booking.accepted"]
            .iter()
            .all(|event| printed.contains(&format!("com.weelo.{event}.v1")))
    })
    .await;
    assert!(complete, "the archive never held all three events:\n{printed}");
    let created = printed.find("com.weelo.booking.created.v1").expect("booking.created is archived");
    let offered = printed.find("com.weelo.notification.fcm.v1").expect("the offer notification is archived");
    let accepted = printed.find("com.weelo.booking.accepted.v1").unwrap();
    assert!(created < offered && offered < accepted, "out of order:\n{printed}");
    assert_eq!(printed.matches("com.weelo.booking.created.v1").count(), 1, "{printed}");
}

#[tokio::test]
async fn replaying_a_time_range_through_the_consumer_pushes_no_phone_twice() {
    // GIVEN 20 notifications for a user, each pushed once through the real fcm-consumer
    let api = e2e_api();
    let user = User::with_phone(&api, "customer").await;
    let run = unique("replay");
    let from = chrono::Utc::now() - chrono::Duration::seconds(2);
    {
        let _bridge = InProcessBridge::start("fcm-consumer", "notification.fcm", real_functions()).await;
        let records: Vec<_> = (0..20).map(|n| notification_for(&user, format!("{run} #{n:02}."))).collect();
        publish(&records).await;
        assert!(eventually(90, async || count_pushes(&user.phone_token, &run).await >= 20).await, "not all pushed");
    }
    let to = chrono::Utc::now() + chrono::Duration::seconds(1);

    // WHEN an operator replays that time range of notification.fcm through fcm-consumer (run by
    // a local Lambda service of this test's own, so its log holds this replay's work only)
    let service = PrivateFunctions::start(9032, &[], &[]).await;
    let args = ["replay", "--topic", "notification.fcm", "--from", &from.to_rfc3339(), "--to", &to.to_rfc3339()];
    let (ok, out) = weelo_ops_via(&service.url, &[&args[..], &["--to-function", "fcm-consumer"]].concat());

    // THEN every record of the range went through the function again, and still each phone heard once
    assert!(ok, "{out}");
    let replayed: u64 = out.split_whitespace().nth(1).and_then(|n| n.parse().ok()).expect("a count");
    assert!(replayed >= 20, "{out}");
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let pushes = pushes_by_phone(&run).await;
    assert_eq!(pushes.get(&user.phone_token), Some(&20), "{pushes:?}");
    let per_message = pushes_by_phone(&format!("{run} #07.")).await;
    assert_eq!(per_message.get(&user.phone_token), Some(&1), "{per_message:?}");

    // AND the function's metric lines count exactly that work: every replayed record consumed,
    // not one push sent
    let (ok, summary) = weelo_ops(&["metrics", &service.log]);
    assert!(ok, "{summary}");
    let metric = |name: &str| -> f64 {
        summary
            .lines()
            .find(|l| l.starts_with("fcm-consumer") && l.split_whitespace().nth(1) == Some(name))
            .and_then(|l| l.split_whitespace().nth(2)?.parse().ok())
            .unwrap_or(0.0)
    };
    assert_eq!(metric("Consumed"), replayed as f64, "{summary}");
    assert_eq!(metric("Pushed"), 0.0, "{summary}");
}

#[tokio::test]
async fn redrive_sends_each_dead_letter_back_and_keeps_the_one_that_fails_again() {
    // GIVEN a dead-letter queue holding a notification that was never pushed, one that was too big
    // for an SQS message and is only named by its offset in Kafka, and a poison record
    let api = e2e_api();
    let user = User::with_phone(&api, "customer").await;
    let run = unique("redrive");
    let good = notification_for(&user, run.clone());
    let named = notification_for(&user, format!("{run} named"));
    let (partition, offset) = publish_raw("notification.fcm", &named.key, named.payload.as_bytes()).await;
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let sqs = aws_sdk_sqs::Client::new(&aws);
    let queue = unique("redrive-dlq");
    let url = sqs.create_queue().queue_name(&queue).send().await.unwrap().queue_url.unwrap();
    let b64 = base64::engine::general_purpose::STANDARD;
    for value in [good.payload.as_bytes(), format!("poison {run}").as_bytes()] {
        let letter = json!({
            "function": "fcm-consumer", "topic": "notification.fcm", "partition": 0, "offset": 1,
            "key": b64.encode(&good.key), "value": b64.encode(value), "error": "test", "failedAt": "2026-11-26T00:00:00Z"
        });
        sqs.send_message().queue_url(&url).message_body(letter.to_string()).send().await.unwrap();
    }
    let only_named = json!({
        "function": "fcm-consumer", "topic": "notification.fcm", "partition": partition, "offset": offset,
        "key": null, "value": null, "valueBytes": named.payload.len(), "error": "test", "failedAt": "2026-11-26T00:00:00Z"
    });
    sqs.send_message().queue_url(&url).message_body(only_named.to_string()).send().await.unwrap();
    // AND the metadata-only record AWS's own on-failure destination would hold for a failed batch
    let batch = notification_for(&user, format!("{run} aws"));
    let (partition, offset) = publish_raw("notification.fcm", &batch.key, batch.payload.as_bytes()).await;
    let aws_record = json!({
        "requestContext": {"requestId": "r", "functionArn": "arn:aws:lambda:local:000000000000:function:fcm-consumer",
                           "condition": "RetryAttemptsExhausted", "approximateInvokeCount": 4},
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "version": "1.0", "timestamp": "2026-11-26T00:00:00Z",
        "KafkaBatchInfo": {"batchSize": 1, "eventSourceArn": "arn:aws:kafka:local", "bootstrapServers": "local", "payloadSize": 1,
                           "recordsInfo": {format!("notification.fcm-{partition}"): {
                               "firstRecordOffset": offset.to_string(), "lastRecordOffset": offset.to_string(),
                               "firstRecordTimestamp": "2026-11-26T00:00:00Z", "lastRecordTimestamp": "2026-11-26T00:00:00Z"}}}
    });
    sqs.send_message().queue_url(&url).message_body(aws_record.to_string()).send().await.unwrap();

    // WHEN an operator redrives the queue, twice
    let (first_ok, first) = weelo_ops(&["redrive", "--dlq", &queue]);
    let (second_ok, second) = weelo_ops(&["redrive", "--dlq", &queue]);

    // THEN the three notifications were pushed once and left the queue; the poison record failed again,
    // was reported, and stays for a person to look at
    assert!(!first_ok && first.contains("3 processed, 1 left"), "{first}");
    assert!(first.contains("failed again"), "{first}");
    assert!(!second_ok && second.contains("0 processed, 1 left"), "{second}");
    assert!(eventually(30, async || count_pushes(&user.phone_token, &run).await >= 1).await, "never pushed");
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert_eq!(pushes_by_phone(&run).await.get(&user.phone_token), Some(&3));
    assert_eq!(pushes_by_phone(&format!("{run} named")).await.get(&user.phone_token), Some(&1));
    assert_eq!(pushes_by_phone(&format!("{run} aws")).await.get(&user.phone_token), Some(&1));
    sqs.delete_queue().queue_url(&url).send().await.unwrap();
}

#[tokio::test]
async fn a_record_that_stops_an_on_demand_partition_is_skipped_to_a_dead_letter_queue_and_redriven_once_fixed() {
    // GIVEN the notification mapping on demand (the small profile), whose function crashes on every
    // batch holding one notification (a bug), with a notification ahead of it and one behind it in
    // the same partition
    let api = e2e_api();
    let user = User::with_phone(&api, "customer").await;
    let run = unique("stuck");
    let invoker = FailingOn::new(real_functions(), format!("{run} stuck"));
    let crashes = invoker.crashes.clone();
    let mut bridge = InProcessBridge::start_in_mode("fcm-consumer", "notification.fcm", invoker, true).await;
    let (ahead, stuck, behind) = (format!("{run} ahead"), format!("{run} stuck"), format!("{run} behind"));
    let records: Vec<_> =
        [&ahead, &stuck, &behind].iter().map(|body| notification_for(&user, body.to_string())).collect();
    let (partition, first) = publish_raw("notification.fcm", &records[0].key, records[0].payload.as_bytes()).await;
    let (_, offset) = publish_raw("notification.fcm", &records[1].key, records[1].payload.as_bytes()).await;
    publish(&records[2..]).await;
    let failed = eventually(60, async || crashes.load(std::sync::atomic::Ordering::SeqCst) >= 2).await;
    assert!(failed, "the function never failed the batch");
    assert_eq!(count_pushes(&user.phone_token, &behind).await, 0, "the partition moved past the failing record");
    let dlq = bridge.on_failure.rsplit('/').next().expect("a queue URL").to_owned();
    let suffix = bridge.mapping.group_suffix.clone();
    let skip = |at: i64| {
        let (partition, at, suffix) = (partition.to_string(), at.to_string(), format!("--group-suffix={suffix}"));
        let args = ["skip", "--function", "fcm-consumer", "--topic", "notification.fcm", "--partition", &partition];
        let more = ["--offset", &at, "--dlq", &dlq, "--reason", "e2e", &suffix];
        weelo_ops_all(&[&args[..], &more[..]].concat())
    };

    // WHEN an operator skips it while the mapping still runs, then stops the mapping and names an
    // offset the group is already past, then the failing one, and starts the mapping again
    let (while_running_ok, while_running) = skip(offset);
    bridge.stop();
    let mut past = (true, String::new());
    let left = eventually(60, async || {
        past = skip(first - 1);
        !past.1.contains("member")
    })
    .await;
    let (skipped_ok, skipped) = skip(offset);
    let _resumed = InProcessBridge::start_mapping(bridge.mapping.clone(), real_functions()).await;

    // THEN the first two changed nothing, and the skip let the notification behind it through, once
    assert!(!while_running_ok && while_running.contains("member"), "{while_running}");
    assert!(left, "the stopped bridge never left its group: {}", past.1);
    assert!(!past.0 && past.1.contains("nothing skipped"), "{}", past.1);
    assert!(skipped_ok, "{skipped}");
    assert!(eventually(60, async || count_pushes(&user.phone_token, &behind).await >= 1).await, "still stopped");
    // AND the failing notification waits in the queue (with the one ahead of it, if the group had
    // not committed that one); once its function can take it, a redrive pushes it, once, and every
    // notification reached the phone exactly once: nothing was lost
    let letters = bridge.dead_letters().await;
    let offsets: Vec<i64> = letters.iter().filter_map(|l| l["offset"].as_i64()).collect();
    assert!(offsets.contains(&offset) && offsets.iter().all(|o| (first..=offset).contains(o)), "{letters:?}");
    assert_eq!(count_pushes(&user.phone_token, &stuck).await, 0);
    let (redriven_ok, redriven) = weelo_ops(&["redrive", "--dlq", &dlq]);
    assert!(redriven_ok && redriven.contains(&format!("{} processed, 0 left", letters.len())), "{redriven}");
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    for body in [&ahead, &stuck, &behind] {
        assert_eq!(pushes_by_phone(body).await.get(&user.phone_token), Some(&1), "{body}");
    }
}

#[tokio::test]
async fn a_failed_audit_batch_is_kept_whole_in_s3_and_redriven_from_there_into_the_archive() {
    // GIVEN audit-consumer's mapping on notification.fcm, whose function fails every batch holding
    // this test's record
    let run = unique("s3-failure");
    let invoker = FailingOn::new(real_functions(), run.clone());
    let bridge = InProcessBridge::start("audit-consumer", "notification.fcm", invoker).await;
    assert_eq!(bridge.mapping.on_failure_kind, OnFailureKind::S3);

    // WHEN the record is published, and the mapping gives up on it after its retries
    let value = json!({"test": run}).to_string();
    let (partition, offset) = publish_raw("notification.fcm", &run, value.as_bytes()).await;
    let landed = eventually(120, async || !bridge.failed_batches().await.is_empty()).await;

    // THEN one object in the mapping's bucket, under AWS's key layout, holds its offsets and the
    // whole event it was delivered in; the archive does not have it
    assert!(landed, "nothing reached the bucket");
    let failed = bridge.failed_batches().await;
    assert_eq!(failed.len(), 1, "{failed:?}");
    let (key, record) = &failed[0];
    let batch = format!("notification.fcm-{partition}");
    assert!(key.starts_with("aws/lambda/") && key.contains(&format!("/{batch}/")), "{key}");
    assert_eq!(record["KafkaBatchInfo"]["recordsInfo"][&batch]["firstRecordOffset"], offset.to_string());
    let b64 = base64::engine::general_purpose::STANDARD;
    assert!(record["payload"].as_str().is_some_and(|p| p.contains(&b64.encode(&value))), "{record}");
    let archive_line = format!("{batch}@{offset} ");
    assert!(!archived(&run).contains(&archive_line));

    // WHEN an operator redrives the bucket (the function is reached directly, not through the
    // failing mapping)
    let (ok, out) = weelo_ops(&["redrive", "--bucket", &bridge.on_failure]);

    // THEN the record went back to audit-consumer from the object alone, is archived, and the
    // object is gone
    assert!(ok && out.contains("1 processed, 0 left"), "{out}");
    assert!(out.contains(&format!("processed     notification.fcm@{offset} by audit-consumer")), "{out}");
    assert!(bridge.failed_batches().await.is_empty());
    assert!(archived(&run).contains(&archive_line), "not archived");
}

#[tokio::test]
async fn lag_shows_every_mapping_and_falls_to_zero_once_the_consumers_caught_up() {
    // GIVEN the whole system running with consumer groups of this test
    let api = e2e_api();
    let groups = unique("-lag");
    let _bridge = Bridge::start(&groups).await;
    let user = User::with_phone(&api, "customer").await;
    let run = unique("lag");

    // WHEN notifications are published and pushed
    publish(&(0..10).map(|n| notification_for(&user, format!("{run} #{n}"))).collect::<Vec<_>>()).await;
    assert!(eventually(90, async || count_pushes(&user.phone_token, &run).await >= 10).await, "not all pushed");

    // THEN `weelo-ops lag` lists every mapping, and fcm-consumer's group on notification.fcm has
    // committed up to the end of each partition it consumed (this test's groups start at the end
    // of the topic, so partitions that received nothing have no commit and count from their start)
    let mut report = String::new();
    let caught_up = eventually(30, async || {
        let (ok, out) = weelo_ops(&["lag", "--partitions", &format!("--group-suffix={groups}")]);
        report = out;
        let section: Vec<&str> = report
            .lines()
            .skip_while(|l| !l.starts_with("fcm-consumer         notification.fcm"))
            .skip(1)
            .take_while(|l| l.starts_with("    partition"))
            .collect();
        let committed: Vec<(i64, i64)> = section
            .iter()
            .filter_map(|l| {
                let committed = l.split("committed").nth(1)?.split(',').next()?.trim().parse().ok()?;
                let end = l.split("..").nth(1)?.trim().parse().ok()?;
                Some((committed, end))
            })
            .collect();
        ok && !committed.is_empty() && committed.iter().all(|(c, end)| c == end)
    })
    .await;
    assert!(caught_up, "{report}");
    let mappings = weelo_definitions::load_mappings(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../infra/definitions"
    )))
    .unwrap();
    let totals = report.lines().filter(|l| !l.starts_with("    ")).count();
    assert_eq!(totals, mappings.len() + 1, "{report}");
}
