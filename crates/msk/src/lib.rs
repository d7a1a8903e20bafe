//! The MSK event-source-mapping contract of the consumer functions, both ways, in one place.
//!
//! # Layout
//! - [`ConsumedRecord`]: one Kafka record as a consumer sees it, however it arrived.
//! - [`decode`] / [`encode`]: an `aws:kafka` event into records by partition, and records into one.
//! - [`BatchResponse`], [`for_each_record`], [`for_each_partition`]: partial batch responses, and
//!   the processor that runs a consumer's function per record or per partition and collects the
//!   failures.

mod batch;
mod event;
mod record;

pub use batch::{
    BatchItemFailure, BatchResponse, ItemIdentifier, PartitionFailure, for_each_partition, for_each_record,
};
pub use event::{decode, encode};
pub use record::ConsumedRecord;
