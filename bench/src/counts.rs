//! What AWS would bill for an operation, counted on the emulators instead of assumed: the
//! requests of each kind that moto served, and the DynamoDB write and read units they would
//! cost (`GET /_weelo/requests` of `localstack/moto_serialized.py`, units by
//! `localstack/moto_units.py`), and the bytes each Kafka topic grew by (the sizes of the local
//! broker's log segments, `KAFKA_LOG_DIR`).

use crate::costs::counted::TableUnits;
use serde_json::Value;
use std::collections::BTreeMap;
use std::ops::AddAssign;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The two moto servers: DynamoDB's, and the one for SNS, SQS and S3; and the broker's log.
pub struct Emulators {
    urls: [String; 2],
    http: reqwest::Client,
    kafka_log: PathBuf,
    /// Each topic's bytes at [`Emulators::start`].
    kafka_at_start: Mutex<BTreeMap<String, u64>>,
    /// `tables.json`'s name of each physical table (`<prefix><name>`, from its environment variable).
    table_names: BTreeMap<String, String>,
}

/// Requests of one operation (`PutItem`, `Publish`, …) and what they bill.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct OperationCount {
    pub count: u64,
    pub write_units: f64,
    pub read_units: f64,
}

/// Everything the emulators served between [`Emulators::start`] and [`Emulators::read`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    pub operations: BTreeMap<String, OperationCount>,
    /// Bytes appended to each Kafka topic (records with their batch headers, as stored).
    pub kafka_bytes: BTreeMap<String, u64>,
    /// The DynamoDB units billed on each table, by its name in `tables.json` once read by
    /// [`Emulators::read`] (its physical name as the emulator answers).
    pub tables: BTreeMap<String, TableUnits>,
}

impl Emulators {
    /// The emulators of the environment (`AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL`).
    pub fn from_env() -> anyhow::Result<Self> {
        let url = |name: &str| std::env::var(name).map_err(|_| anyhow::anyhow!("{name} is not set"));
        let definitions = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../infra/definitions");
        let table_names = weelo_definitions::load_tables(&definitions)?
            .into_iter()
            .map(|table| Ok((url(&table.env)?, table.name)))
            .collect::<anyhow::Result<_>>()?;
        Ok(Self {
            urls: [url("AWS_ENDPOINT_URL_DYNAMODB")?, url("AWS_ENDPOINT_URL")?],
            http: reqwest::Client::new(),
            kafka_log: url("KAFKA_LOG_DIR")?.into(),
            kafka_at_start: Mutex::default(),
            table_names,
        })
    }

    /// Clears the counts and counts units from now on.
    pub async fn start(&self) -> anyhow::Result<()> {
        for url in &self.urls {
            let requests = format!("{url}/_weelo/requests");
            self.http.delete(&requests).send().await?.error_for_status()?;
            let units = serde_json::json!({"units": true});
            self.http.post(&requests).json(&units).send().await?.error_for_status()?;
        }
        *self.kafka_at_start.lock().expect("not poisoned") = topic_bytes(&self.kafka_log)?;
        Ok(())
    }

    /// What both served since [`Emulators::start`].
    pub async fn read(&self) -> anyhow::Result<Tally> {
        let mut tally = Tally::default();
        for url in &self.urls {
            let counts: Value = self.http.get(format!("{url}/_weelo/requests")).send().await?.json().await?;
            tally += Tally::parse(&counts)?;
        }
        let at_start = self.kafka_at_start.lock().expect("not poisoned").clone();
        tally.kafka_bytes = grown(&at_start, &topic_bytes(&self.kafka_log)?);
        tally.tables = std::mem::take(&mut tally.tables)
            .into_iter()
            .map(|(physical, units)| (self.table_names.get(&physical).cloned().unwrap_or(physical), units))
            .collect();
        Ok(tally)
    }
}

/// The bytes of each topic's log segments (`<topic>-<partition>/*.log`) under the broker's `dir`.
fn topic_bytes(dir: &Path) -> anyhow::Result<BTreeMap<String, u64>> {
    let mut bytes = BTreeMap::new();
    let entries = std::fs::read_dir(dir).map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some((topic, partition)) = name.rsplit_once('-') else { continue };
        if topic.starts_with("__") || partition.parse::<u32>().is_err() || !entry.file_type()?.is_dir() {
            continue;
        }
        for segment in std::fs::read_dir(entry.path())? {
            let segment = segment?;
            if segment.path().extension().is_some_and(|e| e == "log") {
                *bytes.entry(topic.to_owned()).or_default() += segment.metadata()?.len();
            }
        }
    }
    Ok(bytes)
}

/// What each topic grew by from `before` to `after` (topics that did not grow are left out).
fn grown(before: &BTreeMap<String, u64>, after: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    after
        .iter()
        .map(|(topic, now)| (topic.clone(), now.saturating_sub(before.get(topic).copied().unwrap_or_default())))
        .filter(|(_, grew)| *grew > 0)
        .collect()
}

