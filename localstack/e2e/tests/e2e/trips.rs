//! The trip lifecycle end to end, each test on a stack of its own (`TripStack`: functions with a
//! short offer window, a bridge, the deadline sweeper every second): a booking nobody accepts is
//! widened then expires; a trip taken step by step; offers withdrawn, a replay showing nothing twice; a release; a busy
//! transporter; a cancel racing a pickup; a scheduled booking; the sweeper killed and doubled.

use serde_json::Value;
use std::collections::BTreeMap;
use weelo_e2e::*;

#[tokio::test]
async fn a_booking_nobody_accepts_is_offered_wider_then_expires_and_the_customer_hears_once() {
    // GIVEN a 4 s offer window, a first search of one ring and a wider one of three more; one
    // driver at the pickup who never answers, one 7 km away, and the customer's phone
    let stack = TripStack::start(9041, 4, &[("MATCH_MAX_RINGS", "1".into()), ("MATCH_WIDER_RINGS", "3".into())]).await;
    let api = &stack.api;
    let centre = private_city();
    let people = drivers(api, &[centre, north(centre, 7.0)]).await;
    let (near, far) = (&people[0], &people[1]);
    let customer = User::with_phone(api, "customer").await;

    // WHEN the customer books at the pickup
    let booking = book(api, &customer, centre).await;

    // THEN the near driver is offered it first, the far one once the window passed; both find it
    // in their inbox
    assert!(eventually(60, async || has_push(&near.phone_token, &booking, "booking.offered").await).await);
    assert!(eventually(60, async || has_push(&far.phone_token, &booking, "booking.offered").await).await);
    assert!(in_inbox(api, near, &booking).await && in_inbox(api, far, &booking).await);
    // AND after the next window it expires: the customer is told once, both drivers drop the offer
    let expired = eventually(60, async || status(api, &customer, &booking).await["status"] == "expired").await;
    assert!(expired, "{}", status(api, &customer, &booking).await);
    assert!(eventually(30, async || has_push(&far.phone_token, &booking, "booking.withdrawn").await).await);
    assert!(!in_inbox(api, near, &booking).await && !in_inbox(api, far, &booking).await, "expired: out of the inboxes");
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    assert_eq!(kinds(&customer.phone_token, &booking).await, BTreeMap::from([("booking.expired".into(), 1)]));
    // (a withdrawal is data-only and skips the push log: a retried batch may bring it twice, which
    // the app ignores; the offer, which the phone shows, comes once)
    for driver in [near, far] {
        let pushed = kinds(&driver.phone_token, &booking).await;
        assert_eq!(pushed.keys().collect::<Vec<_>>(), ["booking.offered", "booking.withdrawn"], "{pushed:?}");
        assert_eq!(pushed["booking.offered"], 1, "{pushed:?}");
    }
    // AND an accept after that is refused with the status
    let late = api.call("POST", &format!("/v1/bookings/{booking}/accept"), Some(near), None).await;
    assert_eq!((late.status, late.body["error"]["currentStatus"].as_str()), (409, Some("expired")), "{late:?}");

    // AND a booking where nobody drives at all expires at once, the customer told once
    let nowhere = (centre.0 + 3.0, centre.1);
    let lonely = book(api, &customer, nowhere).await;
    assert!(eventually(30, async || has_push(&customer.phone_token, &lonely, "booking.expired").await).await);
    assert_eq!(status(api, &customer, &lonely).await["status"], "expired");
}

