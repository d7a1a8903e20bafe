//! DynamoDB adapter: implements the core's storage ports on the tables defined in
//! `infra/definitions/tables.json`. Every state change goes through one `TransactWriteItems` call
//! that also writes the change's events into the outbox table.
//!
//! # Layout
//! One module per port of `weelo_core::ports`: `bookings`, `orders`, `offers`, `transporters` (with
//! the geo index), `history`, `devices`, `outbox`, `idempotency`, `push_log`, `live` (live tracking's connections and shared links), `progress` (analytics'
//! counted-once marks). `items` lays each
//! value out in its table; `requests` holds what they all do (reads, queries, concurrent and batch
//! writes, conditional writes, the create and transition transactions, error classification);
//! `pages` reads a list a page at a time from an index, with the position the next page starts at.

mod bookings;
mod devices;
mod history;
mod idempotency;
mod items;
mod live;
mod offers;
mod orders;
mod outbox;
mod pages;
mod progress;
mod push_log;
mod requests;
mod transporters;
mod trips;

use aws_sdk_dynamodb::Client;

use std::env;

/// Physical table names, one per entry of `infra/definitions/tables.json`, from the environment
/// variables named there (`TABLE_BOOKINGS`, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tables {
    pub bookings: String,
    pub orders: String,
    pub offers: String,
    pub transporters: String,
    pub positions: String,
    pub devices: String,
    pub idempotency: String,
    pub outbox: String,
    pub geo_cells: String,
    pub location_history: String,
    pub push_log: String,
    pub live_connections: String,
    pub shares: String,
    pub analytics_progress: String,
}

#[derive(Debug, thiserror::Error)]
#[error("environment variable {0} is not set")]
pub struct MissingTable(pub &'static str);

impl Tables {
    /// `(environment variable, logical name)` of every table, as in the definitions file.
    pub const ENV: [(&'static str, &'static str); 14] = [
        ("TABLE_BOOKINGS", "bookings"),
        ("TABLE_ORDERS", "orders"),
        ("TABLE_OFFERS", "offers"),
        ("TABLE_TRANSPORTERS", "transporters"),
        ("TABLE_POSITIONS", "positions"),
        ("TABLE_DEVICES", "devices"),
        ("TABLE_IDEMPOTENCY", "idempotency"),
        ("TABLE_OUTBOX", "outbox"),
        ("TABLE_GEO_CELLS", "geo-cells"),
        ("TABLE_LOCATION_HISTORY", "location-history"),
        ("TABLE_PUSH_LOG", "push-log"),
        ("TABLE_LIVE_CONNECTIONS", "live-connections"),
        ("TABLE_SHARES", "shares"),
        ("TABLE_ANALYTICS_PROGRESS", "analytics-progress"),
    ];

    pub fn from_env() -> Result<Self, MissingTable> {
        let var = |name: &'static str| env::var(name).map_err(|_| MissingTable(name));
        Ok(Self {
            bookings: var("TABLE_BOOKINGS")?,
            orders: var("TABLE_ORDERS")?,
            offers: var("TABLE_OFFERS")?,
            transporters: var("TABLE_TRANSPORTERS")?,
            positions: var("TABLE_POSITIONS")?,
            devices: var("TABLE_DEVICES")?,
            idempotency: var("TABLE_IDEMPOTENCY")?,
            outbox: var("TABLE_OUTBOX")?,
            geo_cells: var("TABLE_GEO_CELLS")?,
            location_history: var("TABLE_LOCATION_HISTORY")?,
            push_log: var("TABLE_PUSH_LOG")?,
            live_connections: var("TABLE_LIVE_CONNECTIONS")?,
            shares: var("TABLE_SHARES")?,
            analytics_progress: var("TABLE_ANALYTICS_PROGRESS")?,
        })
    }
}

/// How long an idempotency key is remembered (the TTL attribute deletes it afterwards).
pub const IDEMPOTENCY_TTL_SECS: i64 = 24 * 3600;
/// How long a sent outbox event is kept for audit before its TTL expires (the Kafka retention).
pub const OUTBOX_TTL_SECS: i64 = 7 * 24 * 3600;
/// How long an offer is kept; bookings are decided long before.
pub const OFFER_TTL_SECS: i64 = 30 * 24 * 3600;
/// Geo-index entries expire a day after their point.
pub const GEO_ENTRY_TTL_SECS: i64 = 24 * 3600;
/// GPS history is kept 7 days.
pub const HISTORY_TTL_SECS: i64 = weelo_core::model::location::HISTORY_RETENTION_DAYS * 24 * 3600;
/// Push-log entries outlive any redelivery of a notification (Kafka keeps 7 days).
pub const PUSH_LOG_TTL_SECS: i64 = 8 * 24 * 3600;
/// Shards of the sparse `pending` index of the outbox (see tables.json).
pub const OUTBOX_PENDING_SHARDS: u128 = 8;
/// Shards of the sparse `deadlines` index of the bookings (see tables.json).
pub const DUE_SHARDS: u128 = 4;

/// All of Weelo's tables behind one client (built once per cold start and cloned freely).
#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: Client,
    tables: Tables,
}

impl DynamoStore {
    pub fn new(client: Client, tables: Tables) -> Self {
        Self { client, tables }
    }

    /// A store on `tables` with a client from `aws`.
    pub fn from_config(aws: &aws_config::SdkConfig, tables: Tables) -> Self {
        Self::new(Client::new(aws), tables)
    }

    /// A store on the tables named by the environment, with a client from `aws`.
    pub fn from_env(aws: &aws_config::SdkConfig) -> Result<Self, MissingTable> {
        Ok(Self::from_config(aws, Tables::from_env()?))
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn tables(&self) -> &Tables {
        &self.tables
    }
}

/// What every function that works on the tables reads first: the SDK's timeouts
/// (`SDK_ATTEMPT_TIMEOUT_MS`, `SDK_OPERATION_TIMEOUT_MS`) and the tables' names (`TABLE_*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreSettings {
    pub sdk: weelo_aws::Timeouts,
    pub tables: Tables,
}

impl StoreSettings {
    pub fn from_env() -> anyhow::Result<Self> {
        Ok(Self { sdk: weelo_aws::Timeouts::from_env()?, tables: Tables::from_env()? })
    }

    /// The AWS configuration (for the function's other clients) and a store on the tables, built
    /// once at a cold start.
    pub async fn connect(&self) -> (aws_config::SdkConfig, DynamoStore) {
        let aws = weelo_aws::sdk_config(self.sdk).await;
        let store = DynamoStore::from_config(&aws, self.tables.clone());
        (aws, store)
    }
}

/// What index `index` of table `table` holds of an item, per `infra/definitions/tables.json`: its
/// projected attributes and the table's and the index's keys. For the tests that keep each index
/// projecting what its reader reads.
#[cfg(test)]
pub(crate) fn projected(table: &str, index: &str) -> std::collections::BTreeSet<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../infra/definitions/tables.json");
    let tables: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let table = tables["tables"].as_array().unwrap().iter().find(|t| t["name"] == table).unwrap();
    let indexes = table["globalSecondaryIndexes"].as_array().unwrap();
    let index = indexes.iter().find(|i| i["name"] == index).expect("the index");
    let names = index["nonKeyAttributes"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_owned());
    let keys = [&table["hashKey"], &table["rangeKey"], &index["hashKey"], &index["rangeKey"]];
    names.chain(keys.into_iter().filter_map(|k| k["name"].as_str().map(str::to_owned))).collect()
}
