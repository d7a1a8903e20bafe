//! The event-source mappings, as `infra/definitions/event-source-mappings.json` declares them for
//! Terraform, the local bridge and the operator tools: which function consumes which topic, with
//! which consumer group, batching, retries and dead-letter queue.

use serde::Deserialize;
use std::path::Path;

/// One entry of `event-source-mappings.json` (the fields the local bridge and `weelo-ops` use).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Mapping {
    pub function: String,
    pub topic: String,
    pub batch_size: usize,
    pub maximum_batching_window_seconds: u64,
    pub starting_position: String,
    pub maximum_retry_attempts: u32,
    pub bisect_batch_on_function_error: bool,
    pub function_timeout_seconds: u64,
    pub on_failure: String,
    /// Local only: appended to the consumer group (see `weelo-local bridge --group-suffix`).
    #[serde(skip)]
    pub group_suffix: String,
}

impl Mapping {
    /// The consumer group: one per mapping, as Terraform names it.
    pub fn consumer_group(&self) -> String {
        format!("weelo-{}-{}{}", self.function, self.topic, self.group_suffix)
    }
}

#[derive(Deserialize)]
struct MappingsFile {
    mappings: Vec<Mapping>,
}

/// The mappings of `<definitions>/event-source-mappings.json`.
pub fn load_mappings(definitions: &Path) -> Result<Vec<Mapping>, String> {
    let path = definitions.join("event-source-mappings.json");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    serde_json::from_str::<MappingsFile>(&text).map(|f| f.mappings).map_err(|e| format!("{}: {e}", path.display()))
}
