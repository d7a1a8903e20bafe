//! The application: adapters and use cases built once per cold start, and the request pipeline
//! (route → size → token → content type → handler → response).

use crate::handlers::{self, UseCases};
use crate::page::TrackPage;
use crate::respond;
use crate::router::{self, Route, RouteError, Served};
use crate::settings::Settings;
use lambda_http::{Body, Request, RequestExt, Response};
use std::convert::Infallible;
use weelo_auth::{TokenError, TokenVerifier};
use weelo_core::contract::requests::limits::MAX_BODY_BYTES;
use weelo_core::model::caller::Caller;
use weelo_dynamo::DynamoStore;
use weelo_kafka::KafkaEventBus;
use weelo_sns::SnsPushRegistry;

pub struct App {
    /// The adapters, for tests and the benchmark to look at what the use cases wrote.
    pub store: DynamoStore,
    pub bus: KafkaEventBus,
    use_cases: UseCases,
    verifier: TokenVerifier,
    page: TrackPage,
    routes: Served,
}

impl App {
    /// Builds every client from `settings`.
    pub async fn connect(settings: &Settings) -> anyhow::Result<Self> {
        let (aws, store) = settings.store.connect().await;
        let bus = KafkaEventBus::connect(&settings.kafka).await?;
        let push = SnsPushRegistry::new(aws_sdk_sns::Client::new(&aws), settings.platform_application_arn.clone());
        let verifier = TokenVerifier::load(&settings.edge.jwt).await?;
        let shares = (settings.share_page_url.clone(), settings.share_lifetime);
        let use_cases = UseCases::new(&store, &bus, push, settings.times, settings.edge.cursor_key.clone(), shares);
        let page = TrackPage::new(&settings.live_socket_url);
        Ok(Self { use_cases, store, bus, verifier, page, routes: settings.routes })
    }

    /// [`App::connect`] with the settings of the environment.
    pub async fn from_env() -> anyhow::Result<Self> {
        Self::connect(&Settings::from_env()?).await
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
        Ok(route) if !app.routes.serves(&route) => {
            return respond::error(404, "route_not_found", "this endpoint serves only POST /v1/tracking/location");
        }
        Ok(route) => route,
        Err(RouteError::NotFound) => {
            return respond::error(404, "route_not_found", "no such route");
        }
        Err(RouteError::MethodNotAllowed(_)) if !app.routes.serves_path(path) => {
            return respond::error(404, "route_not_found", "this endpoint serves only POST /v1/tracking/location");
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
    if route == Route::TrackPage {
        return app.page.response();
    }
    let caller = match authenticate(app, request) {
        Ok(caller) => caller,
        Err(rejection) => return unauthorized(rejection),
    };
    if route.takes_body() && !is_json(request) {
        return respond::error(415, "unsupported_media_type", "send the body as application/json");
    }
    let idempotency_key = request.headers().get("idempotency-key").map(|v| v.to_str().unwrap_or("\u{0}"));
    let query = request.uri().query().unwrap_or_default();
    handlers::handle(&app.use_cases, route, &caller, handlers::Input { body, query, idempotency_key })
        .await
        .unwrap_or_else(|failure| respond::service_error(&failure))
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
