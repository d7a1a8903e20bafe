//! Live tracking end to end (docs/live-tracking.md): real WebSocket clients against the local
//! gateway of `weelo-local functions`, the live-tracking consumer behind a bridge, and the shared
//! page in headless Chromium (`localstack/browser_check.py`).

use serde_json::{Value, json};
use weelo_core::contract::cursor::CursorKey;
use weelo_core::contract::live::seal_share_token;
use weelo_core::model::caller::{Caller, Role};
use weelo_core::model::ids::{BookingId, ShareId};
use weelo_core::model::live::{ConnectionId, LiveConnection, Watcher};
use weelo_core::model::trip::TripRef;
use weelo_core::ports::LiveStore;
use weelo_e2e::*;
use weelo_testkit::{token_for, unique};

fn invoke_url() -> String {
    std::env::var("E2E_INVOKE_URL").expect("E2E_INVOKE_URL (set by localstack/e2e.sh)")
}

/// A booking near a driver, accepted by them: (customer, driver, booking id, where).
async fn accepted_trip(api: &ApiClient) -> (User, User, String, (f64, f64)) {
    let centre = private_city();
    let driver = drivers(api, &[centre]).await.remove(0);
    let customer = User::with_phone(api, "customer").await;
    let booking = book(api, &customer, centre).await;
    assert!(eventually(60, async || in_inbox(api, &driver, &booking).await).await, "the driver was not offered it");
    assert_eq!(step(api, &driver, &booking, "accept").await.status, 200);
    (customer, driver, booking, centre)
}

/// `points` (lat, recorded ms) sent by `driver` in one request.
async fn post_points(api: &ApiClient, driver: &User, lng: f64, points: &[(f64, i64)]) {
    let body: Vec<Value> = points
        .iter()
        .map(|(lat, ms)| {
            let at = chrono::DateTime::from_timestamp_millis(*ms).unwrap();
            json!({"lat": lat, "lng": lng, "recordedAt": at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)})
        })
        .collect();
    let sent = api.call("POST", "/v1/tracking/location", Some(driver), Some(json!({ "points": body }))).await;
    assert_eq!(sent.status, 202, "{sent:?}");
}

async fn subscribed(url: &str, who: &User, booking: &str) -> LiveClient {
    let mut client = LiveClient::connect(url, &who.token, Carry::Query).await.expect("the owner connects");
    client.send(json!({"action": "subscribe", "booking": booking})).await;
    let answer = client.next_of("subscribed", 30).await.expect("a subscribed answer");
    assert_eq!(answer["trips"][0]["trip"], format!("booking/{booking}"), "{answer}");
    client
}

#[tokio::test]
async fn a_customer_watches_their_truck_live_in_order_and_nobody_else_can() {
    // GIVEN an accepted booking, its customer subscribed over a WebSocket
    let api = e2e_api();
    let _bridge = Bridge::start(&unique("-live")).await;
    let url = socket_url(&invoke_url());
    let (customer, driver, booking, centre) = accepted_trip(&api).await;
    let mut watching = subscribed(&url, &customer, &booking).await;
    assert_eq!(watching.received[0]["trips"][0]["status"], "accepted");

    // WHEN the driver sends 20 points in five requests, the requests out of order
    let start = chrono::Utc::now().timestamp_millis();
    let points: Vec<(f64, i64)> = (0..20).map(|i| (centre.0 + i as f64 * 0.0005, start + i * 1000)).collect();
    for chunk in [2usize, 0, 4, 1, 3] {
        post_points(&api, &driver, centre.1, &points[chunk * 4..chunk * 4 + 4]).await;
    }
    let newest = points[19].1;
    let arrived = eventually(60, async || {
        watching.drain(1).await;
        watching.positions().last() == Some(&newest)
    })
    .await;

    // THEN the customer got points in increasing time only, the newest last
    let got = watching.positions();
    assert!(arrived, "the newest point did not arrive: {got:?}");
    assert!(got.windows(2).all(|w| w[0] < w[1]), "an older point came after a newer one: {got:?}");
    assert!(got.iter().all(|ms| points.iter().any(|(_, sent)| sent == ms)), "{got:?}");

    // AND each step the driver takes arrives as a status
    assert_eq!(step(&api, &driver, &booking, "arrive").await.status, 200);
    assert_eq!(step(&api, &driver, &booking, "pickup").await.status, 200);
    let heard = eventually(60, async || {
        watching.drain(1).await;
        watching.statuses().ends_with(&["arrived".to_owned(), "picked_up".to_owned()])
    })
    .await;
    assert!(heard, "statuses: {:?}", watching.statuses());

    // AND another customer, or a transporter who does not hold the trip, is refused the booking
    for stranger in [User::customer(), User::transporter()] {
        let mut other = LiveClient::connect(&url, &stranger.token, Carry::Query).await.expect("a valid token connects");
        other.send(json!({"action": "subscribe", "booking": booking})).await;
        let answer = other.next_of("error", 30).await.expect("an error answer");
        assert_eq!(answer["message"], "booking not found", "{answer}");
    }
    // AND a forged, an expired or no token cannot connect at all
    let forged = format!("{}x", &customer.token[..customer.token.len() - 1]);
    let expired = token_for(&customer.id, "customer", -3600);
    for (why, token) in [("forged", forged), ("expired", expired), ("empty", String::new())] {
        let refused = LiveClient::connect(&url, &token, Carry::Query).await.err();
        assert_eq!(refused, Some(403), "a {why} token connected");
    }
}

