//! The functions and their event-source mappings, as `infra/definitions/functions.json` and
//! `event-source-mappings.json` declare them for Terraform, the local function runner, the local
//! bridge and the operator tools: each function's timeout and memory; which function consumes which
//! topic, with which consumer group, batching, retries and dead-letter queue.

use serde::Deserialize;
use std::path::Path;
use std::time::Duration;

/// One entry of `functions.json`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FunctionDefinition {
    pub name: String,
    pub memory_mb: u32,
    pub timeout_seconds: u64,
}

impl FunctionDefinition {
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_seconds)
    }
}

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
    /// The timeout of the mapping's function (from `functions.json`): an invocation that has not
    /// answered by then has failed.
    #[serde(skip)]
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

#[derive(Deserialize)]
struct FunctionsFile {
    functions: Vec<FunctionDefinition>,
}

/// The functions of `<definitions>/functions.json`.
pub fn load_functions(definitions: &Path) -> Result<Vec<FunctionDefinition>, String> {
    read_json::<FunctionsFile>(&definitions.join("functions.json")).map(|f| f.functions)
}

/// The mappings of `<definitions>/event-source-mappings.json`, each with its function's timeout.
pub fn load_mappings(definitions: &Path) -> Result<Vec<Mapping>, String> {
    let functions = load_functions(definitions)?;
    let mut mappings = read_json::<MappingsFile>(&definitions.join("event-source-mappings.json"))?.mappings;
    for mapping in &mut mappings {
        let function = functions.iter().find(|f| f.name == mapping.function).ok_or_else(|| {
            format!("mapping {}/{}: no such function in functions.json", mapping.function, mapping.topic)
        })?;
        mapping.function_timeout_seconds = function.timeout_seconds;
    }
    Ok(mappings)
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}
