# The analytics dashboard: the booking funnel and its delays, order trucks, pushes and GPS activity
# (the analytics function's metrics, analytics.tf), and the health of every consumer (lag, errors,
# failed records). The body is built here with jsonencode: the consumer widgets loop over the
# functions of event-source-mappings.json (local.consumers, alarms.tf), and analytics metrics are
# named only through local.analytics_metric, so the dashboard shows what the code emits.
#
# Breakdowns by City and VehicleType are SEARCH expressions ({namespace,City} ...): they show every
# value the function emits (the cities of var.analytics_cities and its catch-all, the vehicle
# types) without this file listing them. Every datapoint sits in the minute its event happened.

locals {
  dashboard_name = "${local.name_prefix}analytics"

  # [namespace, metric] of an analytics metric's total (no dimension); a chart appends its options.
  analytics_total = { for name in keys(local.analytics_metric) : name => [local.analytics_namespace, name] }

  # One SEARCH per metric and dimension: every series of that dimension set.
  analytics_search = {
    for pair in setproduct(keys(local.analytics_metric), ["City", "VehicleType"]) : "${pair[0]}/${pair[1]}" =>
    "SEARCH('{${local.analytics_namespace},${pair[1]}} MetricName=\"${pair[0]}\"', 'Sum', 60)"
  }

  funnel_steps = ["BookingsCreated", "BookingsOffered", "BookingsAccepted", "BookingsExpired", "BookingsCancelled", "BookingsReleased", "BookingsDelivered"]

  dashboard_charts = [
    {
      title   = "Booking funnel per minute (all cities and vehicle types)"
      metrics = [for step in local.funnel_steps : concat(local.analytics_total[local.analytics_metric[step]], [{ label = trimprefix(step, "Bookings") }])]
    },
    {
      title                = "Booking funnel, totals over the time range"
      view                 = "singleValue"
      setPeriodToTimeRange = true
      metrics              = [for step in local.funnel_steps : concat(local.analytics_total[local.analytics_metric[step]], [{ label = trimprefix(step, "Bookings") }])]
    },
    {
      title  = "Acceptance rate: accepted / created, % per 5 minutes"
      period = 300
      yAxis  = { left = { min = 0, max = 100 } }
      metrics = [
        [{ id = "rate", label = "accepted / created %", expression = "IF(created > 0, 100 * FILL(accepted, 0) / created)" }],
        concat(local.analytics_total[local.analytics_metric.BookingsCreated], [{ id = "created", visible = false }]),
        concat(local.analytics_total[local.analytics_metric.BookingsAccepted], [{ id = "accepted", visible = false }]),
      ]
    },
    {
      title   = "Time to accept (ms): p50, p90, max"
      metrics = [for stat in ["p50", "p90", "Maximum"] : concat(local.analytics_total[local.analytics_metric.TimeToAccept], [{ stat = stat, label = stat }])]
    },
    {
      title   = "Time to first offer (ms): p50, p90, max"
      metrics = [for stat in ["p50", "p90", "Maximum"] : concat(local.analytics_total[local.analytics_metric.TimeToFirstOffer], [{ stat = stat, label = stat }])]
    },
    {
      title = "Expiries per minute: bookings by vehicle type, order trucks"
      metrics = [
        [{ id = "byType", expression = local.analytics_search["${local.analytics_metric.BookingsExpired}/VehicleType"] }],
        concat(local.analytics_total[local.analytics_metric.BookingsExpired], [{ label = "bookings, all" }]),
        concat(local.analytics_total[local.analytics_metric.TrucksExpired], [{ label = "order trucks, all" }]),
      ]
    },
    {
      title  = "Transporters reached per offered booking (per 5 minutes)"
      period = 300
      metrics = [
        [{ id = "perOffer", label = "transporters reached / booking offered", expression = "reached / offered" }],
        concat(local.analytics_total[local.analytics_metric.TransportersReached], [{ id = "reached", visible = false }]),
        concat(local.analytics_total[local.analytics_metric.BookingsOffered], [{ id = "offered", visible = false }]),
      ]
    },
    {
      title   = "Bookings created per minute, by city"
      metrics = [[{ id = "byCity", expression = local.analytics_search["${local.analytics_metric.BookingsCreated}/City"] }]]
    },
    {
      title   = "Bookings created per minute, by vehicle type"
      metrics = [[{ id = "byType", expression = local.analytics_search["${local.analytics_metric.BookingsCreated}/VehicleType"] }]]
    },
    {
      title   = "Order trucks per minute"
      metrics = [for name in local.analytics_metrics.trucks : concat(local.analytics_total[local.analytics_metric[name]], [{ label = trimprefix(name, "Trucks") }])]
    },
    {
      title = "Pushes sent per minute (fcm-consumer)"
      metrics = [
        [local.metrics_namespace, "Pushed", "Function", "fcm-consumer", { label = "pushed" }],
        [local.metrics_namespace, "PushFailed", "Function", "fcm-consumer", { label = "failed" }],
      ]
    },
    {
      title = "GPS points per second, active trucks per minute"
      metrics = [
        [{ id = "perSecond", label = "GPS points / s", expression = "gps / 60" }],
        concat(local.analytics_total[local.analytics_metric.GpsPoints], [{ id = "gps", visible = false }]),
        concat(local.analytics_total[local.analytics_metric.ActiveTrucks], [{ label = "active trucks", yAxis = "right" }]),
      ]
    },
    {
      title   = "Consumer lag: OffsetLag (records, max per function)"
      stat    = "Maximum"
      metrics = [for f in sort(tolist(local.consumers)) : ["AWS/Lambda", "OffsetLag", "FunctionName", aws_lambda_function.this[f].function_name, { label = f }]]
    },
    {
      title   = "Consumer invocation errors (AWS/Lambda Errors)"
      metrics = [for f in sort(tolist(local.consumers)) : ["AWS/Lambda", "Errors", "FunctionName", aws_lambda_function.this[f].function_name, { label = f }]]
    },
    {
      title   = "Failed records per consumer (${local.metrics_namespace} Failed)"
      metrics = [for f in sort(tolist(local.consumers)) : [local.metrics_namespace, "Failed", "Function", f, { label = f }]]
    },
  ]

  dashboard_intro = join("\n", [
    "## Weelo analytics (${var.environment})",
    "Booking funnel, delays, order trucks and GPS from the analytics consumer (namespace `${local.analytics_namespace}`; each datapoint is the minute its event happened, so a consumer catching up fills in the past). Cities: ${join(", ", concat(local.analytics_city_names, ["other"]))}. Alarms: `${local.name_prefix}analytics-acceptance-rate`, `${local.name_prefix}analytics-time-to-accept-p90`. SQL over the audit archive: Athena workgroup `${local.athena_workgroup_name}`, database `${local.glue_database_name}` (saved queries: daily funnel, booking history, transporter record).",
  ])

  dashboard_body = jsonencode({
    widgets = concat(
      [{ type = "text", x = 0, y = 0, width = 24, height = 2, properties = { markdown = local.dashboard_intro } }],
      [for i, chart in local.dashboard_charts : {
        type   = "metric"
        x      = (i % 2) * 12
        y      = 2 + floor(i / 2) * 6
        width  = 12
        height = 6
        # Defaults: a line graph of per-minute sums; a chart overrides what it sets.
        properties = merge({ view = "timeSeries", stacked = false, region = var.region, stat = "Sum", period = 60 }, chart)
      }],
    )
  })
}

resource "aws_cloudwatch_dashboard" "analytics" {
  dashboard_name = local.dashboard_name
  dashboard_body = local.dashboard_body
}
