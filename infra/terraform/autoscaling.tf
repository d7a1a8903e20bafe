# Auto scaling of the provisioned tables (standard profile; dynamodb.tf, local.steady_tables): one
# Application Auto Scaling target and one target-tracking policy per table and capacity, read and
# write apart, keyed "<table>/read" and "<table>/write". Each policy keeps the table's consumed
# capacity near target_utilization_percent of its provisioned capacity, between the minimum and
# maximum of var.steady_table_capacity; the table's own read_capacity/write_capacity are ignored
# after creation (dynamodb.tf), so an apply never fights the scaling. Nothing here in the small
# profile, where every table is on-demand.
#
# No role_arn: registering a DynamoDB target makes Application Auto Scaling use, and create on first
# use, its service-linked role AWSServiceRoleForApplicationAutoScaling_DynamoDBTable (Application
# Auto Scaling guide, "Amazon DynamoDB and Application Auto Scaling"); the provider needs none.
# Tables only: a steady table with a global secondary index is refused by a precondition in
# dynamodb.tf (why is written there). Throttling of these tables is alarmed in alarms.tf.

locals {
  steady_capacity_kinds = {
    read = {
      dimension       = "dynamodb:table:ReadCapacityUnits"
      metric          = "DynamoDBReadCapacityUtilization"
      throttle_metric = "ReadThrottleEvents"
      min             = var.steady_table_capacity.min_read
      max             = var.steady_table_capacity.max_read
    }
    write = {
      dimension       = "dynamodb:table:WriteCapacityUnits"
      metric          = "DynamoDBWriteCapacityUtilization"
      throttle_metric = "WriteThrottleEvents"
      min             = var.steady_table_capacity.min_write
      max             = var.steady_table_capacity.max_write
    }
  }

  # "<table>/read" and "<table>/write" for every steady table; empty in the small profile.
  steady_capacity = {
    for pair in setproduct(keys(local.steady_tables), keys(local.steady_capacity_kinds)) :
    "${pair[0]}/${pair[1]}" => merge(local.steady_capacity_kinds[pair[1]], { table = pair[0], kind = pair[1] })
  }
}

resource "aws_appautoscaling_target" "steady_table" {
  for_each = local.steady_capacity

  service_namespace  = "dynamodb"
  scalable_dimension = each.value.dimension
  resource_id        = "table/${aws_dynamodb_table.this[each.value.table].name}"
  min_capacity       = each.value.min
  max_capacity       = each.value.max
}

resource "aws_appautoscaling_policy" "steady_table" {
  for_each = local.steady_capacity

  name               = "${local.name_prefix}${each.value.table}-${each.value.kind}-capacity"
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
