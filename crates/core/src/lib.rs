//! Weelo's domain core: the values, entities, event contracts and use cases of the truck-booking
//! backend. Nothing here knows about AWS, Kafka or HTTP; adapters implement the traits in [`ports`]
//! and the functions drive the use cases in [`service`].

pub mod booking;
pub mod caller;
pub mod device;
pub mod error;
pub mod events;
pub mod fanout;
pub mod geo;
pub mod ids;
pub mod location;
pub mod matching;
pub mod order;
pub mod ports;
pub mod push;
pub mod requests;
pub mod service;
pub mod tracking;
pub mod transporter;
pub mod vehicle;

pub use error::{FieldProblem, ServiceError, ValidationError};
