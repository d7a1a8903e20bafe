//! The `api` function: the HTTP API of Weelo behind API Gateway (and `cargo lambda watch` locally).
//! It authenticates, routes, hands each request to a use case of `weelo_core::service`, and turns
//! the outcome into the JSON contract of `docs/openapi.yaml`.

mod app;
pub mod gateway_event;
mod respond;
pub mod router;

pub use app::{App, serve};
