//! The rows of a month's bill, one function per part of the stack (`Inputs::rows` calls them).

use super::model::{Inputs, Load, Profile, Row, Scale};
use std::collections::BTreeMap;

impl Inputs<'_> {
    pub(super) fn lambda(&self, scale: &Scale, profile: &Profile, load: &Load) -> anyhow::Result<Vec<Row>> {
        let (booking, gps) = (&self.counted.booking, &self.counted.gps);
        let booking_requests = load.bookings * self.model.api_requests_per_booking;
        // The same code either way (gps-ingest runs the api's binary), priced at each function's memory.
        let gps_function = if scale.gps_through_function_url { "gps-ingest" } else { "api" };
        let gps_usd = self.prices.lambda(gps_function, gps.api_seconds_per_request, load.gps_requests)?;
        let booking_usd = self.prices.lambda("api", booking.api_seconds, booking_requests)?;
        let (location_batches, push_batches) = (load.location_batches, load.push_batches);
        let location_seconds = load.points * gps.consumer_seconds_per_point;
        let push_seconds = load.bookings * booking.push_seconds * load.fanout_share;
        let sweeps = self.model.hours_per_month * 60.0;
        let points = scale.points_per_request;
        let requests = if scale.gps_through_function_url {
            vec![
                row("Lambda", "api", format!("{:.1} M requests (a booking's)", booking_requests / 1e6), booking_usd),
                row(
                    "Lambda",
                    "gps-ingest",
                    format!("{:.0} M requests ({points} GPS points each, through its URL)", load.gps_requests / 1e6),
                    gps_usd,
                ),
            ]
        } else {
            let what = format!("{:.0} M requests ({points} GPS points each, or a booking's)", load.api_requests / 1e6);
            vec![row("Lambda", "api", what, gps_usd + booking_usd)]
        };
        Ok(requests
            .into_iter()
            .chain([
                row(
                    "Lambda",
                    "location-consumer",
                    format!("{:.1} M batches, {location_seconds:.0} s", location_batches / 1e6),
                    self.per_batch("location-consumer", location_seconds, location_batches)?,
                ),
                row(
                    "Lambda",
                    "order-fanout",
                    format!("{:.1} M bookings", load.bookings / 1e6),
                    self.prices.lambda("order-fanout", booking.fanout_seconds * load.fanout_share, load.bookings)?,
                ),
                row(
                    "Lambda",
                    "fcm-consumer",
                    format!("{:.1} M batches, {push_seconds:.0} s", push_batches / 1e6),
                    self.per_batch("fcm-consumer", push_seconds, push_batches)?,
                ),
                row(
                    "Lambda",
                    "deadline sweeper",
                    format!("{sweeps} runs × {} s", self.model.sweeper_seconds_per_minute),
                    self.prices.lambda("deadline-sweeper", self.model.sweeper_seconds_per_minute, sweeps)?,
                ),
                self.pollers(profile)?,
            ])
            .collect())
    }

    /// Invocations of `function`'s mapping on `topic` for `records` a month: one per partition
    /// per batching window while records arrive, at most one per record.
    pub(super) fn batches(&self, function: &str, topic: &str, records: f64, seconds: f64) -> f64 {
        let window = self
            .mappings
            .iter()
            .find(|m| m.function == function && m.topic == topic)
            .map_or(1, |m| m.maximum_batching_window_seconds.max(1)) as f64;
        let partitions = self.topics.iter().find(|t| t.name == topic).map_or(1.0, |t| f64::from(t.partitions));
        records.min(partitions * seconds / window)
    }

    fn per_batch(&self, function: &str, seconds: f64, batches: f64) -> anyhow::Result<f64> {
        if batches <= 0.0 {
            return Ok(0.0);
        }
        self.prices.lambda(function, seconds / batches, batches)
    }

    /// The event pollers: the EPUs of the minimum pollers in provisioned mode, none in on-demand.
    fn pollers(&self, profile: &Profile) -> anyhow::Result<Row> {
        if profile.on_demand_mappings()? {
            let what = format!("{} mappings, pollers scaled by Lambda, none billed", self.mappings.len());
            return Ok(row("Lambda", "event pollers (on-demand mode)", what, 0.0));
        }
        let groups = self.poller_groups(profile);
        let epus: f64 = groups.values().map(|pollers| (pollers / 10.0).ceil()).sum();
        let hours = self.model.hours_per_month;
        Ok(row(
            "Lambda",
            "event pollers (provisioned mode, one poller a mapping)",
            format!("{} mappings in {} group(s) → {epus} EPU × {hours} h", self.mappings.len(), groups.len()),
            epus * hours * self.usd("lambdaEventPollerUnitHour")?,
        ))
    }

    /// Pollers in each poller group (one a mapping, the minimum).
    fn poller_groups(&self, profile: &Profile) -> BTreeMap<String, f64> {
        let mut groups = BTreeMap::new();
        for mapping in self.mappings {
            let group = match profile.poller_groups.as_str() {
                "one" => "all".to_owned(),
                "function" => mapping.function.clone(),
                _ => mapping.poller_group.clone(),
            };
            *groups.entry(group).or_default() += 1.0;
        }
        groups
    }

    pub(super) fn edges(&self, scale: &Scale, profile: &Profile, load: &Load) -> anyhow::Result<Vec<Row>> {
        let model = self.model;
        let pushes = load.bookings * self.counted.booking.fanout.publishes / self.counted.booking.recipients.max(1.0)
            * scale.recipients_per_booking
            + load.trips * self.counted.trip.served.publishes * load.trip_share;
        let on_demand = profile.on_demand_mappings()?;
        let endpoints = model.interface_endpoints + if on_demand { model.on_demand_endpoints } else { 0.0 };
        let endpoint_hours = endpoints * profile.endpoint_zones * model.hours_per_month;
        let access_gb = load.gateway_requests * model.access_log_bytes_per_request / 1e9;
        let emf_gb = (load.invocations * model.emf_bytes_per_invocation
            + load.held_metric_lines * model.emf_bytes_per_held_line)
            / 1e9;
        let (access_class, access_price) = match model.access_log_class.as_str() {
            "INFREQUENT_ACCESS" => ("Infrequent Access", "cloudwatchLogsIngestionGbInfrequentAccess"),
            "STANDARD" => ("Standard", "cloudwatchLogsIngestionGb"),
            other => anyhow::bail!("cost-model.json: unknown accessLogClass {other:?}"),
        };
        let users = (scale.monthly_active_users - model.free_monthly_active_users).max(0.0);
        let tier = if scale.cognito_tier == "lite" { "cognitoMauLite" } else { "cognitoMauEssentials" };
        let metrics = if load.bookings > 0.0 { model.custom_metric_series } else { 0.0 };
        let throttle = self.throttle_alarm_metrics(profile);
        let alarms = model.alarm_metrics + throttle as f64;
        Ok(vec![
            row(
                "SNS",
                "mobile push",
                format!("{:.0} M publishes (counted: offers, trip steps, taken)", pushes / 1e6),
                pushes / 1e6 * self.usd("snsMobilePushPerMillion")?,
            ),
            row(
                "API Gateway",
                "HTTP API requests (above 300 M a month at the lower price)",
                format!("{:.0} M", load.gateway_requests / 1e6),
                self.gateway_requests_usd(load.gateway_requests)?,
            ),
            row(
                "Cognito",
                &format!("monthly active users, {} tier", scale.cognito_tier),
                format!("{users:.0} above the free {}", model.free_monthly_active_users),
                users * self.usd(tier)?,
            ),
            row(
                "VPC",
                if on_demand {
                    "interface endpoints (SNS, SQS, cognito-idp; Lambda, STS for the on-demand pollers)"
                } else {
                    "interface endpoints (SNS, SQS, cognito-idp)"
                },
                format!("{endpoint_hours} endpoint-zone hours"),
                endpoint_hours * self.usd("vpcInterfaceEndpointHour")?,
            ),
            row(
                "CloudWatch",
                &format!("logs: an access log line a request ({access_class} class)"),
                format!("{access_gb:.0} GB"),
                access_gb * self.usd(access_price)?,
            ),
            row(
                "CloudWatch",
                if load.held_metric_lines > 0.0 {
                    "logs: one EMF line an invocation, gps-ingest's one per 64 requests (Standard class: metrics are extracted from it)"
                } else {
                    "logs: one EMF line an invocation (Standard class: metrics are extracted from it)"
                },
                format!("{emf_gb:.0} GB"),
                emf_gb * self.usd("cloudwatchLogsIngestionGb")?,
            ),
            row(
                "CloudWatch",
                "alarms, custom metrics, dashboard",
                format!("{alarms} alarm metrics ({throttle} on provisioned capacity), {metrics} series"),
                alarms * self.usd("cloudwatchAlarmMonth")?
                    + metrics * self.usd("cloudwatchCustomMetricMonth")?
                    + self.usd("cloudwatchDashboardMonth")?,
            ),
            row("KMS", "the stack's key", "1 key".to_owned(), self.usd("kmsKeyMonth")?),
        ])
    }

    /// HTTP API requests: the first 300 million of a month at the first tier's price, the rest at
    /// the second's.
    fn gateway_requests_usd(&self, requests: f64) -> anyhow::Result<f64> {
        const FIRST_TIER: f64 = 300e6;
        let first = requests.min(FIRST_TIER) / 1e6 * self.usd("apiGatewayHttpRequestsPerMillion")?;
        Ok(first + (requests - FIRST_TIER).max(0.0) / 1e6 * self.usd("apiGatewayHttpRequestsPerMillionAbove300M")?)
    }

    pub(super) fn archive(&self, load: &Load) -> anyhow::Result<Vec<Row>> {
        let records: f64 = load.records.values().sum();
        let gb = (load.kafka_bytes.values().sum::<f64>() + records * self.model.archive_bytes_per_record) / 1e9;
        let objects: f64 = self
            .mappings
            .iter()
            .filter(|m| m.function == "audit-consumer")
            .map(|m| {
                self.batches(
                    "audit-consumer",
                    &m.topic,
                    load.records.get(&m.topic).copied().unwrap_or_default(),
                    load.seconds,
                )
            })
            .sum();
        Ok(vec![
            row(
                "Audit archive",
                "S3 storage, first month (grows every month: 7 years kept)",
                format!("{gb:.0} GB"),
                gb * self.usd("s3StandardGbMonth")?,
            ),
            row(
                "Audit archive",
                "S3 PUTs (an object a partition a batch)",
                format!("{:.1} M", objects / 1e6),
                objects / 1000.0 * self.usd("s3PutPerThousand")?,
            ),
        ])
    }
}

pub(super) fn row(part: &'static str, item: &str, quantity: String, usd: f64) -> Row {
    Row { part, item: item.to_owned(), quantity, usd }
}