#[tokio::test]
async fn a_trip_goes_accepted_arrived_picked_up_delivered_and_the_customer_hears_each_step_once() {
    // GIVEN a booking offered to a driver
    let stack = TripStack::start(9042, 120, &[]).await;
    let api = &stack.api;
    let centre = private_city();
    let driver = drivers(api, &[centre]).await.remove(0);
    let customer = User::with_phone(api, "customer").await;
    let booking = book(api, &customer, centre).await;
    assert!(eventually(60, async || has_push(&driver.phone_token, &booking, "booking.offered").await).await);

    // WHEN the driver accepts, sends three GPS points on the way, and then takes each step;
    // every step out of order on the way is refused
    assert_eq!(step(api, &driver, &booking, "accept").await.status, 200);
    let on_the_way = send_points(api, &driver, centre, 3).await;
    let early = step(api, &driver, &booking, "pickup").await;
    assert_eq!((early.status, early.body["error"]["currentStatus"].as_str()), (409, Some("accepted")));
    assert_eq!(step(api, &driver, &booking, "arrive").await.status, 200);
    let early = step(api, &driver, &booking, "deliver").await;
    assert_eq!((early.status, early.body["error"]["currentStatus"].as_str()), (409, Some("arrived")));
    assert_eq!(step(api, &driver, &booking, "pickup").await.status, 200);
    assert_eq!(step(api, &driver, &booking, "pickup").await.status, 200, "a repeated step is harmless");
    let late = step(api, &driver, &booking, "arrive").await;
    assert_eq!((late.status, late.body["error"]["currentStatus"].as_str()), (409, Some("picked_up")));
    assert_eq!(step(api, &driver, &booking, "deliver").await.status, 200);
    let after_delivery = send_points(api, &driver, centre, 1).await;

    // THEN it is delivered, and the customer got exactly one push per step
    let done = status(api, &customer, &booking).await;
    assert_eq!(done["status"], "delivered");
    for at in ["acceptedAt", "arrivedAt", "pickedUpAt", "deliveredAt"] {
        assert!(done[at].is_string(), "{at} missing: {done}");
    }
    let expected: BTreeMap<String, usize> =
        ["booking.accepted", "booking.arrived", "booking.picked-up", "booking.delivered"].map(|k| (k.into(), 1)).into();
    assert!(eventually(60, async || kinds(&customer.phone_token, &booking).await.len() == 4).await);
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    assert_eq!(kinds(&customer.phone_token, &booking).await, expected);
    // AND once location-consumer stored every point (the one from before the trip, the three on
    // the way, the one after), the trip's track is exactly the three, in order
    assert!(eventually(60, async || history_len(&driver).await >= 5).await, "{}", history_len(&driver).await);
    let track = api.call("GET", &format!("/v1/bookings/{booking}/track"), Some(&customer), None).await;
    assert_eq!(track.status, 200, "{track:?}");
    let times: Vec<&str> =
        track.body["items"].as_array().unwrap().iter().map(|p| p["recordedAt"].as_str().unwrap()).collect();
    let millis = |t: &str| t.parse::<chrono::DateTime<chrono::Utc>>().unwrap().timestamp_millis();
    assert_eq!(times.iter().map(|t| millis(t)).collect::<Vec<_>>(), on_the_way, "{track:?}");
    assert!(after_delivery.iter().all(|after| on_the_way.iter().all(|during| during < after)));
}

/// Sends `n` GPS points near `at` in one request, recorded a few milliseconds apart from now on;
/// their times in milliseconds.
async fn send_points(api: &ApiClient, driver: &User, at: (f64, f64), n: usize) -> Vec<i64> {
    let start = chrono::Utc::now();
    let times: Vec<_> = (0..n).map(|i| start + chrono::Duration::milliseconds(5 * i as i64)).collect();
    let points: Vec<Value> = times
        .iter()
        .map(|t| serde_json::json!({"lat": at.0, "lng": at.1, "recordedAt": t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)}))
        .collect();
    let sent =
        api.call("POST", "/v1/tracking/location", Some(driver), Some(serde_json::json!({ "points": points }))).await;
    assert_eq!(sent.status, 202, "{sent:?}");
    times.iter().map(chrono::DateTime::timestamp_millis).collect()
}

/// How many of `driver`'s points the history holds (read as a track of the last day).
async fn history_len(driver: &User) -> usize {
    use weelo_core::ports::{LocationHistoryStore, TrackRange};
    let now = chrono::Utc::now();
    let day = TrackRange { from: now - chrono::Duration::days(1), until: now, limit: 1000, after: None };
    let day = store().await.track(&driver.user_id(), day).await;
    day.map_or(0, |page| page.items.len())
}

