//! The native local stack's helper as a library: the binary `weelo-local` wraps it in a CLI, and the
//! end-to-end tests run the MSK bridge in-process (with fault-injecting invokers) from it.
//!
//! # Layout
//! - [`provision`]: tables, topics, on-failure queues and buckets, the audit bucket and the SNS
//!   application from `infra/definitions/`.
//! - [`runner`]: the local Lambda service (`weelo-local functions`): Invoke API, function URLs,
//!   the Runtime API of the function processes, timeouts and restarts as Lambda does them.
//! - [`bridge`]: the local MSK event-source mappings (`weelo-local bridge`).
//! - [`monitor`]: the status lines `make run` shows (`weelo-local status`).
//! - [`dev_tokens`]: tokens signed with the local key (`weelo-local token`, the tests, the benchmark).

pub mod bridge;
pub mod dev_tokens;
pub mod monitor;
pub mod provision;
pub mod runner;
