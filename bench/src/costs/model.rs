//! The monthly bill of one scale: counted quantities per operation × the scale's load × prices,
//! one row per billed item (the rows of each part in `rows`). Every multiplication of the cost
//! table happens in these two modules.

use super::counted::{Counted, Served};
use crate::prices::Prices;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;
use weelo_definitions::{Definitions, Mapping, TableDefinition, TopicDefinition};

/// `infra/cost-model.json`: what cannot be counted locally.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CostModel {
    pub hours_per_month: f64,
    pub days_per_month: f64,
    /// How long the GPS history is kept, and what one point takes in the table: a segment item's
    /// key and TTL (~120 bytes) shared by its points (~45 bytes each, one-letter names), for six
    /// points a request ≈ 70 bytes a point. Estimated from the item layout, not measured.
    pub history_days: f64,
    pub history_bytes_per_point: f64,
    /// Requests a booking brings to the api besides GPS: create, the customer's GETs, the
    /// transporter's accept and steps, cancels.
    pub api_requests_per_booking: f64,
    /// The share of bookings that someone accepts and delivers (the others expire or are
    /// cancelled): each such trip costs what figure 4c counted.
    pub trips_per_booking: f64,
    /// One API Gateway access-log line, and one EMF metric document per invocation.
    pub access_log_bytes_per_request: f64,
    pub emf_bytes_per_invocation: f64,
    /// One EMF line of a function that holds its lines back (`METRICS_FLUSH_SECONDS`): written
    /// when it holds `weelo_telemetry::EARLY_FLUSH_AT` (64) latency samples, one a gps-ingest
    /// request. Measured on a local gps-ingest line: 261 bytes and 4.9 a sample, ≈ 575 for 64,
    /// and CloudWatch bills 26 bytes more an event.
    pub emf_bytes_per_held_line: f64,
    /// The access-log groups' log class (`access_log_class` in `infra/terraform`, whose default
    /// this must be: a drift test checks it): `INFREQUENT_ACCESS` or `STANDARD`.
    pub access_log_class: String,
    /// What the audit archive adds to each record (its JSON Lines envelope).
    pub archive_bytes_per_record: f64,
    /// Alarm metrics (a metric-math alarm counts each) in every profile, and custom metric series
    /// of the stack; the throttle alarms of provisioned tables come on top where a profile has
    /// them, counted from `tables.json`.
    pub alarm_metrics: f64,
    pub custom_metric_series: f64,
    /// Interface endpoints in every profile (SNS, SQS, cognito-idp)...
    pub interface_endpoints: f64,
    /// ...and those only a profile with on-demand mappings has (Lambda and STS, for the pollers).
    pub on_demand_endpoints: f64,
    pub free_monthly_active_users: f64,
    /// The deadline sweeper runs every minute and sweeps for this long.
    pub sweeper_seconds_per_minute: f64,
    /// How full MSK's storage auto-scaling keeps a broker's volume (its target, `msk_provisioned.tf`).
    pub broker_storage_utilization: f64,
    /// The auto scaling of the tables with a steady load where a profile provisions them
    /// (Terraform's `steady_table_capacity` defaults).
    pub steady_capacity: SteadyCapacity,
    pub profiles: BTreeMap<String, Profile>,
    pub scales: Vec<Scale>,
}

/// A `deployment_profile` of `infra/terraform` (`profile.tf`): what its fixed costs depend on.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    /// `provisioned` (MSK brokers of `broker_type`, one a zone) or `serverless` (MSK Serverless):
    /// Terraform's `msk_cluster_type`.
    pub kafka: String,
    pub brokers: f64,
    /// The brokers' instance type where `kafka` is `provisioned` (its broker-hour is in `infra/prices.json`).
    #[serde(default)]
    pub broker_type: String,
    /// Each broker's volume (GiB) when the cluster is made, and the ceiling storage auto-scaling
    /// grows it to (`msk_broker_volume_gb`, `msk_broker_volume_max_gb`: the profile's).
    pub broker_volume_gb: f64,
    #[serde(default)]
    pub broker_volume_max_gb: f64,
    /// `provisioned` (Event Poller Units billed by the hour, in poller groups) or `on-demand` (no
    /// poller billed): the event-source mappings' mode (`infra/terraform/profile.tf`).
    pub mappings: String,
    /// In provisioned mode: `class` (each mapping in the group `event-source-mappings.json` gives
    /// it), `function` (a group per consuming function) or `one` (every mapping in one group).
    #[serde(default)]
    pub poller_groups: String,
    /// Availability zones each interface endpoint has a network interface in.
    pub endpoint_zones: f64,
    /// `provisioned` (auto scaled capacity) or `on-demand`: how the tables with `steadyLoad` in
    /// `tables.json` (the GPS writes' tables) are billed.
    pub steady_tables: String,
}

