//! DynamoDB's rows: each counted operation's units on its on-demand tables, and the capacity of
//! the tables with a steady load where the profile provisions them (`steadyLoad` in
//! `tables.json`: the GPS tables, the push log and offers, auto scaled in Terraform's standard
//! profile, each index with its own capacity).

use super::counted::TableUnits;
use super::model::{Inputs, Load, Profile, Row};
use super::rows::row;
use std::collections::BTreeMap;

/// One counted operation in a month: its units on each table, once, and how many times it happens.
struct Operation {
    /// `booking`, `trip`, `point`.
    what: &'static str,
    tables: BTreeMap<String, TableUnits>,
    count: f64,
}

impl Operation {
    /// Its units on the tables `keep` selects.
    fn units(&self, keep: impl Fn(&str) -> bool) -> TableUnits {
        let mut sum = TableUnits::default();
        for (table, units) in &self.tables {
            if keep(table) {
                sum += *units;
            }
        }
        sum
    }
}

/// `a + b × factor`, table by table.
fn add_scaled(a: &mut BTreeMap<String, TableUnits>, b: &BTreeMap<String, TableUnits>, factor: f64) {
    for (table, units) in b {
        *a.entry(table.clone()).or_default() += units.scaled(factor);
    }
}

/// `0.446`, `8.00`, `305`: enough digits to see a change.
fn units_text(units: f64) -> String {
    match units {
        u if u < 1.0 => format!("{u:.3}"),
        u if u < 10.0 => format!("{u:.2}"),
        u => format!("{u:.0}"),
    }
}

