//! The contracts with the outside: the events on the Kafka topics (CloudEvents, both ways) and
//! the JSON request bodies of the HTTP API, decoded and validated into the use cases' commands;
//! and the query strings of the list routes; the cursors those lists hand out; the catalogue
//! of push notifications the phones receive; and the live-tracking WebSocket (its messages and the
//! shared links' tokens).

pub mod cursor;
pub mod events;
pub mod live;
pub mod locations;
pub mod pushes;
pub mod requests;