impl Profile {
    /// Whether the event-source mappings are on demand (`mappings`: `on-demand` or `provisioned`).
    pub fn on_demand_mappings(&self) -> anyhow::Result<bool> {
        match self.mappings.as_str() {
            "on-demand" => Ok(true),
            "provisioned" => Ok(false),
            other => anyhow::bail!(
                "cost-model.json: a profile's mappings are \"provisioned\" or \"on-demand\", not {other:?}"
            ),
        }
    }
}

/// Target tracking of a provisioned table: capacity follows the load at this utilisation, never
/// below each table's minimum.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SteadyCapacity {
    pub target_utilization: f64,
    pub min_read: f64,
    pub min_write: f64,
}

/// A load to price.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Scale {
    pub name: String,
    pub profile: String,
    pub drivers: f64,
    pub point_every_seconds: f64,
    pub points_per_request: u64,
    pub bookings_per_day: f64,
    pub recipients_per_booking: f64,
    pub monthly_active_users: f64,
    /// `lite` or `essentials` (`cognito_user_pool_tier`).
    pub cognito_tier: String,
    /// GPS requests go to the gps-ingest function's URL (infra/terraform/gps_ingest.tf) instead
    /// of the HTTP API's route to the api: no API Gateway request or access-log line for them.
    #[serde(default)]
    pub gps_through_function_url: bool,
}

impl Scale {
    /// The same deployment with nothing happening: what it costs idle.
    pub fn idle(&self) -> Scale {
        Scale { drivers: 0.0, bookings_per_day: 0.0, monthly_active_users: 0.0, ..self.clone() }
    }
}

/// One billed item.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub part: &'static str,
    pub item: String,
    /// The quantity billed and its price, as a reader checks it.
    pub quantity: String,
    pub usd: f64,
}

/// The committed inputs besides the counts: `infra/cost-model.json`, `infra/prices.json` and the
/// definitions' topics, mappings and tables.
pub struct Committed {
    pub model: CostModel,
    pub prices: Prices,
    pub definitions: Definitions,
}

impl Committed {
    /// Reads them from the repository at `root`.
    pub fn load(root: &Path) -> anyhow::Result<Self> {
        let path = root.join("infra/cost-model.json");
        let text = std::fs::read_to_string(&path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let model = serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let definitions = Definitions::load(&root.join("infra/definitions"))?;
        Ok(Self { model, prices: Prices::load(root)?, definitions })
    }

    /// What the rows are computed from, with these counts.
    pub fn inputs<'a>(&'a self, counted: &'a Counted) -> Inputs<'a> {
        Inputs {
            model: &self.model,
            counted,
            prices: &self.prices,
            topics: &self.definitions.topics,
            mappings: &self.definitions.mappings,
            tables: &self.definitions.tables,
        }
    }
}

/// What the rows are computed from besides the scale.
pub struct Inputs<'a> {
    pub model: &'a CostModel,
    pub counted: &'a Counted,
    pub prices: &'a Prices,
    pub topics: &'a [TopicDefinition],
    pub mappings: &'a [Mapping],
    pub tables: &'a [TableDefinition],
}

/// The load of one month.
pub(super) struct Load {
    pub(super) seconds: f64,
    pub(super) points: f64,
    pub(super) gps_requests: f64,
    pub(super) bookings: f64,
    /// The counted fan-out scaled to the scale's recipients.
    pub(super) fanout_share: f64,
    /// Trips a month, and the counted trip scaled to the scale's recipients (its "taken" pushes
    /// grow with them).
    pub(super) trips: f64,
    pub(super) trip_share: f64,
    /// Bytes into each topic.
    pub(super) kafka_bytes: BTreeMap<String, f64>,
    /// Records into each topic.
    pub(super) records: BTreeMap<String, f64>,
    pub(super) api_requests: f64,
    /// Those of them through API Gateway (billed, and an access-log line each).
    pub(super) gateway_requests: f64,
    /// Batches of the location-consumer and of the fcm-consumer.
    pub(super) location_batches: f64,
    pub(super) push_batches: f64,
    /// Invocations of the api, order-fanout and those two consumers that write an EMF line each
    /// (gps-ingest's too, unless it holds its lines back)...
    pub(super) invocations: f64,
    /// ...and the lines gps-ingest writes when it does: one per 64 requests, and one per
    /// interval while requests arrive, counted for one execution environment (each writes its
    /// own; at the seed's load the 64-request lines are 50 times more).
    pub(super) held_metric_lines: f64,
}

