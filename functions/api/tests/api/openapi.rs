//! The published contract (`docs/openapi.yaml`) and the served routes are the same set, and every
//! operation documents the statuses the api can answer.

use serde_norway::Value;
use std::collections::BTreeSet;
use weelo_api::router::ROUTES;

fn spec() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.yaml");
    serde_norway::from_str(&std::fs::read_to_string(path).expect("docs/openapi.yaml")).expect("valid YAML")
}

fn operations(spec: &Value) -> Vec<(String, String, Value)> {
    let mut found = Vec::new();
    for (path, item) in spec["paths"].as_mapping().expect("paths") {
        for (method, operation) in item.as_mapping().unwrap() {
            let method = method.as_str().unwrap();
            if ["get", "put", "post", "delete", "patch"].contains(&method) {
                found.push((method.to_uppercase(), path.as_str().unwrap().to_owned(), operation.clone()));
            }
        }
    }
    found
}

#[test]
fn the_openapi_file_lists_exactly_the_served_routes() {
    let spec = spec();
    assert_eq!(spec["openapi"].as_str().unwrap(), "3.1.0");
    let documented: BTreeSet<(String, String)> = operations(&spec).into_iter().map(|(m, p, _)| (m, p)).collect();
    let served: BTreeSet<(String, String)> = ROUTES.iter().map(|(m, p)| (m.to_string(), p.to_string())).collect();
    assert_eq!(documented, served);
}

#[test]
fn every_protected_operation_documents_auth_and_error_statuses() {
    let spec = spec();
    for (method, path, operation) in operations(&spec) {
        let responses = operation["responses"].as_mapping().expect("responses");
        let statuses: BTreeSet<&str> = responses.keys().map(|k| k.as_str().unwrap()).collect();
        if path == "/v1/health" || path == "/track" {
            assert!(operation["security"].as_sequence().is_some_and(|s| s.is_empty()), "{path} is public");
            continue;
        }
        for status in ["401", "413", "500"] {
            assert!(statuses.contains(status), "{method} {path} does not document {status}");
        }
        // Devices are for both roles, and a booking's or order's visibility (and its trip's track)
        // answers 404: no 403 there.
        let role_restricted = !matches!(
            (method.as_str(), path.as_str()),
            ("POST", "/v1/devices")
                | ("DELETE", "/v1/devices/{deviceId}")
                | ("GET", "/v1/bookings/{bookingId}")
                | ("GET", "/v1/bookings/{bookingId}/track")
                | ("GET", "/v1/orders/{orderId}")
                | ("GET", "/v1/orders/{orderId}/truck-requests/{truckRequestId}/track")
        );
        assert_eq!(
            statuses.contains("403"),
            role_restricted,
            "{method} {path}: 403 documented iff the route is role-restricted"
        );
        let has_path_id = path.contains('{');
        let has_body = operation.get("requestBody").is_some();
        if has_path_id {
            assert!(statuses.contains("404"), "{method} {path} does not document 404");
        }
        if has_body {
            assert!(statuses.contains("400") && statuses.contains("415"), "{method} {path} lacks 400/415");
        }
    }
}

#[test]
fn the_documented_statuses_are_the_code_s() {
    use weelo_core::model::order::OrderStatus;
    use weelo_core::model::trip::TripStatus;
    let spec = spec();
    let documented = |schema: &str| -> Vec<String> {
        let values = spec["components"]["schemas"][schema]["enum"].as_sequence().expect("an enum");
        values.iter().map(|v| v.as_str().unwrap().to_owned()).collect()
    };
    let trips: Vec<String> = TripStatus::ALL.iter().map(|s| s.as_str().to_owned()).collect();
    assert_eq!(documented("BookingStatus"), trips);
    let trucks: Vec<String> = trips.iter().filter(|s| *s != "scheduled").cloned().collect();
    assert_eq!(documented("TruckRequestStatus"), trucks);
    let orders: Vec<String> = OrderStatus::ALL.iter().map(|s| s.as_str().to_owned()).collect();
    assert_eq!(documented("OrderStatus"), orders);
}