#[tokio::test]
async fn the_losers_of_an_accept_drop_the_offer_and_a_replay_shows_nobody_anything_twice() {
    // GIVEN a booking offered to five drivers
    let stack = TripStack::start(9043, 120, &[]).await;
    let api = &stack.api;
    let centre = private_city();
    let from = chrono::Utc::now();
    let people = drivers(api, &around(centre, 0.01, 5)).await;
    let customer = User::with_phone(api, "customer").await;
    let booking = book(api, &customer, centre).await;
    for driver in &people {
        let offered = eventually(60, async || has_push(&driver.phone_token, &booking, "booking.offered").await).await;
        assert!(offered, "{} was not offered the booking", driver.id);
        assert!(in_inbox(api, driver, &booking).await, "{} does not find it in the inbox", driver.id);
    }

    // WHEN the first accepts
    assert_eq!(step(api, &people[0], &booking, "accept").await.status, 200);
    // THEN it leaves every inbox
    for driver in &people {
        assert!(!in_inbox(api, driver, &booking).await, "{} still finds the taken booking", driver.id);
    }

    // THEN each of the four others gets one data-only withdrawal, and the winner none
    for driver in &people[1..] {
        assert!(eventually(60, async || has_push(&driver.phone_token, &booking, "booking.withdrawn").await).await);
        let (_, message) = pushes_about(&driver.phone_token, &booking)
            .await
            .into_iter()
            .find(|(kind, _)| kind == "booking.withdrawn")
            .unwrap();
        assert!(message.get("notification").is_none(), "a withdrawal is a data message: {message}");
    }
    // AND when an operator replays the booking's events through order-fanout, no phone shows
    // anything twice: a withdrawal may come again (data-only pushes skip the push log), and each
    // names an offer made at or after the one the phone was shown, so the app drops that one only
    let to = chrono::Utc::now() + chrono::Duration::seconds(1);
    let args = ["replay", "--topic", "booking.events", "--from", &from.to_rfc3339(), "--to", &to.to_rfc3339()];
    let (ok, out) = weelo_ops_via(&stack.functions.url, &[&args[..], &["--to-function", "order-fanout"]].concat());
    assert!(ok, "{out}");
    // (the replay offers the booking to them again and takes it back again: a withdrawal comes again)
    let withdrawn = async || {
        let mut count = 0;
        for driver in &people[1..] {
            count += kinds(&driver.phone_token, &booking).await.get("booking.withdrawn").copied().unwrap_or(0);
        }
        count
    };
    assert!(eventually(60, async || withdrawn().await > 4).await, "the replay reached no phone");
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    assert_eq!(kinds(&people[0].phone_token, &booking).await, BTreeMap::from([("booking.offered".into(), 1)]));
    for driver in &people[1..] {
        let pushed = pushes_about(&driver.phone_token, &booking).await;
        let offered: Vec<&Value> = pushed.iter().filter(|(k, _)| k == "booking.offered").map(|(_, m)| m).collect();
        assert_eq!(offered.len(), 1, "{pushed:?}");
        let shown = offered[0]["data"]["offeredAt"].as_str().expect("the offer's time");
        for (kind, message) in &pushed {
            assert!(kind == "booking.offered" || kind == "booking.withdrawn", "{kind}");
            if kind == "booking.withdrawn" {
                assert!(message.get("notification").is_none(), "a withdrawal is a data message: {message}");
                let names = message["data"]["offeredAt"].as_str().expect("the withdrawn offer's time");
                assert!(at(names) >= at(shown), "a withdrawal naming {names} would not drop the offer of {shown}");
            }
        }
    }
}

fn at(rfc3339: &str) -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc3339(rfc3339).expect("an RFC 3339 time")
}

#[tokio::test]
async fn a_release_before_pickup_reoffers_the_booking_to_the_others_only_and_after_pickup_is_refused() {
    // GIVEN a booking offered to Kiran and Meera, accepted by Kiran
    let stack = TripStack::start(9044, 120, &[]).await;
    let api = &stack.api;
    let centre = private_city();
    let people = drivers(api, &[centre, north(centre, 0.5)]).await;
    let (kiran, meera) = (&people[0], &people[1]);
    let customer = User::with_phone(api, "customer").await;
    let booking = book(api, &customer, centre).await;
    assert!(eventually(60, async || has_push(&meera.phone_token, &booking, "booking.offered").await).await);
    assert!(eventually(60, async || has_push(&kiran.phone_token, &booking, "booking.offered").await).await);
    assert_eq!(step(api, kiran, &booking, "accept").await.status, 200);
    assert!(eventually(60, async || has_push(&meera.phone_token, &booking, "booking.withdrawn").await).await);

    // WHEN Kiran releases it
    let released = step(api, kiran, &booking, "release").await;
    assert_eq!((released.status, released.body["status"].as_str()), (200, Some("searching")), "{released:?}");

    // THEN Meera is offered it again, Kiran is not and cannot take it back, the customer is told
    let reoffered =
        eventually(60, async || kinds(&meera.phone_token, &booking).await.get("booking.offered") == Some(&2)).await;
    assert!(reoffered, "{:?}", kinds(&meera.phone_token, &booking).await);
    assert!(eventually(60, async || has_push(&customer.phone_token, &booking, "booking.released").await).await);
    assert_eq!(kinds(&kiran.phone_token, &booking).await.get("booking.offered"), Some(&1));
    assert_eq!(step(api, kiran, &booking, "accept").await.status, 404);

    // AND once Meera has picked it up, she cannot release it
    for verb in ["accept", "arrive", "pickup"] {
        assert_eq!(step(api, meera, &booking, verb).await.status, 200, "{verb}");
    }
    let refused = step(api, meera, &booking, "release").await;
    assert_eq!((refused.status, refused.body["error"]["currentStatus"].as_str()), (409, Some("picked_up")));
}

