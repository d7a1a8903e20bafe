//! Domain values and entities: identifiers, places and the H3 grid, vehicle types, who is calling,
//! and the aggregates (bookings, orders and their truck requests, devices, transporter profiles,
//! GPS points and positions, live-tracking connections and shared links). Plain data with the rules that need no I/O.

pub mod booking;
pub mod caller;
pub mod device;
pub mod geo;
pub mod haul;
pub mod history;
pub mod ids;
pub mod live;
pub mod location;
pub mod offer;
pub mod order;
pub mod transporter;
pub mod trip;
pub mod vehicle;
