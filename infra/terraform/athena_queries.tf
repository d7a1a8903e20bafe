# Saved Athena queries of the audit workgroup (athena.tf). Each takes execution parameters (`?`),
# which the Athena console asks for in order when the query runs (or `aws athena
# start-query-execution --execution-parameters`): the first and last archive day as 'yyyy/MM/dd'
# strings (the dt partitions, so a query reads only those days), then what it looks for. Rows are
# counted by CloudEvent id or booking id, so records the archive holds twice count once.
# The event types are those of crates/core/src/contract/events.rs (test_drift_analytics.py checks
# each one used here exists there).

locals {
  audit_table = "${aws_glue_catalog_database.audit.name}.${aws_glue_catalog_table.audit_events.name}"
  # The funnel's steps in order, and their CloudEvents types.
  booking_steps      = ["created", "accepted", "expired", "cancelled", "released", "delivered"]
  booking_event_type = { for step in local.booking_steps : step => "com.weelo.booking.${step}.v1" }
  # One count column per step (the daily funnel's SELECT list).
  funnel_columns = join(",\n  ", [
    for step in local.booking_steps : "count(DISTINCT IF(value.type = '${local.booking_event_type[step]}', value.id)) AS ${step}"
  ])
  # Every topic but location.updated, which carries no booking id and holds ~92 % of the bytes.
  topics_with_bookings = join(", ", [for t in local.topic_defs : "'${t.name}'" if t.name != "location.updated"])
}

resource "aws_athena_named_query" "daily_funnel" {
  name        = "daily-booking-funnel"
  workgroup   = aws_athena_workgroup.audit.name
  database    = aws_glue_catalog_database.audit.name
  description = "Bookings per day and vehicle type: created, accepted, expired, cancelled, released, delivered (distinct events). Parameters: first day, last day ('yyyy/MM/dd'). Days are the events' own (UTC); filter one archive day wider to catch events just after midnight."
  query       = <<-SQL
    -- Daily booking funnel per vehicle type (UTC days of the events).
    -- Parameters, in order: first day, last day, as 'yyyy/MM/dd'.
    SELECT
      date(from_iso8601_timestamp(value.time)) AS day,
      value.data.vehicletype AS vehicle_type,
      ${local.funnel_columns}
    FROM ${local.audit_table}
    WHERE topic = 'booking.events'
      AND dt BETWEEN ? AND ?
      AND value.type IN (${join(", ", [for step in local.booking_steps : "'${local.booking_event_type[step]}'"])})
    GROUP BY 1, 2
    ORDER BY 1, 2
  SQL
}

resource "aws_athena_named_query" "booking_history" {
  name        = "booking-history"
  workgroup   = aws_athena_workgroup.audit.name
  database    = aws_glue_catalog_database.audit.name
  description = "Every archived event of one booking (record key or data.bookingId), oldest first. Parameters: first day, last day ('yyyy/MM/dd'), the booking id, the booking id again."
  query       = <<-SQL
    -- Everything the archive holds about one booking, oldest first.
    -- Parameters, in order: first day, last day ('yyyy/MM/dd'), the booking id, the booking id again.
    SELECT DISTINCT
      from_iso8601_timestamp(value.time) AS event_time,
      topic,
      value.type AS event_type,
      value.data.status AS status,
      value.data.step AS step,
      value.data.transporterid AS transporter_id,
      value.data.recipientid AS push_recipient,
      value.data.kind AS push_kind,
      value.id AS event_id,
      kafka_partition,
      kafka_offset
    FROM ${local.audit_table}
    WHERE topic IN (${local.topics_with_bookings})
      AND dt BETWEEN ? AND ?
      AND (key = ? OR value.data.bookingid = ?)
    ORDER BY event_time, topic, kafka_partition, kafka_offset
  SQL
}

resource "aws_athena_named_query" "transporter_record" {
  name        = "transporter-acceptance-record"
  workgroup   = aws_athena_workgroup.audit.name
  database    = aws_glue_catalog_database.audit.name
  description = "One transporter's bookings per day (UTC): accepted, released, delivered (distinct bookings). Parameters: first day, last day ('yyyy/MM/dd'), the transporter id."
  query       = <<-SQL
    -- One transporter's acceptance record: distinct bookings accepted, released and delivered per day.
    -- Parameters, in order: first day, last day ('yyyy/MM/dd'), the transporter id.
    SELECT
      date(from_iso8601_timestamp(value.time)) AS day,
      count(DISTINCT IF(value.type = '${local.booking_event_type.accepted}', value.data.bookingid)) AS accepted,
      count(DISTINCT IF(value.type = '${local.booking_event_type.released}', value.data.bookingid)) AS released,
      count(DISTINCT IF(value.type = '${local.booking_event_type.delivered}', value.data.bookingid)) AS delivered
    FROM ${local.audit_table}
    WHERE topic = 'booking.events'
      AND dt BETWEEN ? AND ?
      AND value.data.transporterid = ?
      AND value.type IN ('${local.booking_event_type.accepted}', '${local.booking_event_type.released}', '${local.booking_event_type.delivered}')
    GROUP BY 1
    ORDER BY 1
  SQL
}
