# DynamoDB tables, generated from infra/definitions/tables.json: the same file the local
# provisioner (weelo-local provision) reads, so local and AWS tables cannot drift apart.
#
# Every table is on-demand (PAY_PER_REQUEST) except, in the standard profile, the tables marked
# "steadyLoad" (local.steady_tables: positions, geo-cells, location-history, written at the GPS
# stream's steady rate, and push-log, written for every visible push): those have provisioned capacity that Application Auto Scaling moves by
# target tracking (autoscaling.tf, var.steady_table_capacity), which for a load that does not jump
# costs about 2.4 times less than on-demand (docs/deploy.md, section 11). The small profile keeps
# every table on-demand: it aims at the lowest idle floor, and provisioned minimums are billed
# every hour, idle or not.

locals {
  # The one list of provisioned tables: billing mode and capacity below, the scalable targets and
  # policies (autoscaling.tf) and the throttle alarms (alarms.tf) all iterate it. Empty in small.
  steady_tables = { for name, t in local.table_defs : name => t if !local.small && try(t.steadyLoad, false) }
}

resource "aws_dynamodb_table" "this" {
  for_each = local.table_defs

  name                        = "${local.name_prefix}${each.key}"
  billing_mode                = contains(keys(local.steady_tables), each.key) ? "PROVISIONED" : "PAY_PER_REQUEST"
  read_capacity               = contains(keys(local.steady_tables), each.key) ? var.steady_table_capacity.min_read : null
  write_capacity              = contains(keys(local.steady_tables), each.key) ? var.steady_table_capacity.min_write : null
  hash_key                    = each.value.hashKey.name
  range_key                   = try(each.value.rangeKey.name, null)
  deletion_protection_enabled = var.table_deletion_protection

  dynamic "attribute" {
    # Every key attribute of the table and its indexes, declared once.
    for_each = {
      for a in concat(
        [each.value.hashKey],
        try([each.value.rangeKey], []),
        flatten([for i in each.value.globalSecondaryIndexes : concat([i.hashKey], try([i.rangeKey], []))]),
      ) : a.name => a.type...
    }
    content {
      name = attribute.key
      type = attribute.value[0]
    }
  }

  # An index's keys as key_schema blocks, HASH first: the provider deprecates an index's hash_key and
  # range_key (6.29). The table's own hash_key and range_key above are not deprecated and have no
  # key_schema equivalent (provider 6.47.1).
  dynamic "global_secondary_index" {
    for_each = each.value.globalSecondaryIndexes
    content {
      name = global_secondary_index.value.name
      key_schema {
        attribute_name = global_secondary_index.value.hashKey.name
        key_type       = "HASH"
      }
      dynamic "key_schema" {
        for_each = try([global_secondary_index.value.rangeKey], [])
        content {
          attribute_name = key_schema.value.name
          key_type       = "RANGE"
        }
      }
      projection_type    = global_secondary_index.value.projection
      non_key_attributes = try(global_secondary_index.value.nonKeyAttributes, null)
    }
  }

  # No TTL when ttlAttribute is null or absent (as crates/definitions reads it: an Option).
  dynamic "ttl" {
    for_each = try(each.value.ttlAttribute, null) == null ? [] : [each.value.ttlAttribute]
    content {
      attribute_name = ttl.value
      enabled        = true
    }
  }

  point_in_time_recovery {
    enabled = true
  }

  # The stack's own key rather than the AWS-owned one: access to the data can then be audited and
  # revoked in one key policy (kms.tf).
  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.main.arn
  }

  lifecycle {
    # Once a provisioned table exists its capacity is Application Auto Scaling's (autoscaling.tf):
    # an apply must never set it back to the minimums. The capacities set above matter only when a
    # table is created. An existing on-demand table that becomes provisioned (small switched to
    # standard, or a table newly marked steadyLoad) gets no capacity from the plan, since the
    # change is ignored: the AWS provider then starts it at 1 read and 1 write unit
    # (hashicorp/terraform-provider-aws#22630, "special case for changing billing mode with
    # autoscaling") and registering the scalable targets raises it to the minimums
    # (RegisterScalableTarget brings the current capacity into [min, max]). An on-demand table has
    # no capacity, so nothing is ignored there. DynamoDB limits how often a table can switch back:
    # from provisioned to on-demand at most four times in a rolling 24 hours (on-demand to
    # provisioned at any time), so do not flip deployment_profile back and forth.
    ignore_changes = [read_capacity, write_capacity]

    # Auto scaling covers the table's own capacity only. An index of a provisioned table has a
    # capacity of its own (global_secondary_index read_capacity/write_capacity), which
    # ignore_changes cannot single out inside the set of indexes: scaling it would mean ignoring
    # every index change tables.json makes. So a steady table with an index is refused, in both
    # profiles, rather than deployed with an index that throttles at a fixed capacity; giving it
    # scalable targets of its own (dynamodb:index:*, table/<name>/index/<index>) is the change that
    # lifts this.
    precondition {
      condition     = !(try(each.value.steadyLoad, false) && length(each.value.globalSecondaryIndexes) > 0)
      error_message = "Table ${each.key} has \"steadyLoad\" and a global secondary index: auto scaling (autoscaling.tf) covers tables, not indexes. Remove one of them from tables.json, or give the index scalable targets first."
    }
  }
}

locals {
  # TABLE_* for every function that links weelo-dynamo: Tables::from_env requires all eleven names
  # even in a function that touches two tables. IAM (iam.tf) is still scoped per table.
  table_env = { for name, t in local.table_defs : t.env => aws_dynamodb_table.this[name].name }
}
