//! The monthly bill of one scale: counted quantities per operation × the scale's load × prices,
//! one row per billed item (the rows of each part in `rows`). Every multiplication of the cost
//! table happens in these two modules.

use super::counted::{Counted, Served};
use crate::prices::Prices;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;
use weelo_definitions::{Mapping, TableDefinition, TopicDefinition};

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
    /// Alarm metrics (a metric-math alarm counts each) and custom metric series of the stack.
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
    pub topics: Vec<TopicDefinition>,
    pub mappings: Vec<Mapping>,
    pub tables: Vec<TableDefinition>,
}

impl Committed {
    /// Reads them from the repository at `root`.
    pub fn load(root: &Path) -> anyhow::Result<Self> {
        let path = root.join("infra/cost-model.json");
        let text = std::fs::read_to_string(&path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let model = serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let definitions = root.join("infra/definitions");
        Ok(Self {
            model,
            prices: Prices::load(root)?,
            topics: weelo_definitions::load_topics(&definitions)?,
            mappings: weelo_definitions::load_mappings(&definitions)?,
            tables: weelo_definitions::load_tables(&definitions)?,
        })
    }

    /// What the rows are computed from, with these counts.
    pub fn inputs<'a>(&'a self, counted: &'a Counted) -> Inputs<'a> {
        Inputs {
            model: &self.model,
            counted,
            prices: &self.prices,
            topics: &self.topics,
            mappings: &self.mappings,
            tables: &self.tables,
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
    /// Trips a month, and the counted trip scaled to the scale's recipients (its offers taken
    /// back and "taken" pushes grow with them).
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
        rows.extend(self.gps_tables(profile, &load)?);
        rows.extend(self.dynamodb(&load)?);
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
mod tests {
    use super::*;
    use crate::costs::counted::{BookingCounts, GpsCounts, TripCounts};

    fn served(write_units: f64, read_units: f64, topic: &str, bytes: f64) -> Served {
        Served { write_units, read_units, publishes: 0.0, kafka_bytes: BTreeMap::from([(topic.to_owned(), bytes)]) }
    }

    fn counted() -> Counted {
        Counted {
            measured: "fixture".into(),
            booking: BookingCounts {
                recipients: 10.0,
                create: served(5.0, 0.0, "booking.events", 1000.0),
                fanout: Served { publishes: 10.0, ..served(30.0, 15.0, "notification.fcm", 5000.0) },
                api_seconds: 0.01,
                fanout_seconds: 0.1,
                push_seconds: 0.2,
            },
            trip: TripCounts { recipients: 10.0, served: served(40.0, 8.0, "booking.events", 4000.0) },
            gps: GpsCounts {
                points_per_request: 6,
                consumer: served(0.5, 0.1, "none", 0.0),
                consumer_seconds_per_point: 0.001,
                ingest: served(0.0, 0.0, "location.updated", 100.0),
                api_seconds_per_request: 0.002,
            },
        }
    }

    fn priced(scale: &Scale) -> Vec<Row> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        Committed::load(&root).unwrap().inputs(&counted()).rows(scale).unwrap()
    }

    fn scale(drivers: f64, bookings_per_day: f64) -> Scale {
        Scale {
            name: "test".into(),
            profile: "standard".into(),
            drivers,
            point_every_seconds: 5.0,
            points_per_request: 6,
            bookings_per_day,
            recipients_per_booking: 20.0,
            monthly_active_users: 0.0,
            cognito_tier: "lite".into(),
            gps_through_function_url: false,
        }
    }

    fn usd(rows: &[Row], item: &str) -> f64 {
        rows.iter().find(|r| r.item.starts_with(item)).unwrap_or_else(|| panic!("no row {item}")).usd
    }

    #[test]
    fn ten_times_the_drivers_cost_ten_times_the_gps_writes_and_the_same_fixed_items() {
        // GIVEN the same deployment with 1,000 and with 10,000 drivers
        let (small, large) = (priced(&scale(1000.0, 0.0)), priced(&scale(10_000.0, 0.0)));
        // THEN GPS writes and Kafka data grow tenfold, the brokers and the pollers do not
        let ratio = |item| usd(&large, item) / usd(&small, item);
        assert!((ratio("GPS writes") - 10.0).abs() < 1e-9);
        assert!((ratio("data between zones") - 10.0).abs() < 1e-9);
        assert_eq!(usd(&large, "MSK provisioned brokers"), usd(&small, "MSK provisioned brokers"));
        assert_eq!(usd(&large, "event pollers"), usd(&small, "event pollers"));
        // AND on-demand (the small profile), 1,000 drivers' points at 0.5 write units each are
        // priced at the file's price per unit
        let on_demand = priced(&Scale { profile: "small".into(), ..scale(1000.0, 0.0) });
        let points = 1000.0 / 5.0 * 30.0 * 86_400.0;
        assert!((usd(&on_demand, "GPS writes") - points * 0.5 / 1e6 * 0.625).abs() < 1e-6);
    }

    #[test]
    fn gps_through_the_function_url_moves_its_lambda_time_to_gps_ingest_and_drops_its_gateway_requests() {
        // GIVEN 1,000 drivers (8.64 M requests a month of 6 points) and 100,000 bookings a day, their
        // GPS requests sent through the HTTP API and through gps-ingest's URL
        let through_gateway = priced(&scale(1000.0, 100_000.0));
        let through_url = priced(&Scale { gps_through_function_url: true, ..scale(1000.0, 100_000.0) });
        let (gps_requests, booking_requests) = (1000.0 / 5.0 * 30.0 * 86_400.0 / 6.0, 100_000.0 * 30.0 * 10.0);
        // THEN the Lambda time is the same, split between the api and gps-ingest (the same memory)
        let served = |rows: &[Row]| -> (usize, f64) {
            let lambda = rows.iter().filter(|r| r.part == "Lambda" && (r.item == "api" || r.item == "gps-ingest"));
            lambda.fold((0, 0.0), |(count, usd), row| (count + 1, usd + row.usd))
        };
        let ((gateway_rows, gateway_usd), (url_rows, url_usd)) = (served(&through_gateway), served(&through_url));
        assert_eq!((gateway_rows, url_rows), (1, 2));
        assert!((url_usd - gateway_usd).abs() < 1e-9, "{url_usd} {gateway_usd}");
        // AND only the bookings' requests reach API Gateway and write an access-log line
        let gateway =
            |rows: &[Row]| rows.iter().find(|r| r.item.starts_with("HTTP API requests")).unwrap().quantity.clone();
        assert_eq!(gateway(&through_gateway), format!("{:.0} M", (gps_requests + booking_requests) / 1e6));
        assert_eq!(gateway(&through_url), format!("{:.0} M", booking_requests / 1e6));
        let access = |rows: &[Row]| usd(rows, "logs: an access log line");
        let ratio = access(&through_url) / access(&through_gateway);
        assert!((ratio - booking_requests / (gps_requests + booking_requests)).abs() < 1e-9, "{ratio}");
    }

    #[test]
    fn provisioned_gps_tables_cost_the_capacity_that_keeps_the_counted_rate_at_the_target_utilisation() {
        // GIVEN 1,000 drivers (200 points a second at 0.5 write and 0.1 read units each) on the
        // standard profile, whose tables with a steady load are provisioned at 70 %
        let rows = priced(&scale(1000.0, 0.0));
        // THEN the writes cost 100 / 0.7 write units for the month, the reads 20 / 0.7 read units
        let hours = 730.0;
        assert!((usd(&rows, "GPS writes") - 100.0 / 0.7 * hours * 0.00065).abs() < 1e-6);
        assert!((usd(&rows, "GPS reads") - 20.0 / 0.7 * hours * 0.00013).abs() < 1e-6);
        // AND idle, each of the three steady tables keeps its minimum of 5 units
        let idle = priced(&scale(0.0, 0.0));
        assert!((usd(&idle, "GPS writes") - 3.0 * 5.0 * hours * 0.00065).abs() < 1e-9);
        assert!((usd(&idle, "GPS reads") - 3.0 * 5.0 * hours * 0.00013).abs() < 1e-9);
    }

    #[test]
    fn a_booking_reaching_twice_the_counted_transporters_costs_twice_its_fanout_and_its_creation_once() {
        // GIVEN a fan-out counted for 10 recipients (30 write units) and a creation of 5 write units
        // WHEN a scale's bookings reach 20 transporters each
        let rows = priced(&scale(0.0, 1000.0));
        // THEN each booking writes 5 + 60 units, and pushes 20 times
        let bookings = 1000.0 * 30.0;
        assert!((usd(&rows, "booking writes") - bookings * 65.0 / 1e6 * 0.625).abs() < 1e-9);
        assert!((usd(&rows, "mobile push") - bookings * 20.0 / 1e6 * 0.5).abs() < 1e-9);
    }

    #[test]
    fn brokers_bill_their_volumes_grown_with_the_retained_records_and_what_crosses_a_zone() {
        // GIVEN the standard profile's three brokers of 200 GB, idle, and with 100,000 and
        // 200,000 drivers, whose 7 days of records need more than 60 % of 200 GB
        let (idle, busy, busier) =
            (priced(&scale(0.0, 0.0)), priced(&scale(100_000.0, 0.0)), priced(&scale(200_000.0, 0.0)));
        // THEN idle, the volumes are what they start with
        assert!((usd(&idle, "broker storage") - 3.0 * 200.0 * 0.10).abs() < 1e-9);
        assert_eq!(usd(&idle, "data between zones"), 0.0);
        // AND busy, they grow with the records (each broker a copy of every partition)
        let ratio = usd(&busier, "broker storage") / usd(&busy, "broker storage");
        assert!((ratio - 2.0).abs() < 1e-3, "{ratio}");
        // AND two thirds of the records in and of every consumer group's reads cross a zone, each
        // crossing billed twice
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mappings = weelo_definitions::load_mappings(&root.join("infra/definitions")).unwrap();
        let readers = mappings.iter().filter(|m| m.topic == "location.updated").count() as f64;
        let bytes_in = 100_000.0 / 5.0 * 30.0 * 86_400.0 * 100.0;
        let crossing = bytes_in * (1.0 + readers) / 1e9 * 2.0 / 3.0;
        assert!((usd(&busy, "data between zones") - crossing * 2.0 * 0.01).abs() < 1e-6);
    }

    #[test]
    fn a_scale_whose_records_outgrow_the_brokers_ceiling_is_refused() {
        // GIVEN the small profile's brokers, whose volumes grow to 100 GiB at most, and 100,000 drivers
        let too_many = Scale { profile: "small".into(), ..scale(100_000.0, 0.0) };
        // WHEN it is priced THEN it is refused, naming the ceiling
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let error = Committed::load(&root).unwrap().inputs(&counted()).rows(&too_many).unwrap_err();
        assert!(error.to_string().contains("msk_broker_volume_max_gb"), "{error}");
    }

    #[test]
    fn a_scale_sending_another_request_shape_than_was_counted_is_refused() {
        let mut other = scale(10.0, 0.0);
        other.points_per_request = 1;
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let model: CostModel =
            serde_json::from_str(&std::fs::read_to_string(root.join("infra/cost-model.json")).unwrap()).unwrap();
        let prices = Prices::load(&root).unwrap();
        let counted = counted();
        let inputs =
            Inputs { model: &model, counted: &counted, prices: &prices, topics: &[], mappings: &[], tables: &[] };
        assert!(inputs.rows(&other).is_err());
    }
}