impl Inputs<'_> {
    /// The month's bill of `scale`, one row per item.
    pub fn rows(&self, scale: &Scale) -> anyhow::Result<Vec<Row>> {
        anyhow::ensure!(
            scale.points_per_request == self.counted.gps.points_per_request,
            "scale {:?} sends {} points a request; GPS was counted with {} (weelo-bench local)",
            scale.name,
            scale.points_per_request,
            self.counted.gps.points_per_request
        );
        let profile =
            self.model.profiles.get(&scale.profile).ok_or_else(|| anyhow::anyhow!("no profile {:?}", scale.profile))?;
        let load = self.load(scale);
        let mut rows = self.kafka(profile, &load)?;
        rows.extend(self.dynamodb(profile, &load)?);
        rows.extend(self.lambda(scale, profile, &load)?);
        rows.extend(self.edges(scale, profile, &load)?);
        rows.extend(self.archive(&load)?);
        Ok(rows)
    }

    fn load(&self, scale: &Scale) -> Load {
        let seconds = self.model.days_per_month * 86_400.0;
        let points = scale.drivers / scale.point_every_seconds * seconds;
        let gps_requests = points / scale.points_per_request as f64;
        let bookings = scale.bookings_per_day * self.model.days_per_month;
        let booking = &self.counted.booking;
        let fanout_share = scale.recipients_per_booking / booking.recipients.max(1.0);
        let mut kafka_bytes: BTreeMap<String, f64> = BTreeMap::new();
        let mut add = |served: &Served, times: f64| {
            for (topic, bytes) in &served.kafka_bytes {
                *kafka_bytes.entry(topic.clone()).or_default() += bytes * times;
            }
        };
        let trips = bookings * self.model.trips_per_booking;
        let trip_share = scale.recipients_per_booking / self.counted.trip.recipients.max(1.0);
        add(&booking.create, bookings);
        add(&booking.fanout, bookings * fanout_share);
        add(&self.counted.trip.served, trips * trip_share);
        add(&self.counted.gps.ingest, points);
        // One record per GPS request, per booking event and per push.
        let records = BTreeMap::from([
            ("location.updated".to_owned(), gps_requests),
            ("booking.events".to_owned(), bookings + trips * 4.0),
            ("notification.fcm".to_owned(), (bookings + trips) * scale.recipients_per_booking),
        ]);
        let api_requests = gps_requests + bookings * self.model.api_requests_per_booking;
        let gateway_requests = if scale.gps_through_function_url { api_requests - gps_requests } else { api_requests };
        let location_batches = self.batches("location-consumer", "location.updated", gps_requests, seconds);
        let pushes = bookings * scale.recipients_per_booking;
        let push_batches = self.batches("fcm-consumer", "notification.fcm", pushes, seconds);
        let ingest = if scale.gps_through_function_url { gps_requests } else { 0.0 };
        let (held_invocations, held_metric_lines) = match self.prices.metric_interval("gps-ingest") {
            Some(interval) if ingest > 0.0 => {
                (ingest, ingest / weelo_telemetry::EARLY_FLUSH_AT as f64 + (seconds / interval).min(ingest))
            }
            _ => (0.0, 0.0),
        };
        let invocations = api_requests - held_invocations + bookings + location_batches + push_batches;
        Load {
            seconds,
            points,
            gps_requests,
            bookings,
            fanout_share,
            trips,
            trip_share,
            kafka_bytes,
            records,
            api_requests,
            gateway_requests,
            location_batches,
            push_batches,
            invocations,
            held_metric_lines,
        }
    }

    pub(super) fn usd(&self, name: &str) -> anyhow::Result<f64> {
        self.prices.usd(name)
    }

    /// Consumer groups reading `topic`: one per mapping on it.
    pub(super) fn readers(&self, topic: &str) -> f64 {
        self.mappings.iter().filter(|m| m.topic == topic).count() as f64
    }
}

#[cfg(test)]
#[path = "model_tests.rs"]
mod tests;
