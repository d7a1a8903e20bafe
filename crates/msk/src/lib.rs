//! The MSK event-source-mapping contract of the consumer functions, both ways, in one place.
//!
//! # Layout
//! - [`ConsumedRecord`]: one Kafka record as a consumer sees it, however it arrived.
//! - [`decode`] / [`encode`]: an `aws:kafka` event into records by partition, and records into one.
//! - [`BatchResponse`], [`for_each_record`], [`for_each_partition`]: partial batch responses, and
//!   the processor that runs a consumer's function per record or per partition and collects the
//!   failures.
//! - [`FailureReporting`]: how those failures reach the mapping: a partial batch response
//!   (provisioned mode) or a function error (on-demand mode), read once from
//!   `KAFKA_FAILURE_REPORTING`; [`Consumer`]: a consumer's use case with its reporting, as its
//!   Lambda runs it.
//! - [`DeadLetter`]: a record set aside into an SQS queue, as the local bridge and `weelo-ops skip`
//!   write it and `weelo-ops redrive` reads it.

mod batch;
mod dead_letter;
mod event;
mod record;
mod reporting;

pub use batch::{
    BatchItemFailure, BatchResponse, ItemIdentifier, PartitionFailure, for_each_partition, for_each_record,
};
pub use dead_letter::{DeadLetter, MAX_ERROR_BYTES, RecordAt, SQS_MAX_MESSAGE_BYTES};
pub use event::{decode, encode};
pub use record::{ConsumedRecord, RecordId};
pub use reporting::{BatchFailed, Consumer, FAILURE_REPORTING_VAR, FailureReporting};
