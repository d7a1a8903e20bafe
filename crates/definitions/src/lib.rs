//! The one reader of `infra/definitions/`: each function (memory, timeout), each MSK event-source
//! mapping, each topic and each table, as Terraform reads the same files. The local provisioner,
//! the local function runner and bridge, and `weelo-ops` all load them from here.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A definitions file that could not be read or does not hold what it should.
#[derive(Debug, thiserror::Error)]
pub enum DefinitionsError {
    #[error("reading {path}: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error("{path}: {reason}")]
    Invalid { path: PathBuf, reason: String },
}

/// One entry of `functions.json`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FunctionDefinition {
    pub name: String,
    pub memory_mb: u32,
    pub timeout_seconds: u64,
    /// The binary (the crate's `[[bin]]`, the zip in AWS) it runs when not its own name: the same
    /// code deployed as a second function, told apart by `environment`.
    #[serde(default)]
    pub binary: Option<String>,
    /// Variables this function is set besides those of its binary's code (Terraform merges them
    /// into the function's environment; the local runner adds them to the env file's).
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
}

impl FunctionDefinition {
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_seconds)
    }

    /// The binary the function runs: `binary`, or its own name.
    pub fn binary_name(&self) -> &str {
        self.binary.as_deref().unwrap_or(&self.name)
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
    /// The name, after the stack's prefix, of where a batch that still fails after its retries
    /// goes: an SQS queue or an S3 bucket, as [`Mapping::on_failure_kind`] says.
    pub on_failure: String,
    /// `onFailureKind` (absent: `sqs`).
    #[serde(default)]
    pub on_failure_kind: OnFailureKind,
    /// Local only: appended to the consumer group (see `weelo-local bridge --group-suffix`).
    #[serde(skip)]
    pub group_suffix: String,
    /// Local only: the bridge acts as a mapping in on-demand mode, as Terraform's small profile
    /// deploys them (`weelo-local bridge --on-demand`): no partial batch responses, no retry limit.
    #[serde(skip)]
    pub on_demand: bool,
    /// The poller group of Terraform's standard profile (`live`, `records`): its mappings share
    /// Event Poller Units, and a group never takes another's. Locally there are no pollers.
    pub poller_group: String,
}

/// The kind of a mapping's on-failure destination.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnFailureKind {
    /// An SQS queue. For a Kafka mapping AWS sends it metadata only (the failed batch's offsets per
    /// partition), so the records must be read back from Kafka within its retention.
    #[default]
    Sqs,
    /// An S3 bucket. AWS writes one object per failed batch holding the same metadata and, in
    /// `payload`, the whole invocation event: the records outlive Kafka's retention.
    S3,
}

impl Mapping {
    /// The consumer group: one per mapping, as Terraform names it.
    pub fn consumer_group(&self) -> String {
        format!("weelo-{}-{}{}", self.function, self.topic, self.group_suffix)
    }
}

/// One entry of `topics.json`: what the topic must be (`kafka-topics` makes the cluster match).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TopicDefinition {
    pub name: String,
    pub partitions: i32,
    pub retention_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyAttribute {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IndexDefinition {
    pub name: String,
    pub hash_key: KeyAttribute,
    pub range_key: Option<KeyAttribute>,
    pub projection: String,
    /// With projection `INCLUDE`: the attributes copied into the index besides the keys.
    #[serde(default)]
    pub non_key_attributes: Vec<String>,
}

/// One entry of `tables.json`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TableDefinition {
    pub name: String,
    /// The environment variable that names the physical table for the functions.
    pub env: String,
    pub hash_key: KeyAttribute,
    #[serde(default)]
    pub range_key: Option<KeyAttribute>,
    pub ttl_attribute: Option<String>,
    pub global_secondary_indexes: Vec<IndexDefinition>,
    /// Written all day at a rate that moves slowly (the GPS tables, the push log, offers):
    /// provisioned capacity with auto scaling in Terraform's standard profile, its indexes' too
    /// (locally, capacity means nothing).
    #[serde(default)]
    pub steady_load: bool,
}

