//! Weelo's domain core: the values, entities, contracts, ports and use cases of the truck-booking
//! backend. Nothing here knows about AWS, Kafka or HTTP: the adapters implement the ports, and the
//! functions decode their input with the contracts and drive the use cases.
//!
//! # Layout
//!
//! - [`model`]: domain values and entities (ids, places and the H3 grid, vehicles, callers,
//!   bookings, orders and their trips, devices, profiles, GPS points).
//! - [`contract`]: the event contract on Kafka (CloudEvents, both ways) and the HTTP request
//!   bodies, decoded and validated into commands.
//! - [`ports`]: what the use cases need from the outside (stores, the event bus, push), as traits.
//! - [`usecases`]: one struct per use case, grouped by the function that drives it and by aggregate.
//! - [`error`]: the use cases' errors, which the api maps to HTTP statuses in one place.
//! - `testing` (feature `testing`): in-memory ports for the use cases' unit tests only.

pub mod contract;
pub mod error;
pub mod model;
pub mod ports;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod usecases;

pub use error::{FieldProblem, ServiceError, ValidationError};