#[tokio::test]
async fn a_transporter_on_a_trip_is_not_offered_a_second_booking_until_they_deliver() {
    // GIVEN Kiran on a trip, and Meera free, both at the pickup
    let stack = TripStack::start(9045, 120, &[]).await;
    let api = &stack.api;
    let centre = private_city();
    let people = drivers(api, &[centre, north(centre, 0.3)]).await;
    let (kiran, meera) = (&people[0], &people[1]);
    let customer = User::with_phone(api, "customer").await;
    let first = book(api, &customer, centre).await;
    assert!(eventually(60, async || has_push(&kiran.phone_token, &first, "booking.offered").await).await);
    assert_eq!(step(api, kiran, &first, "accept").await.status, 200);

    // WHEN a second booking is made there
    let second = book(api, &customer, centre).await;

    // THEN only Meera is offered it
    assert!(eventually(60, async || has_push(&meera.phone_token, &second, "booking.offered").await).await);
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert!(kinds(&kiran.phone_token, &second).await.is_empty());
    assert_eq!(step(api, kiran, &second, "accept").await.status, 404);

    // AND after Kiran delivers, a third booking reaches him
    for verb in ["arrive", "pickup", "deliver"] {
        assert_eq!(step(api, kiran, &first, verb).await.status, 200, "{verb}");
    }
    let third = book(api, &customer, centre).await;
    assert!(eventually(60, async || has_push(&kiran.phone_token, &third, "booking.offered").await).await);
}

#[tokio::test]
async fn a_cancel_racing_a_pickup_has_exactly_one_winner_twenty_times() {
    // GIVEN a driver and a customer
    let stack = TripStack::start(9046, 120, &[]).await;
    let api = &stack.api;
    let centre = private_city();
    let driver = drivers(api, &[centre]).await.remove(0);
    let customer = User::with_phone(api, "customer").await;
    let mut outcomes: BTreeMap<&str, usize> = BTreeMap::new();
    for round in 0..20 {
        // GIVEN the driver arrived at a new booking's pickup
        let booking = book(api, &customer, centre).await;
        let accepted = eventually(60, async || step(api, &driver, &booking, "accept").await.status == 200).await;
        assert!(accepted, "round {round}: never accepted");
        assert_eq!(step(api, &driver, &booking, "arrive").await.status, 200);

        // WHEN the customer cancels while the driver marks it picked up
        let (cancel, pickup) =
            tokio::join!(step(api, &customer, &booking, "cancel"), step(api, &driver, &booking, "pickup"));

        // THEN exactly one wins, the other gets 409 with the winner's status
        let winner = match (cancel.status, pickup.status) {
            (200, 409) => "cancel",
            (409, 200) => "pickup",
            other => panic!("round {round}: not exactly one winner: {other:?} {cancel:?} {pickup:?}"),
        };
        let stored = status(api, &customer, &booking).await["status"].clone();
        assert_eq!(stored, if winner == "cancel" { "cancelled" } else { "picked_up" }, "round {round}");
        *outcomes.entry(winner).or_default() += 1;
        if winner == "pickup" {
            assert_eq!(step(api, &driver, &booking, "deliver").await.status, 200);
        }
    }
    eprintln!("cancel vs pickup over 20 rounds: {outcomes:?}");
}

