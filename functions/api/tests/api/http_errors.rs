//! The HTTP edge: tokens, roles, sizes, media types, unknown routes, and the one error shape.

use crate::support::*;
use serde_json::json;
use weelo_api::router::ROUTES;

fn concrete(template: &str) -> String {
    let id = uuid::Uuid::now_v7().to_string();
    template
        .replace("{bookingId}", &id)
        .replace("{orderId}", &id)
        .replace("{truckRequestId}", &id)
        .replace("{shareId}", &id)
}

#[tokio::test]
async fn health_needs_no_token() {
    let app = spawn_app().await;
    let response = app.call("GET", "/v1/health", None, None).await;
    assert_eq!(response.status, 200);
    assert_eq!(response.body, json!({ "status": "ok" }));
}

#[tokio::test]
async fn the_tracking_page_needs_no_token_and_allows_only_its_own_script_and_the_socket() {
    // WHEN anyone asks for the page a shared link opens
    let app = spawn_app().await;
    let page = app.call("GET", "/track", None, None).await;
    // THEN it is HTML naming the live socket, and its policy allows that socket and no other origin
    assert_eq!(page.status, 200);
    let socket = std::env::var("LIVE_SOCKET_URL").unwrap();
    assert!(page.body.as_str().unwrap().contains(&socket), "the page does not name the socket");
    let policy = page.headers.get("content-security-policy").unwrap().to_str().unwrap();
    assert!(policy.starts_with("default-src 'none'; script-src 'sha256-"), "{policy}");
    assert!(policy.contains(&format!("connect-src {socket};")), "{policy}");
    assert_eq!(page.headers.get("referrer-policy").unwrap(), "no-referrer");
}

#[tokio::test]
async fn every_other_route_refuses_missing_expired_forged_and_foreign_tokens() {
    let app = spawn_app().await;
    let sub = unique("user");
    let expired = token_for(&sub, "customer", -3600);
    let valid = token_for(&sub, "customer", 3600);
    // Flip one character of the signature: a well-formed token whose signature does not verify.
    let forged = {
        let mut chars: Vec<char> = valid.chars().collect();
        let last = chars.len() - 5;
        chars[last] = if chars[last] == 'A' { 'B' } else { 'A' };
        chars.into_iter().collect::<String>()
    };
    let no_role = {
        let pem = std::fs::read(std::env::var("JWT_DEV_PRIVATE_KEY").unwrap()).unwrap();
        weelo_auth::mint(&weelo_auth::MintRequest {
            private_key_pem: &pem,
            key_id: "weelo-local-1",
            issuer: &std::env::var("JWT_ISSUER").unwrap(),
            audience: std::env::var("JWT_AUDIENCE").ok().as_deref(),
            role_claim: "custom:role",
            subject: &sub,
            role: "admin",
            lifetime_secs: 3600,
        })
        .unwrap()
    };
    let other_issuer = {
        let pem = std::fs::read(std::env::var("JWT_DEV_PRIVATE_KEY").unwrap()).unwrap();
        weelo_auth::mint(&weelo_auth::MintRequest {
            private_key_pem: &pem,
            key_id: "weelo-local-1",
            issuer: "https://evil.example",
            audience: std::env::var("JWT_AUDIENCE").ok().as_deref(),
            role_claim: "custom:role",
            subject: &sub,
            role: "customer",
            lifetime_secs: 3600,
        })
        .unwrap()
    };
    for (method, template) in ROUTES.iter().filter(|(_, path)| !["/v1/health", "/track"].contains(path)) {
        let path = concrete(template);
        let cases: [(Option<String>, &str); 6] = [
            (None, "unauthorized"),
            (Some("Basic dXNlcjpwYXNz".into()), "unauthorized"),
            (Some(format!("Bearer {expired}")), "token_expired"),
            (Some(format!("Bearer {forged}")), "unauthorized"),
            (Some(format!("Bearer {no_role}")), "unauthorized"),
            (Some(format!("Bearer {other_issuer}")), "unauthorized"),
        ];
        for (authorization, code) in cases {
            let mut headers = vec![("content-type".to_owned(), "application/json".to_owned())];
            if let Some(value) = &authorization {
                headers.push(("authorization".to_owned(), value.clone()));
            }
            let response = app.call_raw(method, &path, &headers, "{}").await;
            assert_eq!(response.status, 401, "{method} {path} with {authorization:?}");
            assert_eq!(response.error_code(), code, "{method} {path}");
            assert_eq!(response.headers.get("www-authenticate").unwrap(), "Bearer");
        }
    }
}

