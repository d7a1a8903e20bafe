//! Harness for the end-to-end flows: the api over plain HTTP (`E2E_API_URL`, served by the local
//! Lambda service, `weelo-local functions`), a private bridge process per test (`WEELO_LOCAL_BIN bridge`, with its own
//! consumer groups starting at the end of each topic), an in-process bridge for one mapping when a
//! test puts faults between the bridge and a real function, and moto's record of pushes.

mod live;
mod local_runs;
mod operator;
mod trips;

pub use live::{Carry, LiveClient, socket_url};
pub use local_runs::{MakeRun, PrivateFunctions, functions_status, kill_processes};
pub use operator::{weelo_ops, weelo_ops_all, weelo_ops_via};
use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
pub use trips::{Schedule, TripStack, book, drivers, has_push, in_inbox, kinds, north, pushes_about, status, step};
use weelo_local::bridge::{self, HttpInvoker, Invoke, InvokeError};
pub use weelo_testkit::private_city;
use weelo_testkit::unique;

pub use weelo_testkit::api::{Answer, ApiClient, User};

/// The api the end-to-end flows drive, over HTTP (`E2E_API_URL`).
pub fn e2e_api() -> ApiClient {
    ApiClient::over_http(&std::env::var("E2E_API_URL").expect("E2E_API_URL (set by localstack/e2e.sh)"))
}

/// The gps-ingest function over HTTP, as the truck apps send their points in AWS (its URL).
pub fn e2e_gps() -> ApiClient {
    ApiClient::over_http(&std::env::var("E2E_GPS_URL").expect("E2E_GPS_URL (set by localstack/e2e.sh)"))
}

/// Where bridge processes write their logs: `.local/logs/e2e-bridges.log`, appended to.
fn bridge_log() -> Option<std::fs::File> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../.local/logs/e2e-bridges.log");
    std::fs::OpenOptions::new().create(true).append(true).open(path).ok()
}

/// A bridge process of this test's own; killed when dropped.
pub struct Bridge {
    child: Child,
}

impl Bridge {
    /// Starts `weelo-local bridge` with consumer groups named by `group_suffix` and returns once it
    /// says it is ready (every mapping's start pinned), so whatever the test publishes next is
    /// delivered; a process that ends or stays silent for 120 s fails the test.
    pub async fn start(group_suffix: &str) -> Self {
        let invoke = std::env::var("E2E_INVOKE_URL").expect("E2E_INVOKE_URL (set by localstack/e2e.sh)");
        Self::start_to(group_suffix, &invoke).await
    }

    /// [`Bridge::start`] invoking the local Lambda service at `invoke` (`http://127.0.0.1:<port>`).
    pub async fn start_to(group_suffix: &str, invoke: &str) -> Self {
        use std::io::{BufRead, Write};
        let binary = std::env::var("WEELO_LOCAL_BIN").expect("WEELO_LOCAL_BIN (set by localstack/e2e.sh)");
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
        let mut child = Command::new(binary)
            .current_dir(root)
            .args(["bridge", "--invoke-url", invoke, "--from-latest", &format!("--group-suffix={group_suffix}")])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting the bridge");
        let mut stderr = std::io::BufReader::new(child.stderr.take().expect("the bridge's stderr"));
        // Built first, so a failure below kills the process (Drop) instead of leaving it running.
        let bridge = Self { child };
        let (ready_tx, ready) = tokio::sync::oneshot::channel::<()>();
        // Copies the bridge's log to the shared file until the process ends (a pipe nobody reads
        // would block its writes) and tells when it is ready; a dropped sender means it ended first.
        std::thread::spawn(move || {
            let mut log = bridge_log();
            let mut ready_tx = Some(ready_tx);
            let mut line = Vec::new();
            while stderr.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) {
                let text = String::from_utf8_lossy(&line);
                if let Some(log) = log.as_mut() {
                    let _ = log.write_all(text.as_bytes());
                }
                if text.starts_with("bridge: ready") {
                    ready_tx.take().map(|tx| tx.send(()));
                }
                line.clear();
            }
        });
        match tokio::time::timeout(Duration::from_secs(120), ready).await {
            Ok(Ok(())) => bridge,
            Ok(Err(_)) => panic!("the bridge ended before it was ready (see .local/logs/e2e-bridges.log)"),
            Err(_) => panic!("the bridge was not ready within 120 s (see .local/logs/e2e-bridges.log)"),
        }
    }

    /// Kills the process outright (SIGKILL), as a crash would.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The bridge for one mapping of `infra/definitions/event-source-mappings.json`, run inside the
