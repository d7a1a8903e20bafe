# The analytics consumer's metrics and their alarms. The function itself is generated like every
# other one from `functions` in lambda.tf (role, log group, mappings and their consumer groups,
# DLQ, the generic alarms of alarms.tf); this file holds what only analytics has.
#
# It writes CloudWatch Embedded Metric Format lines like every function (crates/telemetry), in its
# own namespace, METRICS_NAMESPACE + "/Analytics" (Weelo/<environment>/Analytics), at 1-minute
# resolution, each document timestamped with its event's minute rather than the processing time:
# a consumer that catches up after a lag fills in the minutes the events happened in. Alarms
# evaluate the latest windows, so data arriving for a window already judged no longer moves them;
# the dashboard shows it.
#
# Dimension sets (emitted by the function; the dashboard and alarms read them):
#   funnel and delays   ["City"], ["VehicleType"] and [] (no dimension: the total)
#   trucks              ["VehicleType"] and []
#   gps                 [] only
# Each combination is one custom metric (README.md, "Analytics": ~150 series, ~$45 a month).

locals {
  analytics_namespace = "${local.metrics_namespace}/Analytics"

  # The metric names the function emits, by group: the list in
  # crates/core/src/usecases/analytics/metrics.rs, which infra/checks/test_drift_analytics.py keeps
  # equal to this one. The dashboard and the alarms name metrics only through
  # local.analytics_metric.<Name>, so a name that is not in this list fails the plan.
  analytics_metrics = {
    # unit Count: bookings per step, and the transporters each offer reached.
    funnel = ["BookingsCreated", "BookingsOffered", "TransportersReached", "BookingsAccepted", "BookingsExpired", "BookingsCancelled", "BookingsReleased", "BookingsDelivered"]
    # unit Milliseconds, per booking: creation to first offer, creation to first accept.
    delays = ["TimeToFirstOffer", "TimeToAccept"]
    # unit Count: order trucks per step.
    trucks = ["TrucksRequested", "TrucksAccepted", "TrucksExpired", "TrucksCancelled"]
    # unit Count: GPS points, and trucks that sent one, per minute.
    gps = ["GpsPoints", "ActiveTrucks"]
  }
  analytics_metric = { for name in flatten(values(local.analytics_metrics)) : name => name }

  # The City dimension's values besides the catch-all "other" (var.analytics_cities:
  # name:lat,lng,radiusKm;...).
  analytics_city_names = [for c in compact(split(";", var.analytics_cities)) : split(":", c)[0]]

  # Fewer bookings created than this in a window and its acceptance rate is not judged.
  analytics_acceptance_min_created = 10
}

# Acceptance rate: accepts / bookings created in each 15-minute window, in percent. Only meaningful
# when bookings were created, so the expression's IF has no "else": a window with fewer than
# analytics_acceptance_min_created bookings created (none at all included, where BookingsCreated
# has no datapoint) yields no datapoint, and missing data is notBreaching, so a quiet night, a
# stopped consumer or a new stack never pages here (the generic mapping and function alarms of
# alarms.tf cover the consumer itself). FILL(accepted, 0) is needed the other way round: a window
# with bookings and not one accept must read 0 %, not "no data". Accepts land in the minute they
# happen, so a window's ratio is a little low for bookings created near its end; two consecutive
# windows must breach.
resource "aws_cloudwatch_metric_alarm" "analytics_acceptance_rate" {
  alarm_name          = "${local.name_prefix}analytics-acceptance-rate"
  alarm_description   = "Fewer than ${var.analytics_min_acceptance_rate_percent} % of the bookings created were accepted, in two consecutive 15-minute windows of at least ${local.analytics_acceptance_min_created} bookings: too few transporters reached (analytics dashboard: transporters reached per offer, expiries), or pushes failing."
  evaluation_periods  = 2
  datapoints_to_alarm = 2
  threshold           = var.analytics_min_acceptance_rate_percent
  comparison_operator = "LessThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  metric_query {
    id          = "rate"
    label       = "Bookings accepted / created %"
    expression  = "IF(created >= ${local.analytics_acceptance_min_created}, 100 * FILL(accepted, 0) / created)"
    return_data = true
  }

  dynamic "metric_query" {
    for_each = { created = local.analytics_metric.BookingsCreated, accepted = local.analytics_metric.BookingsAccepted }
    content {
      id = metric_query.key
      metric {
        namespace   = local.analytics_namespace
        metric_name = metric_query.value
        stat        = "Sum"
        period      = 900
      }
    }
  }
}

# Time to accept, p90 over all bookings (the dimensionless total), in each of three 5-minute
# windows. No accepts, no datapoint: notBreaching (the acceptance-rate alarm covers "none at all").
# Percentiles over too few samples are not judged ("ignore" keeps the state).
resource "aws_cloudwatch_metric_alarm" "analytics_time_to_accept" {
  alarm_name                            = "${local.name_prefix}analytics-time-to-accept-p90"
  alarm_description                     = "The p90 time from a booking's creation to its accept stayed above ${var.analytics_max_time_to_accept_seconds} s for 15 minutes: transporters answer slowly or are offered late (analytics dashboard: time to first offer)."
  namespace                             = local.analytics_namespace
  metric_name                           = local.analytics_metric.TimeToAccept
  extended_statistic                    = "p90"
  period                                = 300
  evaluation_periods                    = 3
  datapoints_to_alarm                   = 3
  threshold                             = var.analytics_max_time_to_accept_seconds * 1000 # the metric is in milliseconds
  comparison_operator                   = "GreaterThanThreshold"
  treat_missing_data                    = "notBreaching"
  evaluate_low_sample_count_percentiles = "ignore"
  alarm_actions                         = local.alarm_actions
  ok_actions                            = local.alarm_actions
}
