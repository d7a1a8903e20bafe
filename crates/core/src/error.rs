//! Errors at the domain boundary. The HTTP layer maps each variant to one status code in one place;
//! the variants carry only texts that are safe to show a client.

use std::fmt;

/// One invalid field in a request, named by its JSON path (for example `pickup.lat`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldProblem {
    pub field: String,
    pub problem: String,
}

impl FieldProblem {
    pub fn new(field: impl Into<String>, problem: impl Into<String>) -> Self {
        Self { field: field.into(), problem: problem.into() }
    }
}

/// Every problem found in a request body, so a client can fix them all at once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidationError {
    pub details: Vec<FieldProblem>,
}

impl ValidationError {
    pub fn single(field: impl Into<String>, problem: impl Into<String>) -> Self {
        Self { details: vec![FieldProblem::new(field, problem)] }
    }

    pub fn push(&mut self, field: impl Into<String>, problem: impl Into<String>) {
        self.details.push(FieldProblem::new(field, problem));
    }

    /// `Ok(value)` when no problem was recorded, so parsers can collect problems and finish with `?`.
    pub fn into_result<T>(self, value: impl FnOnce() -> T) -> Result<T, ValidationError> {
        if self.details.is_empty() { Ok(value()) } else { Err(self) }
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fields: Vec<&str> = self.details.iter().map(|d| d.field.as_str()).collect();
        write!(f, "invalid fields: {}", fields.join(", "))
    }
}

impl std::error::Error for ValidationError {}

/// The outcome of a use case that did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("{0}")]
    Validation(#[from] ValidationError),
    /// The caller's role may not use this operation.
    #[error("this operation needs the {required} role")]
    Forbidden { required: &'static str },
    /// Missing, or not visible to this caller: the two are deliberately indistinguishable.
    #[error("{what} not found")]
    NotFound { what: &'static str },
    /// The resource exists but its state forbids the operation; `current_status` tells a client
    /// where it is now (a trip step out of order, a truck taken by someone else).
    #[error("{message}")]
    Conflict { code: &'static str, message: String, current_status: Option<&'static str> },
    /// A dependency the operation cannot complete without is down; the client may retry.
    #[error("{what} is temporarily unavailable")]
    Unavailable { what: &'static str },
    /// A fault of ours. The source is logged, never sent to the client.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ServiceError {
    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        Self::Internal(error.into())
    }
}
