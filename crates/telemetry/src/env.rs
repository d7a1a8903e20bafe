//! A choice one environment variable makes for the runtime (how a consumer reports failed
//! records, when metrics are written): unset means the default, and a value that names no choice
//! is refused with one error that names the variable, the value and what it must be.

use std::str::FromStr;

/// A value of an environment variable that names no choice.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("environment variable {var} is invalid: {value:?} {expected}")]
pub struct InvalidVar {
    pub var: &'static str,
    pub value: String,
    /// What a value must be, as the end of the sentence: `is neither "a" nor "b"`.
    pub expected: &'static str,
}

/// Environment variable `var` parsed as a `T`, `T::default()` when it is unset. A value that is
/// not Unicode does not parse either: it is refused with its lossy text.
pub fn var_or_default<T: FromStr + Default>(var: &str) -> Result<T, T::Err> {
    std::env::var_os(var).map_or(Ok(T::default()), |text| text.to_string_lossy().parse())
}
