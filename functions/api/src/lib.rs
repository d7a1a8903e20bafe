//! The `api` function: the HTTP API of Weelo behind API Gateway (and the local Lambda service's
//! function URL). It authenticates, routes, decodes each body into a use case's command, runs the
//! use case (`weelo_core::usecases::api`), and turns the outcome into the JSON contract of
//! `docs/openapi.yaml`.
//!
//! # Layout
//! - `settings`: the one typed settings value, read from the environment at a cold start.
//! - `app`: the adapters and use cases, built once; [`serve`] answers one request.
//! - [`router`]: method and path → route.
//! - `handlers`: per route, the role, the body decoded into a command, the use case, the status.
//! - `page`: the shared-link tracking page (`GET /track`).
//! - `respond`: JSON bodies, and the one place where errors become HTTP statuses.
//! - [`gateway_event`]: API Gateway v2 requests built in code, for the tests and the benchmark.

mod app;
pub mod gateway_event;
mod handlers;
mod page;
mod respond;
pub mod router;
mod settings;

pub use app::{App, serve};
pub use settings::Settings;
