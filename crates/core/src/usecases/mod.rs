//! The use cases: what the functions do, over the ports.
//!
//! One shape for all of them: a struct named for what it does, owning the ports it needs (generic,
//! so the unit tests can hand it the in-memory ones of `crate::testing`), built once per cold start
//! with `new`, with one async method per operation that takes a typed command and answers a typed
//! outcome or a typed error. An operation for one role takes a [`Customer`](crate::model::caller::Customer)
//! or a [`Transporter`](crate::model::caller::Transporter), never a role check of its own.
//!
//! | use case | driven by | operations |
//! |---|---|---|
//! | [`api::Bookings`] | api | create, get, accept, arrive / pick up / deliver / release, cancel, location |
//! | [`api::Orders`] | api | create, get, accept a truck request |
//! | [`api::Devices`], [`api::Profiles`] | api | register a phone; set a transporter's profile |
//! | [`api::TrackingIngest`] | api | GPS points into `location.updated` |
//! | [`outbox_relay::OutboxRelay`] | outbox-relay (schedule) | publish what the api could not |
//! | [`fanout::Fanout`] | order-fanout | match and offer bookings and order lines, offer again or wider, withdraw offers |
//! | [`deadlines::Deadlines`] | deadline-sweeper (schedule) | open scheduled bookings, widen searches, expire bookings |
//! | [`push::Push`] | fcm-consumer | push each notification once per device; tell the customer each trip step |
//! | [`locations::LocationProcessing`] | location-consumer | positions, geo index, 7-day history |
//! | [`api::Shares`] | api | share a booking's live track, revoke the link |
//! | [`live::LiveSocket`] | live-socket (WebSocket API) | admit a shared link, connect, subscribe, unsubscribe, disconnect |
//! | [`live::LiveBroadcast`] | live-tracking | post each truck's newest point and each status change to its watchers |
//! | [`analytics::Analytics`] | analytics | count the booking funnel, delays and GPS per minute, once |

pub mod analytics;
pub mod api;
pub mod deadlines;
pub mod fanout;
pub mod live;
pub mod locations;
pub mod outbox_relay;
pub mod push;
pub mod trips;
