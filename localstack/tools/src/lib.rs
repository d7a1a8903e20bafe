//! The native local stack's helper as a library: the binary `weelo-local` wraps it in a CLI, and the
//! end-to-end tests run the MSK bridge in-process (with fault-injecting invokers) from it.

pub mod bridge;
pub mod definitions;
pub mod provision;
