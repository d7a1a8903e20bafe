//! Unit tests of the use cases over the in-memory ports (`weelo_core::testing`): the rules each
//! use case owns, in milliseconds and with no stack. Every adapter and flow is tested against the
//! real local stack elsewhere; these never stand in for those tests.

mod analytics;
mod bookings;
mod deadlines;
mod fanout;
mod inbox;
mod lists;
mod locations;
mod offers;
mod order_trips;
mod orders;
mod push;
mod support;
mod tracks;
mod trips;
mod trips_list;
mod world;
