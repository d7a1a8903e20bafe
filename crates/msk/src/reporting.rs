//! How a consumer tells its event-source mapping that records failed: the one choice that must
//! match the mapping's mode (`infra/terraform/esm.tf` sets both from the deployment profile).
//!
//! - A mapping in **provisioned mode** reads a partial batch response (`ReportBatchItemFailures`):
//!   it delivers again from the failed record, up to its retry limit, then sends the record's
//!   coordinates to its on-failure destination.
//! - A mapping in **on-demand mode** has no partial batch responses and no retry limit: it reads
//!   any answer as success, and a function error as "deliver the whole batch again", until the
//!   records expire from the topic. A consumer behind it must answer a failed record with an
//!   error, or the record would count as consumed and be lost. Its redelivery brings back the
//!   records before the failed one, and those of the other partitions in the batch, too; every
//!   consumer is idempotent, so they change nothing the second time. A record that always fails
//!   holds back its partition (and those delivered with it) until it is fixed or skipped
//!   (`docs/operations.md`, "A partition that does not move").

use crate::batch::BatchResponse;
use std::future::Future;
use std::ops::Deref;
use std::str::FromStr;
use weelo_telemetry::env::{InvalidVar, var_or_default};

/// The variable that chooses the [`FailureReporting`].
pub const FAILURE_REPORTING_VAR: &str = "KAFKA_FAILURE_REPORTING";

/// How failed records are reported to the mapping: `partial-batch` (the default, for a mapping in
/// provisioned mode) or `function-error` (for a mapping in on-demand mode).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FailureReporting {
    #[default]
    PartialBatch,
    FunctionError,
}

/// A batch with failed records, answered as a function error (on-demand mappings).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{failed} partition(s) failed, the first {partition} at offset {offset}: the mapping delivers the batch again")]
pub struct BatchFailed {
    pub failed: usize,
    pub partition: String,
    pub offset: i64,
}

impl FromStr for FailureReporting {
    type Err = InvalidVar;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim() {
            "partial-batch" => Ok(Self::PartialBatch),
            "function-error" => Ok(Self::FunctionError),
            other => Err(InvalidVar {
                var: FAILURE_REPORTING_VAR,
                value: other.to_owned(),
                expected: r#"is neither "partial-batch" nor "function-error""#,
            }),
        }
    }
}

impl FailureReporting {
    /// Read once from [`FAILURE_REPORTING_VAR`]; unset means [`FailureReporting::PartialBatch`].
    pub fn from_env() -> Result<Self, InvalidVar> {
        // Spelt out, not FAILURE_REPORTING_VAR: infra/checks/test_drift.py finds the variables a
        // function reads by their literal names.
        var_or_default("KAFKA_FAILURE_REPORTING")
    }

    /// The answer for a handled batch: its partial batch response, or, reporting by function
    /// error, an empty response when nothing failed and [`BatchFailed`] when something did.
    pub fn settle(self, response: BatchResponse) -> Result<BatchResponse, BatchFailed> {
        match (self, response.batch_item_failures.first()) {
            (Self::FunctionError, Some(first)) => Err(BatchFailed {
                failed: response.batch_item_failures.len(),
                partition: first.item_identifier.partition.clone(),
                offset: first.item_identifier.offset,
            }),
            _ => Ok(response),
        }
    }
}

/// A consumer as its Lambda runs it: its use case, and how the use case's failed records are
/// reported to the mapping. It derefs to the use case, so the function's handler (and a test)
/// calls the use case's methods on it directly.
#[derive(Debug, Clone)]
pub struct Consumer<T> {
    use_case: T,
    reporting: FailureReporting,
}

impl<T> Consumer<T> {
    pub fn new(use_case: T, reporting: FailureReporting) -> Self {
        Self { use_case, reporting }
    }

    /// The answer to the Lambda runtime for a batch handled by `handled`: [`FailureReporting::settle`].
    pub async fn answer(&self, handled: impl Future<Output = BatchResponse>) -> Result<BatchResponse, BatchFailed> {
        self.reporting.settle(handled.await)
    }
}

impl<T> Deref for Consumer<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.use_case
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed_at(partition: &str, offset: i64) -> BatchResponse {
        let mut response = BatchResponse::default();
        response.fail(partition, offset);
        response
    }

    #[test]
    fn reporting_is_read_from_its_two_names_and_refuses_any_other() {
        assert_eq!("partial-batch".parse(), Ok(FailureReporting::PartialBatch));
        assert_eq!(" function-error ".parse(), Ok(FailureReporting::FunctionError));
        let refused = "whole".parse::<FailureReporting>().unwrap_err();
        assert_eq!((refused.var, refused.value.as_str()), (FAILURE_REPORTING_VAR, "whole"));
    }

    #[test]
    fn a_partial_batch_answer_passes_the_failures_on_to_the_mapping() {
        // GIVEN a batch whose partition t-0 failed at offset 7
        let response = failed_at("t-0", 7);
        // WHEN it is settled for a mapping in provisioned mode
        // THEN the partial batch response goes out as it is
        assert_eq!(FailureReporting::PartialBatch.settle(response.clone()), Ok(response));
    }

    #[test]
    fn a_failed_record_becomes_a_function_error_for_an_on_demand_mapping() {
        // GIVEN a batch whose partitions t-0 and t-1 failed
        let mut response = failed_at("t-0", 7);
        response.fail("t-1", 3);
        // WHEN it is settled for a mapping in on-demand mode
        let answer = FailureReporting::FunctionError.settle(response);
        // THEN the answer is an error, which makes the mapping deliver the whole batch again
        assert_eq!(answer, Err(BatchFailed { failed: 2, partition: "t-0".into(), offset: 7 }));
        // AND a batch with no failure is an empty success either way
        assert_eq!(FailureReporting::FunctionError.settle(BatchResponse::default()), Ok(BatchResponse::default()));
    }

    #[tokio::test]
    async fn a_consumer_answers_its_batches_as_its_reporting_says_and_reaches_its_use_case() {
        // GIVEN the same use case behind a provisioned and an on-demand mapping
        let provisioned = Consumer::new("fan-out", FailureReporting::PartialBatch);
        let on_demand = Consumer::new("fan-out", FailureReporting::FunctionError);
        // WHEN each answers a batch whose partition t-0 failed at offset 7
        let partial = provisioned.answer(async { failed_at("t-0", 7) }).await;
        let error = on_demand.answer(async { failed_at("t-0", 7) }).await;
        // THEN the first passes the failure on, the second makes it a function error
        assert_eq!(partial, Ok(failed_at("t-0", 7)));
        assert_eq!(error, Err(BatchFailed { failed: 1, partition: "t-0".into(), offset: 7 }));
        // AND both reach their use case
        assert_eq!((*provisioned, *on_demand), ("fan-out", "fan-out"));
    }
}