#[tokio::test]
async fn a_connection_gone_without_a_disconnect_is_forgotten_at_the_next_post() {
    // GIVEN an accepted booking watched by a connection whose client vanished without API Gateway
    // calling $disconnect (its records are there, the gateway does not know it)
    let api = e2e_api();
    let _bridge = Bridge::start(&unique("-live-gone")).await;
    let (customer, driver, booking, centre) = accepted_trip(&api).await;
    let store = store().await;
    // (Counted before the ghost exists: the driver's point sent for matching may reach
    // live-tracking only now, and be the post that finds it gone.)
    let gone_before = live_tracking_metric("LiveGone");
    let ghost = ConnectionId::parse(&unique("ghost")).unwrap();
    let caller = Caller { user_id: customer.user_id(), role: Role::Customer };
    let expires_at = chrono::Utc::now() + chrono::Duration::hours(1);
    let connection = LiveConnection { id: ghost.clone(), watcher: Watcher::User(caller), expires_at };
    store.put_connection(&connection).await.unwrap();
    let trip = TripRef::Booking(BookingId::parse(&booking).unwrap());
    store.watch(&connection, &trip, Some(&driver.user_id())).await.unwrap();
    assert!(store.watchers_of_trip(&trip).await.unwrap().contains(&ghost));

    // WHEN the driver sends a point
    post_points(&api, &driver, centre.1, &[(centre.0, chrono::Utc::now().timestamp_millis())]).await;

    // THEN the post answered 410 and the connection's records are gone
    let forgotten = eventually(60, async || store.get_connection(&ghost).await.unwrap().is_none()).await;
    assert!(forgotten, "the gone connection is still stored");
    assert!(!store.watchers_of_trip(&trip).await.unwrap().contains(&ghost));
    // AND live-tracking's metrics count the gone connection (flushed after the invocation)
    let counted = eventually(10, async || live_tracking_metric("LiveGone") >= gone_before + 1.0).await;
    assert!(counted, "LiveGone stayed at {gone_before}");
}