/// test through `invoker`, with consumer groups of its own starting at the end of the topic and an
/// on-failure destination of its own (a queue or a bucket, as the mapping's kind says). Stopped
/// when dropped.
pub struct InProcessBridge {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    /// The on-failure destination: the queue's URL, or the bucket's name.
    pub on_failure: String,
    pub mapping: bridge::Mapping,
    /// Clients of the destination, to read it.
    destinations: bridge::DeadLetters,
}

impl InProcessBridge {
    pub async fn start<I: Invoke + 'static>(function: &str, topic: &str, invoker: I) -> Self {
        Self::start_in_mode(function, topic, invoker, false).await
    }

    /// [`InProcessBridge::start`] with the mapping in on-demand mode (Terraform's small profile)
    /// when `on_demand`: the answer is not read, a function error redelivers the whole batch.
    pub async fn start_in_mode<I: Invoke + 'static>(function: &str, topic: &str, invoker: I, on_demand: bool) -> Self {
        let definitions = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../infra/definitions"));
        let mut mapping = bridge::load_mappings(definitions)
            .expect("event-source-mappings.json")
            .into_iter()
            .find(|m| m.function == function && m.topic == topic)
            .expect("a mapping for this function and topic");
        mapping.group_suffix = unique("-e2e");
        mapping.starting_position = "LATEST".into();
        mapping.on_demand = on_demand;
        Self::start_mapping(mapping, invoker).await
    }

    /// A bridge running `mapping` as it is (another bridge's [`InProcessBridge::mapping`] resumes
    /// that bridge's consumer group where it committed), with a destination of its own.
    pub async fn start_mapping<I: Invoke + 'static>(mapping: bridge::Mapping, invoker: I) -> Self {
        let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        let prefix = unique("e2e-");
        let destinations = bridge::DeadLetters::new(&aws, prefix.clone());
        let name = format!("{prefix}{}", mapping.on_failure);
        let on_failure = match mapping.on_failure_kind {
            bridge::OnFailureKind::Sqs => {
                let created = destinations.sqs.create_queue().queue_name(&name).send().await;
                created.expect("creating the dead-letter queue").queue_url.unwrap_or_default()
            }
            bridge::OnFailureKind::S3 => {
                let region = aws.region().map(ToString::to_string).unwrap_or_default();
                weelo_local::provision::bucket(&destinations.s3, &name, &region).await.expect("creating the bucket");
                name
            }
        };
        let dead_letters = bridge::DeadLetters::new(&aws, prefix);
        let kafka = weelo_kafka::KafkaConfig::from_env().expect("KAFKA_* settings");
        // Pinned before anything is published, so the test's records are all delivered.
        let consumer =
            bridge::connect(&kafka, &mapping, bridge::Start::AsMapped).await.expect("the mapping's consumer");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let running = mapping.clone();
        tokio::spawn(async move {
            let stopped = async move {
                let _ = stopped.await;
            };
            if let Err(error) = bridge::run_mapping(consumer, &running, &invoker, &dead_letters, stopped).await {
                panic!("the in-process bridge stopped: {error:#}");
            }
        });
        Self { stop: Some(stop), on_failure, mapping, destinations }
    }

    /// What this bridge's on-failure destination holds: the bodies of the queue's messages, or the
    /// bucket's objects.
    pub async fn dead_letters(&self) -> Vec<Value> {
        if self.mapping.on_failure_kind == bridge::OnFailureKind::S3 {
            return self.failed_batches().await.into_iter().map(|(_, body)| body).collect();
        }
        let received = self
            .destinations
            .sqs
            .receive_message()
            .queue_url(&self.on_failure)
            .max_number_of_messages(10)
            .visibility_timeout(0)
            .send()
            .await
            .expect("reading the dead-letter queue");
        received.messages().iter().filter_map(|m| m.body()).filter_map(|b| serde_json::from_str(b).ok()).collect()
    }

    /// The objects of this bridge's bucket (an S3 destination), key and JSON body, in key order.
    pub async fn failed_batches(&self) -> Vec<(String, Value)> {
        let s3 = &self.destinations.s3;
        let listed = s3.list_objects_v2().bucket(&self.on_failure).send().await.expect("listing the bucket");
        let mut found = Vec::new();
        for key in listed.contents().iter().filter_map(|o| o.key()) {
            let object = s3.get_object().bucket(&self.on_failure).key(key).send().await.expect("reading an object");
            let body = object.body.collect().await.expect("an object's body").into_bytes();
            found.push((key.to_owned(), serde_json::from_slice(&body).expect("a JSON object")));
        }
        found
    }
}

