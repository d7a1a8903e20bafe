//! Any bytes as the body of every api operation that reads one, as an Idempotency-Key and as a list
//! read route's query string (lists and tracks): decoding and validation must answer Ok or a ValidationError (a 400), never
//! panic; whatever passes validation must be storable (finite numbers, none too small for
//! DynamoDB), and a parsed query must be within its limits.
#![no_main]

use chrono::{TimeZone, Utc};
use libfuzzer_sys::fuzz_target;
use weelo_core::contract::requests::{
    CreateBookingRequest, CreateOrderRequest, RegisterDeviceRequest, TransporterProfileRequest, decode,
    IdempotencyKey, ListQuery, MAX_CURSOR_CHARS, OfferQuery, PageLimit, TrackQuery, parse_location_body,
};
use weelo_core::model::order::OrderStatus;
use weelo_core::model::trip::TripStatus;

fn storable(value: f64) -> bool {
    value.is_finite() && (value == 0.0 || value.abs() >= 1e-130)
}

fuzz_target!(|body: &[u8]| {
    // A fixed clock: the same input must always take the same path.
    let now = Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap();
    if let Ok(request) = decode::<CreateBookingRequest>(body) {
        if let Ok(booking) = request.validate(now) {
            for place in [&booking.pickup, &booking.drop] {
                assert!(storable(place.lat) && storable(place.lng), "{place:?}");
            }
        }
    }
    if let Ok(request) = decode::<CreateOrderRequest>(body) {
        if let Ok(order) = request.validate() {
            assert!(storable(order.pickup.lat) && storable(order.drop.lng));
        }
    }
    if let Ok(request) = decode::<RegisterDeviceRequest>(body) {
        let _ = request.validate();
    }
    if let Ok(request) = decode::<TransporterProfileRequest>(body) {
        let _ = request.validate();
    }
    if let Ok(points) = parse_location_body(body, now) {
        for point in points {
            let optional = [point.speed_kmh, point.heading_deg, point.accuracy_m];
            assert!(storable(point.lat) && storable(point.lng) && optional.iter().flatten().all(|v| storable(*v)));
        }
    }
    if let Ok(text) = std::str::from_utf8(body) {
        let _ = IdempotencyKey::parse(text);
        if let Ok(query) = ListQuery::parse(text, &TripStatus::ALL) {
            let limit = query.limit.get();
            assert!((1..=usize::from(PageLimit::MAX)).contains(&limit), "{limit}");
            assert!(query.cursor.is_none_or(|c| !c.is_empty() && c.len() <= MAX_CURSOR_CHARS));
        }
        // The orders list parses its own statuses.
        if let Ok(query) = ListQuery::parse(text, &OrderStatus::ALL) {
            assert!(query.statuses.len() <= OrderStatus::ALL.len());
        }
        // A list without statuses (`GET /v1/trips`) takes none.
        if let Ok(query) = ListQuery::<TripStatus>::parse(text, &[]) {
            assert!(query.statuses.is_empty());
        }
        if let Ok(query) = OfferQuery::parse(text) {
            assert!((1..=usize::from(PageLimit::MAX)).contains(&query.limit.get()));
        }
        if let Ok(query) = TrackQuery::parse(text) {
            let limit = query.limit.get();
            assert!((1..=usize::from(TrackQuery::MAX_POINTS)).contains(&limit), "{limit}");
            assert!(query.cursor.is_none_or(|c| !c.is_empty() && c.len() <= MAX_CURSOR_CHARS));
            if let (Some(since), Some(until)) = (query.since, query.until) {
                assert!(since <= until, "{since} > {until}");
            }
        }
    }
});
