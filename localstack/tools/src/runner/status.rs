//! What `GET /_weelo/status` answers: each function's processes and the outcomes of its
//! invocations, and the warnings and errors logged since a given sequence number.

use super::Notable;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::time::SystemTime;

/// How many recent outcomes each function remembers.
const RECENT: usize = 10;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Failure {
    pub error_type: String,
    /// Milliseconds since the epoch.
    pub at_ms: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    /// Invocations, and how they ended.
    pub invocations: u64,
    pub succeeded: u64,
    /// Every failed invocation: the function's errors, timeouts and exits.
    pub failed: u64,
    pub timeouts: u64,
    /// Processes started, and those that exited on their own (a crash), not ended by the service.
    pub starts: u64,
    pub exits: u64,
    /// The latest failure.
    pub last_failure: Option<Failure>,
    /// The last outcomes, oldest first: `true` for a success.
    pub recent: VecDeque<bool>,
}

impl Stats {
    /// One invocation's outcome: a success, or a failure of this `errorType`.
    pub fn record(&mut self, failure: Option<&str>) {
        let ok = failure.is_none();
        if ok {
            self.succeeded += 1;
        } else {
            self.failed += 1;
        }
        if let Some(error_type) = failure {
            self.last_failure = Some(Failure { error_type: error_type.to_owned(), at_ms: now_ms() });
        }
        self.recent.push_back(ok);
        if self.recent.len() > RECENT {
            self.recent.pop_front();
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InstanceStatus {
    pub id: u32,
    pub pid: u32,
    pub busy: bool,
    pub up_seconds: f64,
    pub invocations: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FunctionStatus {
    pub name: String,
    pub timeout_seconds: f64,
    pub concurrency: usize,
    pub queued: usize,
    pub instances: Vec<InstanceStatus>,
    #[serde(flatten)]
    pub stats: Stats,
}

impl FunctionStatus {
    /// Failing: its latest invocation, within the last `window_ms`, failed.
    pub fn failing(&self, now_ms: u64, window_ms: u64) -> bool {
        let latest_failed = self.stats.recent.back() == Some(&false);
        let recent = self.stats.last_failure.as_ref().is_some_and(|f| now_ms.saturating_sub(f.at_ms) <= window_ms);
        latest_failed && recent
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceStatus {
    pub functions: Vec<FunctionStatus>,
    /// Warnings and errors after the `since` of the request, oldest first.
    pub notable: Vec<Notable>,
}

pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default().as_millis() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_function_is_failing_while_its_latest_recent_invocation_failed() {
        // GIVEN a function whose last invocation failed
        let mut stats = Stats::default();
        stats.record(None);
        stats.record(Some("Sandbox.Timedout"));
        let status = FunctionStatus {
            name: "f".into(),
            timeout_seconds: 1.0,
            concurrency: 1,
            queued: 0,
            instances: vec![],
            stats: stats.clone(),
        };
        // THEN it is failing now, not a minute later
        let at = stats.last_failure.as_ref().unwrap().at_ms;
        assert!(status.failing(at + 1_000, 60_000));
        assert!(!status.failing(at + 61_000, 60_000));
        // AND a success after it clears it
        let mut recovered = status.clone();
        recovered.stats.record(None);
        assert!(!recovered.failing(at + 1_000, 60_000));
        assert_eq!((recovered.stats.failed, recovered.stats.succeeded), (1, 2));
    }
}