#[tokio::test]
async fn a_scheduled_booking_is_offered_only_from_its_lead_time_and_can_be_cancelled_before() {
    // GIVEN a lead time of one hour, a driver, and two bookings for one hour and 6 s from now
    let stack = TripStack::start(9047, 120, &[("SCHEDULE_LEAD_SECS", "3600".into())]).await;
    let api = &stack.api;
    let centre = private_city();
    let driver = drivers(api, &[centre]).await.remove(0);
    let customer = User::with_phone(api, "customer").await;
    let at = chrono::Utc::now() + chrono::Duration::seconds(3606);
    let mut request = booking_at(centre, "tipper");
    request["scheduledAt"] = Value::String(at.to_rfc3339());
    let mut made = Vec::new();
    for _ in 0..2 {
        let booked = api.call("POST", "/v1/bookings", Some(&customer), Some(request.clone())).await;
        assert_eq!((booked.status, booked.body["status"].as_str()), (201, Some("scheduled")), "{booked:?}");
        made.push(booked.body["bookingId"].as_str().unwrap().to_owned());
    }
    let (kept, dropped) = (&made[0], &made[1]);

    // WHEN one is cancelled at once
    let cancelled = api.call("POST", &format!("/v1/bookings/{dropped}/cancel"), Some(&customer), None).await;
    assert_eq!(cancelled.body["status"], "cancelled");

    // THEN nobody is offered either before the lead time
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert!(kinds(&driver.phone_token, kept).await.is_empty());
    assert_eq!(status(api, &customer, kept).await["status"], "scheduled");
    // AND from the lead time on, the kept one is searching and offered; the cancelled one never
    assert!(eventually(60, async || has_push(&driver.phone_token, kept, "booking.offered").await).await);
    assert_eq!(status(api, &customer, kept).await["status"], "searching");
    assert!(kinds(&driver.phone_token, dropped).await.is_empty());
}

#[tokio::test]
async fn deadlines_missed_while_the_sweeper_was_down_or_crashing_fire_once_when_it_runs_again() {
    // GIVEN a 3 s window, a driver who never answers, and the sweeper stopped
    let mut stack = TripStack::start(9048, 3, &[]).await;
    stack.sweeper = None;
    let api = &stack.api;
    let centre = private_city();
    let driver = drivers(api, &[centre]).await.remove(0);
    let customer = User::with_phone(api, "customer").await;

    // WHEN three bookings are made and their windows pass with no sweep
    let mut bookings = Vec::new();
    for _ in 0..3 {
        bookings.push(book(api, &customer, centre).await);
    }
    for booking in &bookings {
        assert!(eventually(60, async || has_push(&driver.phone_token, booking, "booking.offered").await).await);
    }
    tokio::time::sleep(std::time::Duration::from_secs(6)).await;
    // THEN nothing moved them: the sweeper is what fires deadlines
    for booking in &bookings {
        let seen = status(api, &customer, booking).await;
        assert_eq!((seen["status"].as_str(), seen["searchRound"].as_u64()), (Some("searching"), Some(0)), "{seen}");
    }

    // WHEN the sweeper runs again, twice over (two schedules), its processes killed now and then
    let _first = Schedule::start("deadline-sweeper", 1, &stack.functions.url);
    let _second = Schedule::start("deadline-sweeper", 1, &stack.functions.url);
    let mut killed = 0;
    let all_expired = eventually(90, async || {
        if killed < 3 {
            killed += kill_processes(&stack.functions.url, "deadline-sweeper").await.min(1);
        }
        let mut expired = 0;
        for booking in &bookings {
            expired += usize::from(status(api, &customer, booking).await["status"] == "expired");
        }
        expired == bookings.len()
    })
    .await;

    // THEN every booking was widened once and expired once: one event each, one push each
    assert!(all_expired, "killed {killed} sweeper processes; not all bookings expired");
    let since = chrono::Utc::now() - chrono::Duration::minutes(5);
    for booking in &bookings {
        for ty in ["widened", "expired"] {
            let ty = format!("com.weelo.booking.{ty}.v1");
            let records = weelo_testkit::records_of_type("booking.events", booking, &ty, since, 1).await;
            assert_eq!(records.len(), 1, "{booking}: {ty}");
        }
        assert!(eventually(30, async || has_push(&customer.phone_token, booking, "booking.expired").await).await);
    }
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    for booking in &bookings {
        assert_eq!(kinds(&customer.phone_token, booking).await.get("booking.expired"), Some(&1));
    }
}
