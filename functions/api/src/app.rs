//! The application: clients built once per cold start, and the request pipeline
//! (route → size → token → content type → use case → response).

use crate::respond;
use crate::router::{self, Route, RouteError};
use lambda_http::{Body, Request, RequestExt, Response};
use std::convert::Infallible;
use weelo_auth::{TokenError, TokenVerifier, VerifierConfig};
use weelo_core::caller::Caller;
use weelo_core::requests::limits::MAX_BODY_BYTES;
use weelo_core::service::{ApiService, Created};
use weelo_dynamo::{DynamoStore, Tables};
use weelo_kafka::{KafkaConfig, KafkaEventBus};
use weelo_sns::SnsPushRegistry;

pub type Service = ApiService<DynamoStore, KafkaEventBus, SnsPushRegistry>;

pub struct App {
    pub service: Service,
    pub verifier: TokenVerifier,
}

impl App {
    /// Builds every client from the environment (see the README's configuration table).
    pub async fn from_env() -> anyhow::Result<Self> {
        let aws = weelo_aws::sdk_config().await?;
        let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&aws), Tables::from_env()?);
        let bus = KafkaEventBus::connect(&KafkaConfig::from_env()?).await?;
        let push = SnsPushRegistry::from_env(aws_sdk_sns::Client::new(&aws)).map_err(anyhow::Error::msg)?;
        let verifier = TokenVerifier::load(&VerifierConfig::from_env()?).await?;
        Ok(Self { service: ApiService::new(store, bus, push), verifier })
    }
}

/// Answers one HTTP request. Never fails: every outcome is a response.
pub async fn serve(app: &App, request: Request) -> Result<Response<Body>, Infallible> {
    let response = answer(app, &request).await;
    tracing::debug!(method = %request.method(), path = request.uri().path(), status = response.status().as_u16(), "request");
    Ok(response)
}

async fn answer(app: &App, request: &Request) -> Response<Body> {
    let path = request.raw_http_path();
    let route = match router::route(request.method(), path) {
        Ok(route) => route,
        Err(RouteError::NotFound) => {
            return respond::error(404, "route_not_found", "no such route");
        }
        Err(RouteError::MethodNotAllowed(allowed)) => {
            let mut response = respond::error(405, "method_not_allowed", &format!("this route accepts {allowed}"));
            response.headers_mut().insert("allow", http::HeaderValue::from_static(allowed));
            return response;
        }
    };
    let body: &[u8] = request.body().as_ref();
    if body.len() > MAX_BODY_BYTES {
        return respond::error(413, "payload_too_large", "the body must be at most 64 KiB");
    }
    if route == Route::Health {
        return respond::json(200, &serde_json::json!({ "status": "ok" }));
    }
    let caller = match authenticate(app, request) {
        Ok(caller) => caller,
        Err(rejection) => return unauthorized(rejection),
    };
    if route.takes_body() && !is_json(request) {
        return respond::error(415, "unsupported_media_type", "send the body as application/json");
    }
    let idempotency_key = request.headers().get("idempotency-key").map(|v| v.to_str().unwrap_or("\u{0}"));
    let service = &app.service;
    let outcome = match route {
        Route::Health => unreachable!("answered above"),
        Route::RegisterDevice => service.register_device(&caller, body).await.map(|c| created_or_ok(c, 201, 200)),
        Route::PutTransporterProfile => {
            service.put_transporter_profile(&caller, body).await.map(|p| respond::json(200, &p))
        }
        Route::IngestLocation => service
            .ingest_locations(&caller, body)
            .await
            .map(|n| respond::json(202, &serde_json::json!({ "accepted": n }))),
        Route::CreateBooking => {
            service.create_booking(&caller, body, idempotency_key).await.map(|c| created_or_ok(c, 201, 201))
        }
        Route::GetBooking(id) => service.get_booking(&caller, id).await.map(|b| respond::json(200, &b)),
        Route::AcceptBooking(id) => service.accept_booking(&caller, id).await.map(|b| respond::json(200, &b)),
        Route::CancelBooking(id) => service.cancel_booking(&caller, id).await.map(|b| respond::json(200, &b)),
        Route::BookingLocation(id) => service.booking_location(&caller, id).await.map(|p| respond::json(200, &p)),
        Route::CreateOrder => {
            service.create_order(&caller, body, idempotency_key).await.map(|c| created_or_ok(c, 201, 201))
        }
        Route::GetOrder(id) => service.get_order(&caller, id).await.map(|o| respond::json(200, &o)),
        Route::AcceptTruckRequest { order, truck_request } => {
            service.accept_truck_request(&caller, order, truck_request).await.map(|t| respond::json(200, &t))
        }
    };
    outcome.unwrap_or_else(|failure| respond::service_error(&failure))
}

/// A created resource answers `created`; a replay (same idempotency key, or a device registered
/// before) answers `replayed` and says so in `Idempotent-Replayed`.
fn created_or_ok<T: serde::Serialize>(
    created: Created<T>,
    created_status: u16,
    replayed_status: u16,
) -> Response<Body> {
    let mut response = respond::json(if created.replayed { replayed_status } else { created_status }, &created.value);
    if created.replayed {
        response.headers_mut().insert("idempotent-replayed", http::HeaderValue::from_static("true"));
    }
    response
}

/// Why a request was not authenticated.
enum Rejection {
    NoBearerToken,
    Token(TokenError),
}

fn authenticate(app: &App, request: &Request) -> Result<Caller, Rejection> {
    let header = request.headers().get("authorization").and_then(|v| v.to_str().ok());
    let token = header
        .and_then(|h| h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer ")))
        .ok_or(Rejection::NoBearerToken)?;
    app.verifier.verify(token.trim()).map_err(Rejection::Token)
}

fn unauthorized(rejection: Rejection) -> Response<Body> {
    let mut response = match rejection {
        Rejection::NoBearerToken => respond::error(401, "unauthorized", "send Authorization: Bearer <token>"),
        Rejection::Token(TokenError::Expired) => respond::error(401, "token_expired", "the token has expired"),
        Rejection::Token(TokenError::Invalid) => respond::error(401, "unauthorized", "the token is not valid"),
        Rejection::Token(TokenError::MissingClaim(claim)) => {
            respond::error(401, "unauthorized", &format!("the token lacks a valid {claim} claim"))
        }
    };
    response.headers_mut().insert("www-authenticate", http::HeaderValue::from_static("Bearer"));
    response
}

fn is_json(request: &Request) -> bool {
    let content_type = request.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let media_type = content_type.split(';').next().unwrap_or_default().trim();
    media_type.eq_ignore_ascii_case("application/json")
}
