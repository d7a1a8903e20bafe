# Auto scaling of the provisioned tables (standard profile; dynamodb.tf, local.steady_tables): one
# Application Auto Scaling target and one target-tracking policy per table and capacity, read and
# write apart, keyed "<table>/read" and "<table>/write", and the same for each of the table's
# global secondary indexes, keyed "<table>/<index>/read" and "<table>/<index>/write" (an index of
# a provisioned table has a capacity of its own, and a write the index cannot take is throttled
# on the table too). Each policy keeps the table's (or index's) consumed
# capacity near target_utilization_percent of its provisioned capacity, between the minimum and
# maximum of var.steady_table_capacity; the table's own read_capacity/write_capacity are ignored
# after creation (dynamodb.tf), so an apply never fights the scaling. Nothing here in the small
# profile, where every table is on-demand.
#
# No role_arn: registering a DynamoDB target makes Application Auto Scaling use, and create on first
# use, its service-linked role AWSServiceRoleForApplicationAutoScaling_DynamoDBTable (Application
# Auto Scaling guide, "Amazon DynamoDB and Application Auto Scaling"); the provider needs none.
# The indexes' capacity is left alone by applies (the `indexed` table resource, dynamodb.tf, says
# why it is a resource of its own). Throttling of these tables and indexes is alarmed in alarms.tf.

locals {
  steady_capacity_kinds = {
    read = {
      dimension       = "ReadCapacityUnits"
      metric          = "DynamoDBReadCapacityUtilization"
      throttle_metric = "ReadThrottleEvents"
      min             = var.steady_table_capacity.min_read
      max             = var.steady_table_capacity.max_read
    }
    write = {
      dimension       = "WriteCapacityUnits"
      metric          = "DynamoDBWriteCapacityUtilization"
      throttle_metric = "WriteThrottleEvents"
      min             = var.steady_table_capacity.min_write
      max             = var.steady_table_capacity.max_write
    }
  }

  # What scales: every steady table, and every index of one (index null for the table itself).
  steady_scaled = concat(
    [for name, t in local.steady_tables : { table = name, index = null }],
    flatten([for name, t in local.steady_tables : [for i in t.globalSecondaryIndexes : { table = name, index = i.name }]]),
  )

  # "<table>/read", "<table>/write", "<table>/<index>/read", "<table>/<index>/write" for every
  # steady table and index; empty in the small profile. `scope` is "table" or "index", `path` the
  # key's part before the kind.
  steady_capacity = {
    for pair in setproduct(local.steady_scaled, keys(local.steady_capacity_kinds)) :
    join("/", compact([pair[0].table, pair[0].index, pair[1]])) => merge(
      local.steady_capacity_kinds[pair[1]],
      pair[0],
      {
        kind  = pair[1]
        scope = pair[0].index == null ? "table" : "index"
        path  = join("/", compact([pair[0].table, pair[0].index]))
      },
    )
  }
}

resource "aws_appautoscaling_target" "steady_table" {
  for_each = local.steady_capacity

  service_namespace  = "dynamodb"
  scalable_dimension = "dynamodb:${each.value.scope}:${each.value.dimension}"
  resource_id        = join("/index/", compact(["table/${local.tables[each.value.table].name}", each.value.index]))
  min_capacity       = each.value.min
  max_capacity       = each.value.max
}

resource "aws_appautoscaling_policy" "steady_table" {
  for_each = local.steady_capacity

  name               = "${local.name_prefix}${replace(each.value.path, "/", "-")}-${each.value.kind}-capacity"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.steady_table[each.key].service_namespace
  scalable_dimension = aws_appautoscaling_target.steady_table[each.key].scalable_dimension
  resource_id        = aws_appautoscaling_target.steady_table[each.key].resource_id

  # Scale-in stays on (the default), so the capacity follows the load down too; DynamoDB limits
  # how many times a day a table's capacity can be decreased, and auto scaling works within that.
  target_tracking_scaling_policy_configuration {
    target_value = var.steady_table_capacity.target_utilization_percent
    predefined_metric_specification {
      predefined_metric_type = each.value.metric
    }
  }
}
