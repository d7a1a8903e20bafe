//! `weelo-bench`: the figures of `docs/BENCHMARKS.md`, measured on the real handlers (in-process,
//! as the integration tests run them) against the native local stack. A benchmark, not a test:
//! nothing here passes or fails on a timing.

pub mod baseline;
pub mod coldstart;
pub mod costs;
pub mod counts;
pub mod figures;
pub mod kept;
pub mod live;
pub mod prices;
pub mod profile;
pub mod remote;
pub mod report;
pub mod stats;
pub mod trip_figure;
pub mod world;
