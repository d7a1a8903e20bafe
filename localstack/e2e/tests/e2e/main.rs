//! The end-to-end flows, one test binary (run by `localstack/e2e.sh`, one test at a time, as each
//! runs a bridge of its own over the shared topics):
//!
//! - [`analytics`]: an hour of bookings counted once, redelivered and replayed;
//! - [`flows`]: a booking, an order, an accept race and 10,000 GPS points, over HTTP end to end;
//! - [`faults`]: the bridge killed, the broker restarted, answers lost, poison records, a redeploy,
//!   a disabled phone;
//! - [`tracking`]: GPS under DynamoDB throttling and an outage;
//! - [`live`]: live tracking over WebSockets: in order, refused to others, a gone connection,
//!   the consumer killed, a shared link in headless Chromium;
//! - [`local_run`]: the local runs themselves: `make run` after a backlog, a function process
//!   killed, an invocation past its timeout;
//! - [`operations`]: `weelo-ops` against the running system;
//! - [`order_trips`]: orders through their trucks' trips: cancelled, completed, a line expiring;
//! - [`trips`]: the trip lifecycle: expiry, every step, withdrawals, release, busy transporters,
//!   a cancel racing a pickup, scheduled bookings, the deadline sweeper down and doubled.

mod analytics;
mod faults;
mod flows;
mod live;
mod local_run;
mod operations;
mod order_trips;
mod tracking;
mod trips;