#[derive(Deserialize)]
struct FunctionsFile {
    functions: Vec<FunctionDefinition>,
}

#[derive(Deserialize)]
struct MappingsFile {
    mappings: Vec<Mapping>,
}

#[derive(Deserialize)]
struct TopicsFile {
    topics: Vec<TopicDefinition>,
}

#[derive(Deserialize)]
struct TablesFile {
    tables: Vec<TableDefinition>,
}

/// The functions of `<dir>/functions.json`.
pub fn load_functions(dir: &Path) -> Result<Vec<FunctionDefinition>, DefinitionsError> {
    read::<FunctionsFile>(&dir.join("functions.json")).map(|f| f.functions)
}

/// The mappings of `<dir>/event-source-mappings.json`, each with its function's timeout.
pub fn load_mappings(dir: &Path) -> Result<Vec<Mapping>, DefinitionsError> {
    let functions = load_functions(dir)?;
    let path = dir.join("event-source-mappings.json");
    let mut mappings = read::<MappingsFile>(&path)?.mappings;
    for mapping in &mut mappings {
        let function = functions.iter().find(|f| f.name == mapping.function).ok_or_else(|| {
            let reason = format!("mapping {}/{}: no such function in functions.json", mapping.function, mapping.topic);
            DefinitionsError::Invalid { path: path.clone(), reason }
        })?;
        mapping.function_timeout_seconds = function.timeout_seconds;
    }
    Ok(mappings)
}

/// The topics of `<dir>/topics.json`.
pub fn load_topics(dir: &Path) -> Result<Vec<TopicDefinition>, DefinitionsError> {
    read::<TopicsFile>(&dir.join("topics.json")).map(|f| f.topics)
}

/// The tables of `<dir>/tables.json`.
pub fn load_tables(dir: &Path) -> Result<Vec<TableDefinition>, DefinitionsError> {
    read::<TablesFile>(&dir.join("tables.json")).map(|f| f.tables)
}

/// Every definition of `<dir>`, for a reader that needs them all (the cost model).
#[derive(Debug, Clone)]
pub struct Definitions {
    pub functions: Vec<FunctionDefinition>,
    pub mappings: Vec<Mapping>,
    pub topics: Vec<TopicDefinition>,
    pub tables: Vec<TableDefinition>,
}

impl Definitions {
    pub fn load(dir: &Path) -> Result<Self, DefinitionsError> {
        let (functions, mappings) = (load_functions(dir)?, load_mappings(dir)?);
        Ok(Self { functions, mappings, topics: load_topics(dir)?, tables: load_tables(dir)? })
    }
}

fn read<T: DeserializeOwned>(path: &Path) -> Result<T, DefinitionsError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| DefinitionsError::Read { path: path.to_owned(), reason: e.to_string() })?;
    serde_json::from_str(&text).map_err(|e| DefinitionsError::Invalid { path: path.to_owned(), reason: e.to_string() })
}

#[cfg(test)]
mod tests {
    //! Drift tests: the code and the definitions file must name the same tables and topics.
    use super::*;
    use std::collections::BTreeSet;
    use weelo_core::contract::events::Topic;
    use weelo_dynamo::Tables;