/// live-tracking's `metric` summed by `weelo-ops metrics` over the e2e functions' log.
fn live_tracking_metric(metric: &str) -> f64 {
    let log = concat!(env!("CARGO_MANIFEST_DIR"), "/../../.local/logs/e2e-functions.log");
    let (ok, summary) = weelo_ops(&["metrics", log]);
    assert!(ok, "{summary}");
    summary
        .lines()
        .find(|l| l.starts_with("live-tracking") && l.split_whitespace().nth(1) == Some(metric))
        .and_then(|l| l.split_whitespace().nth(2)?.parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test]
async fn the_consumer_killed_mid_batch_loses_and_duplicates_nothing_the_client_shows() {
    // GIVEN an accepted booking watched by its customer
    let api = e2e_api();
    let _bridge = Bridge::start(&unique("-live-kill")).await;
    let url = socket_url(&invoke_url());
    let (customer, driver, booking, centre) = accepted_trip(&api).await;
    let mut watching = subscribed(&url, &customer, &booking).await;

    // WHEN the driver sends 12 points one request at a time, and the live-tracking processes are
    // killed after the fourth
    let start = chrono::Utc::now().timestamp_millis();
    let mut killed = 0;
    for i in 0..12i64 {
        post_points(&api, &driver, centre.1, &[(centre.0 + i as f64 * 0.001, start + i * 1000)]).await;
        if i == 3 {
            killed = kill_processes(&invoke_url(), "live-tracking").await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let newest = start + 11 * 1000;
    let arrived = eventually(90, async || {
        watching.drain(1).await;
        watching.positions().contains(&newest)
    })
    .await;

    // THEN the newest point arrived, and what the client shows (a point is shown only if newer
    // than the one shown) moved forward only: nothing older came after something newer
    let got = watching.positions();
    assert!(arrived, "the newest point never arrived after the kill ({killed} processes killed): {got:?}");
    assert!(killed > 0, "no live-tracking process was running to kill");
    assert!(got.windows(2).all(|w| w[0] <= w[1]), "an older point came after a newer one: {got:?}");
    assert_eq!(got.last(), Some(&newest), "{got:?}");
}

#[tokio::test]
async fn a_shared_link_shows_the_truck_on_the_page_until_it_is_revoked() {
    // GIVEN an accepted booking whose truck sent three points, and a link the customer shared
    let api = e2e_api();
    let _bridge = Bridge::start(&unique("-live-share")).await;
    let url = socket_url(&invoke_url());
    let (customer, driver, booking, centre) = accepted_trip(&api).await;
    let start = chrono::Utc::now().timestamp_millis();
    let on_grid = |lat: f64| (lat * 1e4).round() / 1e4;
    let points: Vec<(f64, i64)> =
        (0..3).map(|i| (on_grid(centre.0 + 0.01 * (i + 1) as f64), start + i * 1000)).collect();
    post_points(&api, &driver, centre.1, &points).await;
    let newest = points[2];
    // A coordinate comes back as the api keeps it (to 1e-7°), not always bit for bit as sent: for
    // some of the random cities 49.59 came back as 49.589999999999996 or the other way round, and
    // an exact comparison waited in vain. The points are 0.01° apart: within 1e-6° is the newest.
    let at_newest = |lat: Option<f64>| lat.is_some_and(|lat| (lat - newest.0).abs() < 1e-6);
    // 90 s, as the other waits on a consumer: on a loaded machine a store call can time out and the
    // bridge retry the batch.
    let mut last = None;
    let positioned = eventually(90, async || {
        let location = api.call("GET", &format!("/v1/bookings/{booking}/location"), Some(&customer), None).await;
        let stored = at_newest(location.body["lat"].as_f64());
        last = Some(location);
        stored
    })
    .await;
    assert!(positioned, "location-consumer did not store the newest point {newest:?}; the last answer: {last:?}");
    let shared = api.call("POST", &format!("/v1/bookings/{booking}/share"), Some(&customer), None).await;
    assert_eq!(shared.status, 201, "{shared:?}");
    let link = shared.body["url"].as_str().unwrap().to_owned();
    let token = link.split_once('#').expect("the token in the fragment").1.to_owned();

    // WHEN a viewer connects with the link's token (as the page does) and subscribes
    let mut viewer = LiveClient::connect(&url, &token, Carry::Subprotocol).await.expect("the link connects");
    viewer.send(json!({"action": "subscribe"})).await;
    let snapshot = viewer.next_of("subscribed", 30).await.expect("a subscribed answer");

    // THEN they see that booking's truck at its newest point; another booking is refused
    assert_eq!(snapshot["trips"][0]["trip"], format!("booking/{booking}"));
    assert!(at_newest(snapshot["trips"][0]["position"]["lat"].as_f64()), "{snapshot}");
    viewer.send(json!({"action": "subscribe", "booking": BookingId::generate().to_string()})).await;
    assert!(viewer.next_of("error", 30).await.is_some());
    // AND the page in a browser shows the truck at the newest point and the status
    let truck_at = Some((newest.0, centre.1));
    browser_check(&link, &["--expect-state", "live", "--expect-status", "accepted"], truck_at, "track-page-live")
        .expect("the page shows the truck");

    // WHEN the customer revokes the link
    let share_id = shared.body["shareId"].as_str().unwrap();
    let revoked = api.call("DELETE", &format!("/v1/bookings/{booking}/share/{share_id}"), Some(&customer), None).await;
    assert_eq!(revoked.status, 204, "{revoked:?}");

    // THEN it no longer connects, and the page says the link expired or was revoked
    assert_eq!(LiveClient::connect(&url, &token, Carry::Subprotocol).await.err(), Some(403));
    browser_check(&link, &["--expect-state", "expired"], None, "track-page-expired").expect("the page says expired");
    // AND a token of a live link whose time is up does not connect either (sealed here with the
    // stack's key: links last at least an hour)
    let second = api.call("POST", &format!("/v1/bookings/{booking}/share"), Some(&customer), None).await;
    assert_eq!(second.status, 201, "{second:?}");
    let key = CursorKey::from_base64(&std::env::var("CURSOR_KEY").unwrap()).unwrap();
    let share = ShareId::parse(second.body["shareId"].as_str().unwrap()).unwrap();
    let timed_out = seal_share_token(&key, share, chrono::Utc::now() - chrono::Duration::minutes(1));
    assert_eq!(LiveClient::connect(&url, &timed_out, Carry::Subprotocol).await.err(), Some(403));
    let page = shared.body["url"].as_str().unwrap().split_once('#').unwrap().0.to_owned();
    browser_check(&format!("{page}#{timed_out}"), &["--expect-state", "expired"], None, "track-page-timed-out")
        .expect("the page says a timed-out link expired");

    // WHEN the page is open on the second link while the driver delivers
    let open_page = browser_start(
        second.body["url"].as_str().unwrap(),
        &["--expect-state", "ended", "--expect-status", "delivered", "--timeout", "120"],
        "track-page-ended",
    );
    let trip = TripRef::Booking(BookingId::parse(&booking).unwrap());
    let store = store().await;
    let watching = eventually(60, async || store.watchers_of_trip(&trip).await.unwrap().len() >= 2).await;
    assert!(watching, "the page never subscribed");
    for verb in ["arrive", "pickup", "deliver"] {
        assert_eq!(step(&api, &driver, &booking, verb).await.status, 200);
    }

    // THEN the open page says the trip ended
    let output = open_page.wait_with_output().expect("browser_check.py ends");
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    // AND once delivered, the trip can no longer be shared
    let late = api.call("POST", &format!("/v1/bookings/{booking}/share"), Some(&customer), None).await;
    assert_eq!((late.status, late.error_code()), (409, "trip_ended"), "{late:?}");
}

/// `localstack/browser_check.py` on `url` with `expect` (and the truck at `at`), keeping a
/// screenshot as `.local/artifacts/<name>.png`.
fn browser_command(url: &str, expect: &[&str], at: Option<(f64, f64)>, name: &str) -> std::process::Command {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let mut args: Vec<String> = vec![format!("{root}/localstack/browser_check.py"), "--url".into(), url.into()];
    args.extend(expect.iter().map(|a| a.to_string()));
    if let Some((lat, lng)) = at {
        args.extend(["--expect-lat".to_owned(), lat.to_string(), "--expect-lng".to_owned(), lng.to_string()]);
    }
    args.extend(["--screenshot".to_owned(), format!("{root}/.local/artifacts/{name}.png")]);
    let mut command = std::process::Command::new("python3");
    command.args(&args);
    command
}

/// [`browser_command`] started in the background, its output captured.
fn browser_start(url: &str, expect: &[&str], name: &str) -> std::process::Child {
    let mut command = browser_command(url, expect, None, name);
    command.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    command.spawn().expect("starting browser_check.py")
}

/// [`browser_command`] run to its end: its complaint when the page did not get there.
fn browser_check(url: &str, expect: &[&str], at: Option<(f64, f64)>, name: &str) -> Result<(), String> {
    let output = browser_command(url, expect, at, name).output().expect("running browser_check.py");
    if output.status.success() {
        Ok(())
    } else {
        Err(format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr)))
    }
}

#[tokio::test]
async fn an_orders_customer_watches_every_truck_each_driver_only_their_own_until_unsubscribed() {
    // GIVEN a 2-tipper order, each truck accepted by another driver
    let api = e2e_api();
    let _bridge = Bridge::start(&unique("-live-order")).await;
    let url = socket_url(&invoke_url());
    let centre = private_city();
    let people = drivers(&api, &[centre, north(centre, 0.5)]).await;
    let customer = User::with_phone(&api, "customer").await;
    let body = json!({"pickup": {"lat": centre.0, "lng": centre.1}, "drop": {"lat": centre.0 + 0.3, "lng": centre.1},
        "trucks": [{"vehicleType": "tipper", "quantity": 2}]});
    let created = api.call("POST", "/v1/orders", Some(&customer), Some(body)).await;
    assert_eq!(created.status, 201, "{created:?}");
    let order = created.body["orderId"].as_str().unwrap().to_owned();
    let read = async || api.call("GET", &format!("/v1/orders/{order}"), Some(&customer), None).await.body;
    assert!(eventually(60, async || read().await["truckRequests"].as_array().map(Vec::len) == Some(2)).await);
    let view = read().await;
    let trucks: Vec<String> = view["truckRequests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["truckRequestId"].as_str().unwrap().to_owned())
        .collect();
    for (driver, truck) in people.iter().zip(&trucks) {
        assert!(eventually(60, async || has_push(&driver.phone_token, &order, "order.offered").await).await);
        let path = format!("/v1/orders/{order}/truck-requests/{truck}/accept");
        assert_eq!(api.call("POST", &path, Some(driver), None).await.status, 200);
    }

    // WHEN the customer and the first driver subscribe to the order
    let mut owner = LiveClient::connect(&url, &customer.token, Carry::Query).await.expect("the customer connects");
    owner.send(json!({"action": "subscribe", "order": order})).await;
    let owner_sees = owner.next_of("subscribed", 30).await.expect("subscribed");
    let mut first = LiveClient::connect(&url, &people[0].token, Carry::Query).await.expect("the driver connects");
    first.send(json!({"action": "subscribe", "order": order})).await;
    let first_sees = first.next_of("subscribed", 30).await.expect("subscribed");

    // THEN the customer watches both trucks, the driver only the one they hold
    let trip = |truck: &str| format!("order/{order}/truck-request/{truck}");
    let watched = |answer: &Value| -> Vec<String> {
        answer["trips"].as_array().unwrap().iter().map(|t| t["trip"].as_str().unwrap().to_owned()).collect()
    };
    let mut both = vec![trip(&trucks[0]), trip(&trucks[1])];
    both.sort();
    let mut owner_trips = watched(&owner_sees);
    owner_trips.sort();
    assert_eq!(owner_trips, both);
    assert_eq!(watched(&first_sees), vec![trip(&trucks[0])]);

    // WHEN each driver sends a point
    let now = chrono::Utc::now().timestamp_millis();
    for (i, driver) in people.iter().enumerate() {
        post_points(&api, driver, centre.1, &[(centre.0, now + i as i64)]).await;
    }
    // THEN the customer gets a point of each truck, the first driver only their own
    let trips_of = |client: &LiveClient| -> Vec<String> {
        let positions = client.received.iter().filter(|m| m["type"] == "position");
        let mut trips: Vec<String> = positions.map(|m| m["trip"].as_str().unwrap().to_owned()).collect();
        trips.sort();
        trips
    };
    let both_arrived = eventually(60, async || {
        owner.drain(1).await;
        trips_of(&owner) == both
    })
    .await;
    assert!(both_arrived, "the customer got {:?}", trips_of(&owner));
    first.drain(2).await;
    assert_eq!(trips_of(&first), vec![trip(&trucks[0])]);

    // WHEN the customer unsubscribes and the drivers send newer points
    owner.send(json!({"action": "unsubscribe", "order": order})).await;
    let left = owner.next_of("unsubscribed", 30).await.expect("unsubscribed");
    assert_eq!(left["trips"].as_array().unwrap().len(), 2);
    for (i, driver) in people.iter().enumerate() {
        post_points(&api, driver, centre.1, &[(centre.0, now + 1000 + i as i64)]).await;
    }
    // THEN the first driver still gets their newer point, and the customer nothing more
    let newer = eventually(60, async || {
        first.drain(1).await;
        trips_of(&first).len() == 2
    })
    .await;
    assert!(newer, "the driver stopped getting their own truck's points");
    owner.drain(2).await;
    assert_eq!(trips_of(&owner), both, "points came after unsubscribing");
}