impl InProcessBridge {
    /// Stops it (batches in flight are abandoned uncommitted, and its consumer leaves the group);
    /// its destination can still be read.
    pub fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl Drop for InProcessBridge {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Lambda's Invoke API of the local Lambda service (`E2E_INVOKE_URL`).
pub fn real_functions() -> HttpInvoker {
    let base_url = std::env::var("E2E_INVOKE_URL").expect("E2E_INVOKE_URL (set by localstack/e2e.sh)");
    HttpInvoker { client: reqwest::Client::new(), base_url }
}

/// Invokes the real function and counts the invocations that failed: an error, or an answer
/// naming records to redeliver.
pub struct FailureCountingInvoker {
    pub inner: HttpInvoker,
    pub failures: Arc<AtomicUsize>,
}

impl Invoke for FailureCountingInvoker {
    async fn invoke(&self, function: &str, payload: Vec<u8>) -> Result<Vec<u8>, InvokeError> {
        let answer = self.inner.invoke(function, payload).await;
        let failed = match &answer {
            Err(_) => true,
            Ok(body) => serde_json::from_slice::<Value>(body)
                .is_ok_and(|v| v["batchItemFailures"].as_array().is_some_and(|failures| !failures.is_empty())),
        };
        if failed {
            self.failures.fetch_add(1, Ordering::SeqCst);
        }
        answer
    }
}

/// Invokes the real function, but for the first `lose` invocations throws its answer away and
/// reports a failure: what the bridge sees when a function did its work and then timed out or
/// lost its connection. The retries that follow must not repeat the work's effects.
pub struct AnswerLosingInvoker {
    pub inner: HttpInvoker,
    lose: usize,
    pub invocations: Arc<AtomicUsize>,
}

impl AnswerLosingInvoker {
    pub fn new(inner: HttpInvoker, lose: usize) -> Self {
        Self { inner, lose, invocations: Arc::default() }
    }
}

impl Invoke for AnswerLosingInvoker {
    async fn invoke(&self, function: &str, payload: Vec<u8>) -> Result<Vec<u8>, InvokeError> {
        let answer = self.inner.invoke(function, payload).await;
        let n = self.invocations.fetch_add(1, Ordering::SeqCst);
        if n < self.lose { Err(InvokeError::Function(format!("answer #{} lost on purpose", n + 1))) } else { answer }
    }
}

/// A push notification for `user` whose body is `body` (tests search pushes by a unique body).
pub fn notification_for(user: &User, body: String) -> weelo_core::contract::events::EventRecord {
    use weelo_core::contract::events::{DomainEvent, FcmNotification};
    DomainEvent::NotificationFcm(FcmNotification {
        recipient_id: weelo_core::model::ids::UserId::parse(&user.id).expect("a person's id is a user id"),
        kind: "test".into(),
        title: "t".into(),
        body,
        data: Default::default(),
        data_only: false,
    })
    .to_record(weelo_core::model::ids::EventId::generate(), "/e2e", chrono::Utc::now())
}

/// Publishes events through the real event bus, as the functions do.
pub async fn publish(records: &[weelo_core::contract::events::EventRecord]) {
    use weelo_core::ports::EventBus;
    let mut kafka = weelo_kafka::KafkaConfig::from_env().expect("KAFKA_* settings");
    // The api's limit (KAFKA_PUBLISH_TIMEOUT_MS) is for answering users; a test's producer may be
    // the first client of a broker that has just restarted, on a busy machine.
    kafka.publish_timeout = Duration::from_secs(30);
    let bus = weelo_kafka::KafkaEventBus::connect(&kafka).await.expect("a Kafka producer");
    bus.publish(records).await.expect("the events are published");
}

/// The messages pushed to `phone` that contain `needle`, in no particular order.
pub async fn pushed_messages(phone: &str, needle: &str) -> Vec<String> {
    weelo_testkit::sns_platform_endpoints()
        .await
        .iter()
        .filter(|endpoint| endpoint["token"].as_str() == Some(phone))
        .flat_map(|endpoint| endpoint["messages"].as_object().cloned().unwrap_or_default().into_values())
        .filter_map(|message| message.as_str().filter(|m| m.contains(needle)).map(str::to_owned))
        .collect()
}

/// How many pushes reached `phone` with `needle` in their message.
pub async fn count_pushes(phone: &str, needle: &str) -> usize {
    pushes_by_phone(needle).await.get(phone).copied().unwrap_or(0)
}

/// Publishes raw bytes on a topic with a key (a poison record, or an event bypassing the bus);
/// returns its partition and offset.
pub async fn publish_raw(topic: &str, key: &str, value: &[u8]) -> (i32, i64) {
    use rdkafka::producer::{FutureProducer, FutureRecord};
    let kafka = weelo_kafka::KafkaConfig::from_env().expect("KAFKA_* settings");
    let producer: FutureProducer<weelo_kafka::KafkaContext> =
        kafka.client_config().create_with_context(weelo_kafka::KafkaContext::default()).expect("a producer");
    producer
        .send(FutureRecord::to(topic).key(key).payload(value), Duration::from_secs(10))
        .await
        .map(|delivery| (delivery.partition, delivery.offset))
        .map_err(|(error, _)| error)
        .expect("the record is published")
}

/// How many pushes moto recorded for each phone token, counting only messages containing `needle`.
pub async fn pushes_by_phone(needle: &str) -> std::collections::HashMap<String, usize> {
    let mut counts = std::collections::HashMap::new();
    for endpoint in weelo_testkit::sns_platform_endpoints().await {
        let Some(token) = endpoint["token"].as_str() else { continue };
        let n = endpoint["messages"]
            .as_object()
            .map(|m| m.values().filter(|v| v.as_str().is_some_and(|s| s.contains(needle))).count())
            .unwrap_or(0);
        if n > 0 {
            counts.insert(token.to_owned(), n);
        }
    }
    counts
}

/// Polls `check` every half second for up to `seconds`; returns whether it held.
pub async fn eventually(seconds: u64, mut check: impl AsyncFnMut() -> bool) -> bool {
    for _ in 0..seconds * 2 {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    false
}

/// `n` points scattered within about `spread_deg` degrees of `centre`.
pub fn around(centre: (f64, f64), spread_deg: f64, n: usize) -> Vec<(f64, f64)> {
    (0..n)
        .map(|i| {
            let angle = i as f64 * 2.399;
            let radius = spread_deg * ((i % 10) as f64 + 1.0) / 10.0;
            (centre.0 + radius * angle.sin(), centre.1 + radius * angle.cos())
        })
        .collect()
}

/// The DynamoDB adapter, to look at what the consumers stored.
pub async fn store() -> weelo_dynamo::DynamoStore {
    let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    weelo_dynamo::DynamoStore::from_env(&aws).expect("TABLE_* settings")
}

/// Waits until the location-consumer has filed every one of `people` in the geo index: their
/// position item, the index's note, is written after the index write, so matching finds them.
pub async fn wait_until_located(people: &[User]) {
    use weelo_core::ports::TransporterStore;
    let store = store().await;
    let ids: Vec<weelo_core::model::ids::UserId> =
        people.iter().map(|p| weelo_core::model::ids::UserId::parse(&p.id).unwrap()).collect();
    let filed = |stored: Vec<weelo_core::ports::StoredPosition>| stored.iter().all(|s| s.filed.is_some());
    let located = eventually(180, async || {
        store.stored_positions(&ids).await.is_ok_and(|stored| stored.len() == ids.len() && filed(stored))
    })
    .await;
    assert!(located, "not every transporter reached the geo index");
}

/// A booking request from `at` to a place about 30 km north.
pub fn booking_at(at: (f64, f64), vehicle: &str) -> Value {
    json!({"pickup": {"lat": at.0, "lng": at.1}, "drop": {"lat": at.0 + 0.3, "lng": at.1}, "vehicleType": vehicle})
}