    fn dir() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../infra/definitions")
    }

    #[test]
    fn every_topic_of_the_code_is_defined_and_no_other() {
        let defined: BTreeSet<String> = load_topics(&dir()).unwrap().into_iter().map(|t| t.name).collect();
        let in_code: BTreeSet<String> = Topic::ALL.iter().map(|t| t.name().to_owned()).collect();
        assert_eq!(defined, in_code);
    }

    #[test]
    fn topics_keep_seven_days_for_replay() {
        for topic in load_topics(&dir()).unwrap() {
            assert_eq!(topic.retention_ms, 7 * 24 * 3600 * 1000, "{}", topic.name);
            assert!(topic.partitions >= 1);
        }
    }

    #[test]
    fn every_table_the_code_reads_is_defined_with_its_environment_variable() {
        let defined: BTreeSet<(String, String)> =
            load_tables(&dir()).unwrap().into_iter().map(|t| (t.env, t.name)).collect();
        let in_code: BTreeSet<(String, String)> =
            Tables::ENV.iter().map(|(e, n)| (e.to_string(), n.to_string())).collect();
        assert_eq!(defined, in_code);
    }

    #[test]
    fn the_outbox_has_the_sparse_pending_index_the_relay_queries() {
        let outbox = load_tables(&dir()).unwrap().into_iter().find(|t| t.name == "outbox").unwrap();
        let index = outbox.global_secondary_indexes.iter().find(|i| i.name == "pending").unwrap();
        assert_eq!(index.hash_key.name, "pendingShard");
        assert_eq!(index.range_key.as_ref().unwrap().name, "createdAtMs");
        assert_eq!(outbox.ttl_attribute.as_deref(), Some("expiresAt"));
    }

    #[test]
    fn every_mapping_names_a_known_topic_and_a_consumer_function() {
        let mappings = load_mappings(&dir()).unwrap();
        let functions =
            ["order-fanout", "fcm-consumer", "location-consumer", "audit-consumer", "live-tracking", "analytics"];
        for mapping in &mappings {
            assert!(Topic::from_name(&mapping.topic).is_some(), "{}", mapping.topic);
            assert!(functions.contains(&mapping.function.as_str()), "{}", mapping.function);
            assert!(mapping.batch_size >= 1 && mapping.maximum_retry_attempts >= 1);
            assert_eq!(mapping.function_timeout_seconds, 60, "{} takes functions.json's timeout", mapping.function);
        }
        for function in functions {
            assert!(mappings.iter().any(|m| m.function == function), "{function} has no mapping");
        }
    }

    #[test]
    fn audit_consumer_batches_fail_to_s3_and_the_other_consumers_to_sqs() {
        // GIVEN the mappings  WHEN their on-failure destinations are read
        let mappings = load_mappings(&dir()).unwrap();
        // THEN audit-consumer's (whose records must outlive Kafka's retention) are one S3 bucket,
        // every other consumer's its SQS queue
        for mapping in &mappings {
            let expected = if mapping.function == "audit-consumer" {
                (OnFailureKind::S3, "audit-consumer-failures".to_owned())
            } else {
                (OnFailureKind::Sqs, format!("{}-dlq", mapping.function))
            };
            assert_eq!((mapping.on_failure_kind, mapping.on_failure.clone()), expected, "{}", mapping.topic);
        }
    }

    #[test]
    fn an_absent_on_failure_kind_is_sqs_and_an_unknown_one_is_refused() {
        // GIVEN mappings without a kind, with s3, and with a kind AWS has no such destination for
        let mapping = |kind: &str| {
            format!(
                r#"{{"function": "f", "topic": "t", "batchSize": 1, "maximumBatchingWindowSeconds": 1,
                   "startingPosition": "LATEST", "maximumRetryAttempts": 1, "bisectBatchOnFunctionError": true,
                   "onFailure": "f-dlq", "pollerGroup": "g"{kind}}}"#
            )
        };
        // WHEN they are read
        let read = |kind: &str| serde_json::from_str::<Mapping>(&mapping(kind)).map(|m| m.on_failure_kind);
        // THEN absent is SQS, "s3" is S3, and anything else is an error
        assert_eq!(read("").unwrap(), OnFailureKind::Sqs);
        assert_eq!(read(r#", "onFailureKind": "s3""#).unwrap(), OnFailureKind::S3);
        assert!(read(r#", "onFailureKind": "lambda""#).is_err());
    }

    #[test]
    fn a_missing_or_broken_file_is_named_in_the_error() {
        let error = load_topics(std::path::Path::new("/nonexistent")).unwrap_err();
        assert!(error.to_string().contains("/nonexistent/topics.json"), "{error}");
    }
}
