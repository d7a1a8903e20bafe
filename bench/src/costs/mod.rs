//! The monthly cost table, generated: `docs/COSTS.md` and the seed's total in the README.
//!
//! # Layout
//! - [`counted`]: what `make bench` counted per operation (saved in `docs/BENCHMARKS.json`).
//! - [`model`] (and `rows`): the load of a scale × the counted quantities × `infra/prices.json`, one row per
//!   billed item; the assumptions in `infra/cost-model.json`.
//! - here: reading those files, writing the markdown, and the test that the committed table is
//!   what the committed inputs give.

pub mod counted;
mod dynamodb;
mod kafka;
pub mod model;
mod rows;

use crate::prices::Prices;
use counted::Counted;
use model::{Committed, CostModel, Inputs, Profile, Row, Scale};
use std::fmt::Write as _;
use std::path::Path;

/// Where the generated table goes, and the README's marked line.
pub const TABLE: &str = "docs/COSTS.md";
const README: &str = "README.md";
const MARK_START: &str = "<!-- cost:seed -->";
const MARK_END: &str = "<!-- /cost:seed -->";

/// The counted operations of the last `make bench` (`docs/BENCHMARKS.json`).
pub fn load_counted(root: &Path) -> anyhow::Result<Counted> {
    let path = root.join("docs/BENCHMARKS.json");
    let text = std::fs::read_to_string(&path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let mut json: serde_json::Value = serde_json::from_str(&text)?;
    let counted = json
        .get_mut("counted")
        .map(serde_json::Value::take)
        .ok_or_else(|| anyhow::anyhow!("{} has no counts: run make bench", path.display()))?;
    Ok(serde_json::from_value(counted)?)
}

/// The table and the README as they should be, from the files under `root`.
pub fn generate(root: &Path) -> anyhow::Result<(String, String)> {
    let counted = load_counted(root)?;
    let committed = Committed::load(root)?;
    let (model, prices) = (&committed.model, &committed.prices);
    let inputs = committed.inputs(&counted);
    let mut priced = Vec::new();
    for scale in &model.scales {
        priced.push((scale, inputs.rows(scale)?, inputs.rows(&scale.idle())?));
    }
    let (seed, rows, idle) = priced.first().ok_or_else(|| anyhow::anyhow!("cost-model.json has no scale"))?;
    let mut choices = Vec::new();
    for (choice, model, scale) in choices_at(model, seed) {
        let inputs = Inputs { model: &model, ..inputs };
        choices.push((choice, total(&inputs.rows(&scale)?), total(&inputs.rows(&scale.idle())?)));
    }
    let table = render(&counted, prices, &priced, (total(rows), total(idle)), &choices)?;
    let readme = std::fs::read_to_string(root.join(README))?;
    let line = format!(
        "{MARK_START}**${} a month** at the seed's scale ({}), **${} idle**{MARK_END}",
        dollars(total(rows)),
        load_text(seed),
        dollars(total(idle))
    );
    Ok((table, replace_marked(&readme, &line)?))
}

/// Writes `docs/COSTS.md` and the README's seed total under `root`.
pub fn write(root: &Path) -> anyhow::Result<String> {
    let (table, readme) = generate(root)?;
    std::fs::write(root.join(TABLE), &table)?;
    std::fs::write(root.join(README), readme)?;
    Ok(table)
}

/// Choices priced against the seed's scale: the same load with one thing changed.
fn choices_at(model: &CostModel, seed: &Scale) -> Vec<(&'static str, CostModel, Scale)> {
    let changed = |name: &str, change: fn(Profile) -> Profile| {
        let mut changed = model.clone();
        let profile = changed.profiles.get(&seed.profile).cloned().map(change);
        changed.profiles.extend(profile.map(|p| (name.to_owned(), p)));
        (changed, Scale { profile: name.to_owned(), ..seed.clone() })
    };
    let (one_group, one_group_scale) = changed("one poller group", |p| Profile { poller_groups: "one".into(), ..p });
    let (unpolled, unpolled_scale) = changed("on-demand mappings", |p| Profile { mappings: "on-demand".into(), ..p });
    let (on_demand, on_demand_scale) = changed("on-demand", |p| Profile { steady_tables: "on-demand".into(), ..p });
    let (per_function, per_function_scale) =
        changed("a group per function", |p| Profile { poller_groups: "function".into(), ..p });
    let (serverless, serverless_scale) = changed("MSK Serverless", |p| Profile { kafka: "serverless".into(), ..p });
    vec![
        (
            "a poller group per consuming function instead of two (the live paths, the records): no two \
             consumers share pollers, even on the same path",
            per_function,
            per_function_scale,
        ),
        (
            "the tables with a steady load (the GPS tables, the push log, offers) on-demand, as the small profile, \
             instead of provisioned with auto scaling (on-demand absorbs any burst at once; provisioned \
             capacity can throttle a sudden one)",
            on_demand,
            on_demand_scale,
        ),
        (
            "GPS requests through the HTTP API to the api instead of to gps-ingest's function URL (the \
             gateway adds its JWT authorizer, stage throttling, access logs and a custom domain; gps-ingest \
             verifies every token itself, its reserved concurrency caps a flood: infra/terraform/gps_ingest.tf)",
            model.clone(),
            Scale { gps_through_function_url: false, ..seed.clone() },
        ),
        (
            "Kafka on MSK Serverless instead of three provisioned brokers (`msk_cluster_type`; no brokers to \
             size or patch, no disks or partitions per broker to watch; billed by the cluster-hour, the \
             partition-hour and every GB in and out)",
            serverless,
            serverless_scale,
        ),
        (
            "every mapping in one poller group (consumers then share pollers: a busy topic can slow another \
             consumer's)",
            one_group,
            one_group_scale,
        ),
        (
            "every mapping in on-demand mode, as the small profile (no retry limit, bisection or partial batch \
             response: a record that always fails stops its partition until fixed or skipped, where provisioned \
             mode sets it aside after its retries; a burst waits for Lambda's own poller scaling)",
            unpolled,
            unpolled_scale,
        ),
        (
            "the access logs in the Standard log class instead of Infrequent Access (`access_log_class`; \
             Standard adds Live Tail, metric and subscription filters, which the stack does not use on them)",
            CostModel { access_log_class: "STANDARD".into(), ..model.clone() },
            seed.clone(),
        ),
        (
            "Cognito Essentials instead of Lite (`cognito_user_pool_tier`; needed for access-token \
             customisation, email MFA, managed login)",
            model.clone(),
            Scale { cognito_tier: "essentials".into(), ..seed.clone() },
        ),
    ]
}

fn replace_marked(text: &str, line: &str) -> anyhow::Result<String> {
    let start = text.find(MARK_START).ok_or_else(|| anyhow::anyhow!("README.md has no {MARK_START}"))?;
    let end = text[start..].find(MARK_END).ok_or_else(|| anyhow::anyhow!("README.md has no {MARK_END}"))? + start;
    Ok(format!("{}{line}{}", &text[..start], &text[end + MARK_END.len()..]))
}

fn total(rows: &[Row]) -> f64 {
    rows.iter().map(|r| r.usd).sum()
}

/// Whole dollars with thousands separators: `10,912`.
fn dollars(usd: f64) -> String {
    let whole = format!("{:.0}", usd.max(0.0));
    let mut out = String::new();
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

fn load_text(scale: &Scale) -> String {
    format!(
        "{} drivers sending a point every {} s, {} points a request; {} bookings a day, {} transporters reached each",
        scale.drivers,
        scale.point_every_seconds,
        scale.points_per_request,
        scale.bookings_per_day,
        scale.recipients_per_booking
    )
}

/// A choice, and the seed's month and idle floor with it.
type Choice = (&'static str, f64, f64);

fn render(
    counted: &Counted, prices: &Prices, priced: &[(&Scale, Vec<Row>, Vec<Row>)], seed: (f64, f64), choices: &[Choice],
) -> anyhow::Result<String> {
    let mut out = String::new();
    writeln!(out, "# What it costs per month (generated)\n")?;
    writeln!(
        out,
        "Generated by `weelo-bench costs` (and by `make bench`) from: the operations counted on the local stack \
         (`docs/BENCHMARKS.json`, {}); the prices of `infra/prices.json` ({}, as of {}; each with its source, \
         most marked unconfirmed); the assumptions of `infra/cost-model.json` (load, log line sizes, alarm counts); \
         partitions, mappings and memory from `infra/definitions/`. Do not edit it: a test fails when it differs \
         from what those files give. How each row is computed: `bench/src/costs/model.rs`.\n",
        counted.measured, prices.region, prices.as_of
    )?;
    writeln!(out, "| scale | profile | load | per month | idle floor |\n|---|---|---|---|---|")?;
    for (scale, rows, idle) in priced {
        writeln!(
            out,
            "| {} | {} | {} | **${}** | ${} |",
            scale.name,
            scale.profile,
            load_text(scale),
            dollars(total(rows)),
            dollars(total(idle))
        )?;
    }
    writeln!(
        out,
        "\nCounted per operation (the emulators' request journal and the broker's log sizes; DynamoDB's units \
         include the writes of the tables' global secondary indexes, per table in `docs/BENCHMARKS.json`):\n"
    )?;
    let (booking, gps) = (&counted.booking, &counted.gps);
    let per_recipient = booking.fanout.per(booking.recipients);
    writeln!(
        out,
        "- a booking's creation: {:.1} write units, {:.1} read units; per transporter reached: {:.2} write units, \
         {:.2} read units, {:.2} SNS publishes (from a booking reaching {:.0});",
        booking.create.write_units,
        booking.create.read_units,
        per_recipient.write_units,
        per_recipient.read_units,
        per_recipient.publishes,
        booking.recipients
    )?;
    let trip = &counted.trip;
    writeln!(
        out,
        "- a trip after its offers (accept, arrive, pick up, deliver; the others told to drop their offers): {:.0} write units, \
         {:.0} read units, {:.0} SNS publishes (offered to {:.0});",
        trip.served.write_units, trip.served.read_units, trip.served.publishes, trip.recipients
    )?;
    writeln!(
        out,
        "- a GPS point, {} a request: {:.3} write units, {:.3} read units in the location-consumer; {:.0} bytes into Kafka.\n",
        gps.points_per_request,
        gps.consumer.write_units,
        gps.consumer.read_units,
        gps.ingest.kafka_bytes.values().sum::<f64>()
    )?;
    for (scale, rows, idle) in priced {
        writeln!(out, "## {} ({} profile)\n\n{}.\n", scale.name, scale.profile, load_text(scale))?;
        writeln!(out, "| part | item | quantity | $/month | idle |\n|---|---|---|---|---|")?;
        for (row, idle_row) in rows.iter().zip(idle) {
            writeln!(out, "| {} | {} | {} | {:.2} | {:.2} |", row.part, row.item, row.quantity, row.usd, idle_row.usd)?;
        }
        writeln!(out, "| **total** | | | **{:.2}** | **{:.2}** |\n", total(rows), total(idle))?;
    }
    writeln!(out, "## Choices, priced at the seed's load\n")?;
    writeln!(out, "| choice | per month | difference | idle floor |\n|---|---|---|---|")?;
    writeln!(out, "| as deployed (above) | ${} | | ${} |", dollars(seed.0), dollars(seed.1))?;
    for (choice, month, idle) in choices {
        let difference = month - seed.0;
        let sign = if difference < 0.0 { "−" } else { "+" };
        writeln!(
            out,
            "| {choice} | ${} | {sign}${} | ${} |",
            dollars(*month),
            dollars(difference.abs()),
            dollars(*idle)
        )?;
    }
    writeln!(out)?;
    out.push_str(NOT_COUNTED);
    Ok(out)
}

const NOT_COUNTED: &str = "## What the table leaves out\n\n\
- Orders of many trucks (figure 4b counts one, the scales have none), live tracking (the WebSocket API's \
minutes and messages, live-tracking's invocations, `live-connections`), analytics' and the audit consumer's \
invocations and `analytics-progress` writes, and the Lambda time of the trip steps: not counted per operation \
yet; their pollers, Kafka reads and alarms are in.\n\
- Logs beyond the EMF lines: warnings and errors, and the three lines a held-back function (gps-ingest) writes on SIGTERM at an environment's end. Lambda's own START and REPORT lines are not \
written at all (the functions' system log level is WARN, `logging_config` in `infra/terraform/lambda.tf`).\n\
- Durations are measured in process against emulators: an upper bound for DynamoDB and SNS calls, without \
Lambda's own overhead (cold starts: `docs/BENCHMARKS.md` §7).\n\
- Lambda's and DynamoDB's free tiers, data transfer, and the archive's storage after the first month (it grows \
every month, kept 7 years).\n\
- DynamoDB storage of the tables other than the GPS history (small next to it).\n\
- Where tables are provisioned (the standard profile's GPS tables, push log and offers), the capacity is priced for a \
load as flat as the scale's; auto scaling follows a daily curve within minutes, and a burst beyond what a table \
has saved up is throttled and retried.\n";

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
    }

    #[test]
    fn the_committed_cost_table_and_readme_total_are_what_the_committed_counts_and_prices_give() {
        // GIVEN the committed counts, prices, assumptions and definitions
        // WHEN the table is generated again
        let (table, readme) = generate(&root()).unwrap();
        // THEN it is the committed one (run `weelo-bench costs` after changing any of them)
        let committed = std::fs::read_to_string(root().join(TABLE)).unwrap();
        assert!(table == committed, "docs/COSTS.md is out of date: run `cargo run -p weelo-bench -- costs`");
        let committed = std::fs::read_to_string(root().join(README)).unwrap();
        assert!(readme == committed, "README.md's seed total is out of date: run `cargo run -p weelo-bench -- costs`");
    }

    #[test]
    fn dollars_are_whole_with_thousands_separators() {
        assert_eq!(
            (dollars(0.4), dollars(999.5), dollars(10_912.3), dollars(1_234_567.0)),
            ("0".to_owned(), "1,000".to_owned(), "10,912".to_owned(), "1,234,567".to_owned())
        );
    }

    #[test]
    fn the_marked_line_is_replaced_and_the_rest_kept() {
        let text = format!("before {MARK_START}old{MARK_END} after");
        assert_eq!(replace_marked(&text, "new").unwrap(), "before new after");
        assert!(replace_marked("no mark", "new").is_err());
    }
}