impl Inputs<'_> {
    fn operations(&self, load: &Load) -> [Operation; 3] {
        let (booking, trip, gps) = (&self.counted.booking, &self.counted.trip, &self.counted.gps);
        let mut booking_tables = booking.create.tables.clone();
        add_scaled(&mut booking_tables, &booking.fanout.tables, load.fanout_share);
        let mut trip_tables = BTreeMap::new();
        add_scaled(&mut trip_tables, &trip.served.tables, load.trip_share);
        [
            Operation { what: "booking", tables: booking_tables, count: load.bookings },
            Operation { what: "trip", tables: trip_tables, count: load.trips },
            Operation { what: "point", tables: gps.consumer.tables.clone(), count: load.points },
        ]
    }

    /// Whether `table` has provisioned capacity in `profile`.
    fn provisioned(&self, profile: &Profile, table: &str) -> bool {
        profile.steady_tables == "provisioned" && self.tables.iter().any(|t| t.name == table && t.steady_load)
    }

    /// The throttle alarms of the provisioned capacity: one a table and one an index of it, for
    /// reads and for writes (`alarms.tf`, `steady_capacity`); none where the profile provisions
    /// no table.
    pub(super) fn throttle_alarm_metrics(&self, profile: &Profile) -> usize {
        let provisioned = self.tables.iter().filter(|t| self.provisioned(profile, &t.name));
        provisioned.map(|t| 2 * (1 + t.global_secondary_indexes.len())).sum()
    }

    pub(super) fn dynamodb(&self, profile: &Profile, load: &Load) -> anyhow::Result<Vec<Row>> {
        let operations = self.operations(load);
        let mut rows = self.provisioned_rows(profile, load, &operations)?;
        for operation in &operations {
            let on_demand = |table: &str| !self.provisioned(profile, table);
            // Which tables an operation touches does not depend on the load: the idle month has the same rows.
            let touched = |units_of: fn(&TableUnits) -> f64| -> Vec<&str> {
                let tables = operation.tables.iter().filter(|(table, units)| on_demand(table) && units_of(units) > 0.0);
                tables.map(|(table, _)| table.as_str()).collect()
            };
            let (written, read) = (touched(|u| u.write_units), touched(|u| u.read_units));
            if written.is_empty() && read.is_empty() {
                continue;
            }
            let units = operation.units(on_demand);
            let (what, count) = (operation.what, operation.count);
            rows.push(row(
                "DynamoDB",
                &format!("{what} writes, on-demand ({})", written.join(", ")),
                format!(
                    "{} write units a {what} (counted) × {:.1} M {what}s",
                    units_text(units.write_units),
                    count / 1e6
                ),
                count * units.write_units / 1e6 * self.usd("dynamodbWriteRequestUnitsPerMillion")?,
            ));
            rows.push(row(
                "DynamoDB",
                &format!("{what} reads, on-demand ({})", read.join(", ")),
                format!("{} read units a {what} (counted)", units_text(units.read_units)),
                count * units.read_units / 1e6 * self.usd("dynamodbReadRequestUnitsPerMillion")?,
            ));
        }
        let history_gb =
            load.points / self.model.days_per_month * self.model.history_days * self.model.history_bytes_per_point
                / 1e9;
        rows.push(row(
            "DynamoDB",
            "storage and PITR: the GPS history",
            format!("{history_gb:.0} GB ({} days)", self.model.history_days),
            history_gb * (self.usd("dynamodbStorageGbMonth")? + self.usd("dynamodbPitrGbMonth")?),
        ));
        Ok(rows)
    }

    /// The provisioned tables' write and read capacity: per table, what auto scaling keeps at the
    /// target utilisation over the month's counted rate (its indexes' units included), never below
    /// the minimum of the table and of each of its indexes, which scale apart (none where the
    /// profile provisions no table).
    fn provisioned_rows(&self, profile: &Profile, load: &Load, operations: &[Operation]) -> anyhow::Result<Vec<Row>> {
        let tables: Vec<&str> =
            self.tables.iter().map(|t| t.name.as_str()).filter(|t| self.provisioned(profile, t)).collect();
        if tables.is_empty() {
            return Ok(Vec::new());
        }
        let capacity = &self.model.steady_capacity;
        let hours = self.model.hours_per_month;
        let provisioned = |units_of: fn(&TableUnits) -> f64, min: f64| -> f64 {
            let per_second = |table: &str| -> f64 {
                operations.iter().map(|op| op.count * op.tables.get(table).map_or(0.0, units_of)).sum::<f64>()
                    / load.seconds
            };
            let scaled = |table: &str| -> f64 {
                let indexes =
                    self.tables.iter().find(|t| t.name == table).map_or(0, |t| t.global_secondary_indexes.len());
                (1 + indexes) as f64
            };
            tables.iter().map(|table| (per_second(table) / capacity.target_utilization).max(min * scaled(table))).sum()
        };
        let wcu = provisioned(|u| u.write_units, capacity.min_write);
        let rcu = provisioned(|u| u.read_units, capacity.min_read);
        let quantity = |units: f64, kind: &str, units_of: fn(&TableUnits) -> f64| {
            let counted: Vec<String> = operations
                .iter()
                .map(|op| (op, op.units(|t| tables.contains(&t))))
                .filter(|(_, units)| units_of(units) > 0.0)
                .map(|(op, units)| format!("{} a {}", units_text(units_of(&units)), op.what))
                .collect();
            format!(
                "{kind} units (counted): {}; {units:.0} provisioned at {:.0} % × {hours} h",
                counted.join(", "),
                capacity.target_utilization * 100.0
            )
        };
        let list = tables.join(", ");
        Ok(vec![
            row(
                "DynamoDB",
                &format!("writes of the provisioned tables ({list})"),
                quantity(wcu, "write", |u| u.write_units),
                wcu * hours * self.usd("dynamodbWriteCapacityUnitHour")?,
            ),
            row(
                "DynamoDB",
                &format!("reads of the provisioned tables ({list})"),
                quantity(rcu, "read", |u| u.read_units),
                rcu * hours * self.usd("dynamodbReadCapacityUnitHour")?,
            ),
        ])
    }
}
