//! What `make bench` counted per operation on the local stack, saved in `docs/BENCHMARKS.json`
//! (`"counted"`) so that the cost table can be generated again without the stack.

use crate::counts::Tally;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::ops::AddAssign;

/// What the emulators served for one measured operation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Served {
    pub write_units: f64,
    pub read_units: f64,
    /// SNS publishes (one per push).
    pub publishes: f64,
    /// Bytes each Kafka topic grew by.
    pub kafka_bytes: BTreeMap<String, f64>,
    /// `write_units` and `read_units` split by table (its name in `tables.json`).
    pub tables: BTreeMap<String, TableUnits>,
}

/// The DynamoDB units one table billed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TableUnits {
    pub write_units: f64,
    pub read_units: f64,
}

impl AddAssign for TableUnits {
    fn add_assign(&mut self, other: TableUnits) {
        self.write_units += other.write_units;
        self.read_units += other.read_units;
    }
}

impl TableUnits {
    /// Both units times `factor`.
    pub fn scaled(self, factor: f64) -> TableUnits {
        TableUnits { write_units: self.write_units * factor, read_units: self.read_units * factor }
    }
}

impl From<&Tally> for Served {
    fn from(tally: &Tally) -> Self {
        Self {
            write_units: tally.write_units(),
            read_units: tally.read_units(),
            publishes: tally.count("Publish") as f64,
            kafka_bytes: tally.kafka_bytes.iter().map(|(topic, bytes)| (topic.clone(), *bytes as f64)).collect(),
            tables: tally.tables.clone(),
        }
    }
}

impl Served {
    /// What `self` served beyond `part` (e.g. a booking's fan-out: the whole minus its creation).
    pub fn minus(&self, part: &Served) -> Served {
        let mut kafka_bytes = self.kafka_bytes.clone();
        for (topic, bytes) in &part.kafka_bytes {
            let left = kafka_bytes.entry(topic.clone()).or_default();
            *left = (*left - bytes).max(0.0);
        }
        let mut tables = self.tables.clone();
        for (table, units) in &part.tables {
            let left = tables.entry(table.clone()).or_default();
            left.write_units = (left.write_units - units.write_units).max(0.0);
            left.read_units = (left.read_units - units.read_units).max(0.0);
        }
        Served {
            write_units: (self.write_units - part.write_units).max(0.0),
            read_units: (self.read_units - part.read_units).max(0.0),
            publishes: (self.publishes - part.publishes).max(0.0),
            kafka_bytes,
            tables,
        }
    }

    /// `self` for one of `count` (e.g. per point of a minute of GPS).
    pub fn per(&self, count: f64) -> Served {
        let count = count.max(1.0);
        Served {
            write_units: self.write_units / count,
            read_units: self.read_units / count,
            publishes: self.publishes / count,
            kafka_bytes: self.kafka_bytes.iter().map(|(topic, bytes)| (topic.clone(), bytes / count)).collect(),
            tables: self.tables.iter().map(|(table, units)| (table.clone(), units.scaled(1.0 / count))).collect(),
        }
    }
}

/// Everything the cost table multiplies, per operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Counted {
    /// When and where it was counted (`2026-11-30, local stack: moto, Kafka 4.4`).
    pub measured: String,
    pub booking: BookingCounts,
    pub trip: TripCounts,
    pub gps: GpsCounts,
}

/// A booking's trip after its offers (figure 4c): accept, arrive, pick up, deliver, with what
/// their events make order-fanout and the fcm-consumer do (pushes, the others' telling them to drop
/// their offers).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TripCounts {
    /// Transporters the booking was offered to: all but the winner are told it is taken.
    pub recipients: f64,
    pub served: Served,
}

/// One booking with `recipients` transporters matched (figure 4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BookingCounts {
    pub recipients: f64,
    /// The api's request: the booking, its outbox event and idempotency key, `booking.created`.
    pub create: Served,
    /// Matching, offers, notifications and pushes for every recipient.
    pub fanout: Served,
    /// The api's median booking request, in process (no Lambda overhead).
    pub api_seconds: f64,
    /// order-fanout's handling of `booking.created`, and the fcm-consumer's of its notifications.
    pub fanout_seconds: f64,
    pub push_seconds: f64,
}

/// GPS in the scale's shape: `points_per_request` points a request, one record each (figure 3d).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GpsCounts {
    pub points_per_request: u64,
    /// A minute of 500 trucks through the location-consumer: per point.
    pub consumer: Served,
    pub consumer_seconds_per_point: f64,
    /// The api's ingest of such requests into Kafka: per point.
    pub ingest: Served,
    pub api_seconds_per_request: f64,
}