impl Tally {
    fn parse(counts: &Value) -> anyhow::Result<Self> {
        let operations = counts.as_object().ok_or_else(|| anyhow::anyhow!("request counts: not an object"))?;
        let number = |served: &Value, field: &str| served[field].as_f64().unwrap_or_default();
        let mut tables: BTreeMap<String, TableUnits> = BTreeMap::new();
        for served in operations.values() {
            for (table, units) in served["tables"].as_object().into_iter().flatten() {
                *tables.entry(table.clone()).or_default() +=
                    TableUnits { write_units: number(units, "writeUnits"), read_units: number(units, "readUnits") };
            }
        }
        let operations = operations
            .iter()
            .map(|(operation, served)| {
                let counted = OperationCount {
                    count: served["count"].as_u64().unwrap_or_default(),
                    write_units: number(served, "writeUnits"),
                    read_units: number(served, "readUnits"),
                };
                (operation.clone(), counted)
            })
            .collect();
        Ok(Self { operations, kafka_bytes: BTreeMap::new(), tables })
    }

    pub fn write_units(&self) -> f64 {
        self.operations.values().map(|s| s.write_units).sum()
    }

    pub fn read_units(&self) -> f64 {
        self.operations.values().map(|s| s.read_units).sum()
    }

    /// Requests of `operation` (e.g. `Publish`: SNS publishes, one per push).
    pub fn count(&self, operation: &str) -> u64 {
        self.operations.get(operation).map_or(0, |s| s.count)
    }

    /// DynamoDB requests of every kind (`PutItem`, `Query`, …; their target names).
    pub fn dynamodb_calls(&self) -> u64 {
        self.operations.iter().filter(|(_, s)| s.write_units > 0.0 || s.read_units > 0.0).map(|(_, s)| s.count).sum()
    }

    /// `calls × operation` for each operation, e.g. `500 PutItem, 20 BatchWriteItem`, per `per`.
    pub fn calls_per(&self, per: f64) -> String {
        let parts: Vec<String> =
            self.operations.iter().map(|(operation, s)| format!("{:.2} {operation}", s.count as f64 / per)).collect();
        parts.join(", ")
    }
}

impl AddAssign for Tally {
    fn add_assign(&mut self, other: Tally) {
        for (operation, served) in other.operations {
            let mine = self.operations.entry(operation).or_default();
            mine.count += served.count;
            mine.write_units += served.write_units;
            mine.read_units += served.read_units;
        }
        for (topic, bytes) in other.kafka_bytes {
            *self.kafka_bytes.entry(topic).or_default() += bytes;
        }
        for (table, units) in other.tables {
            *self.tables.entry(table).or_default() += units;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_of_both_emulators_add_up_per_operation() {
        let dynamodb = serde_json::json!({"PutItem": {"count": 3, "writeUnits": 4, "readUnits": 0,
                "tables": {"offers": {"writeUnits": 3, "readUnits": 0}, "push-log": {"writeUnits": 1, "readUnits": 0}}},
            "Query": {"count": 2, "writeUnits": 0, "readUnits": 1.5,
                "tables": {"offers": {"writeUnits": 0, "readUnits": 1.5}}}});
        let others = serde_json::json!({"Publish": {"count": 5, "writeUnits": 0, "readUnits": 0},
            "PutItem": {"count": 1, "writeUnits": 1, "readUnits": 0}});
        let mut tally = Tally::parse(&dynamodb).unwrap();
        tally += Tally::parse(&others).unwrap();
        assert_eq!((tally.count("PutItem"), tally.count("Publish"), tally.count("GetItem")), (4, 5, 0));
        assert_eq!((tally.write_units(), tally.read_units()), (5.0, 1.5));
        assert_eq!(tally.dynamodb_calls(), 6);
        assert_eq!(tally.calls_per(1.0), "5.00 Publish, 4.00 PutItem, 2.00 Query");
        // AND each table's units add up over the operations that touched it
        let units = |write_units, read_units| TableUnits { write_units, read_units };
        assert_eq!(
            tally.tables,
            BTreeMap::from([("offers".to_owned(), units(3.0, 1.5)), ("push-log".to_owned(), units(1.0, 0.0))])
        );
    }

    #[test]
    fn a_topic_counts_the_bytes_its_segments_grew_by_and_internal_topics_are_left_out() {
        // GIVEN a broker log with two partitions of one topic, an internal topic and an index file
        let dir = std::env::temp_dir().join(weelo_testkit::unique("bench-kafka-log"));
        let write = |path: &str, bytes: usize| {
            let path = dir.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, vec![0u8; bytes]).unwrap();
        };
        write("location.updated-0/00000000000000000000.log", 100);
        write("location.updated-1/00000000000000000000.log", 50);
        write("location.updated-1/00000000000000000000.index", 4096);
        write("__consumer_offsets-3/00000000000000000000.log", 70);
        let before = topic_bytes(&dir).unwrap();
        // WHEN one partition grows and a new segment is rolled in the other
        write("location.updated-0/00000000000000000000.log", 130);
        write("location.updated-1/00000000000000000200.log", 20);
        let after = topic_bytes(&dir).unwrap();
        // THEN the topic grew by the new bytes, whatever partition or segment took them
        assert_eq!(before, BTreeMap::from([("location.updated".to_owned(), 150)]));
        assert_eq!(grown(&before, &after), BTreeMap::from([("location.updated".to_owned(), 50)]));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
