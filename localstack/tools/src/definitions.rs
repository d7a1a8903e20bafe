//! The shared resource definitions in `infra/definitions/`: the one source for the local
//! provisioner and for Terraform.

use serde::Deserialize;
use std::path::Path;
use weelo_kafka::TopicSpec;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyAttribute {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IndexDefinition {
    pub name: String,
    pub hash_key: KeyAttribute,
    pub range_key: Option<KeyAttribute>,
    pub projection: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TableDefinition {
    pub name: String,
    pub env: String,
    pub hash_key: KeyAttribute,
    #[serde(default)]
    pub range_key: Option<KeyAttribute>,
    pub ttl_attribute: Option<String>,
    pub global_secondary_indexes: Vec<IndexDefinition>,
}

#[derive(Debug, Deserialize)]
struct TablesFile {
    tables: Vec<TableDefinition>,
}

#[derive(Debug, Deserialize)]
struct TopicsFile {
    topics: Vec<TopicSpec>,
}

pub fn load_tables(dir: &Path) -> anyhow::Result<Vec<TableDefinition>> {
    let text = std::fs::read_to_string(dir.join("tables.json"))?;
    Ok(serde_json::from_str::<TablesFile>(&text)?.tables)
}

pub fn load_topics(dir: &Path) -> anyhow::Result<Vec<TopicSpec>> {
    let text = std::fs::read_to_string(dir.join("topics.json"))?;
    Ok(serde_json::from_str::<TopicsFile>(&text)?.topics)
}

#[cfg(test)]
mod tests {
    //! Drift tests: the code and the definitions file must name the same tables and topics.
    use super::*;
    use std::collections::BTreeSet;
    use weelo_core::events::Topic;
    use weelo_dynamo::Tables;

    fn dir() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../infra/definitions")
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
}
