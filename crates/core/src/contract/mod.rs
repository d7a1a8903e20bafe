//! The contracts with the outside: the events on the Kafka topics (CloudEvents, both ways) and
//! the JSON request bodies of the HTTP API, decoded and validated into the use cases' commands.

pub mod events;
pub mod requests;