#[tokio::test]
async fn wrong_roles_get_403() {
    let app = spawn_app().await;
    let (customer, transporter) = (User::customer(), User::transporter());
    let customer_only = ["/v1/bookings", "/v1/orders"];
    for path in customer_only {
        let response = app.call("POST", path, Some(&transporter), Some(booking_body())).await;
        assert_eq!(response.status, 403, "{path}");
        assert_eq!(response.error_code(), "forbidden");
    }
    for (method, path) in [("PUT", "/v1/transporters/me"), ("POST", "/v1/tracking/location")] {
        assert_eq!(app.call(method, path, Some(&customer), Some(json!({}))).await.status, 403, "{path}");
    }
}

#[tokio::test]
async fn bodies_over_64_kib_get_413_and_non_json_gets_415() {
    let app = spawn_app().await;
    let customer = User::customer();
    let auth = ("authorization".to_owned(), format!("Bearer {}", customer.token));
    let json_type = ("content-type".to_owned(), "application/json".to_owned());

    let big = format!(r#"{{"pickup":{{"lat":1,"lng":1,"address":"{}"}}}}"#, "x".repeat(70 * 1024));
    let response = app.call_raw("POST", "/v1/bookings", &[auth.clone(), json_type.clone()], &big).await;
    assert_eq!(response.status, 413);
    assert_eq!(response.error_code(), "payload_too_large");

    let text = ("content-type".to_owned(), "text/plain".to_owned());
    let response = app.call_raw("POST", "/v1/bookings", &[auth.clone(), text], &booking_body().to_string()).await;
    assert_eq!(response.status, 415);
    assert_eq!(response.error_code(), "unsupported_media_type");

    let missing = app.call_raw("POST", "/v1/bookings", std::slice::from_ref(&auth), &booking_body().to_string()).await;
    assert_eq!(missing.status, 415);

    let charset = ("content-type".to_owned(), "Application/JSON; charset=utf-8".to_owned());
    assert_eq!(
        app.call_raw("POST", "/v1/bookings", &[auth.clone(), charset], &booking_body().to_string()).await.status,
        201
    );

    let not_json = app.call_raw("POST", "/v1/bookings", &[auth, json_type], "pickup=1").await;
    assert_eq!(not_json.status, 400);
    assert_eq!(not_json.body["error"]["details"][0]["field"], "body");
}

#[tokio::test]
async fn unknown_routes_get_404_and_wrong_methods_405() {
    let app = spawn_app().await;
    let user = User::customer();
    let unknown = app.call("GET", "/v1/trucks", Some(&user), None).await;
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.error_code(), "route_not_found");
    let wrong = app.call("DELETE", "/v1/bookings", Some(&user), None).await;
    assert_eq!(wrong.status, 405);
    assert_eq!(wrong.headers.get("allow").unwrap(), "GET, POST");
}

#[tokio::test]
async fn every_error_has_the_same_shape_and_no_internal_text() {
    let app = spawn_app().await;
    let user = User::customer();
    let responses = [
        app.call("GET", "/v1/nope", Some(&user), None).await,
        app.call("POST", "/v1/bookings", None, None).await,
        app.call("POST", "/v1/bookings", Some(&user), Some(json!({ "pickup": 1 }))).await,
        app.call("GET", "/v1/bookings/x", Some(&user), None).await,
    ];
    for response in responses {
        let error = response.body["error"].as_object().expect("an error object");
        assert!(error["code"].is_string() && error["message"].is_string(), "{}", response.body);
        assert!(error.keys().all(|k| ["code", "message", "details"].contains(&k.as_str())));
        let text = response.body.to_string();
        for leak in ["dynamodb", "DynamoDB", "rdkafka", "panicked", "aws-sdk", "at line"] {
            assert!(!text.contains(leak), "{text}");
        }
    }
}
