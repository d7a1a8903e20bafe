//! The api's integration tests, one binary: the real application in-process against the local
//! stack (see `support`).

mod authorization;
mod bookings;
mod devices_profiles_tracking;
mod http_errors;
mod inbox;
mod lists;
mod openapi;
mod orders;
mod support;
mod tracks;
mod trips_list;
