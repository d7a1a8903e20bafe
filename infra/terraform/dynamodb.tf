# DynamoDB tables, generated from infra/definitions/tables.json: the same file the local
# provisioner (weelo-local provision) reads, so local and AWS tables cannot drift apart.
#
# Every table is on-demand (PAY_PER_REQUEST) except, in the standard profile, the tables marked
# "steadyLoad" (local.steady_tables: positions, geo-cells, location-history, written at the GPS
# stream's steady rate, and push-log and offers, written for every transporter a booking reaches):
# those and their indexes have provisioned capacity that Application Auto Scaling moves by
# target tracking (autoscaling.tf, var.steady_table_capacity), which for a load that does not jump
# costs about 2.4 times less than on-demand (docs/deploy.md, section 11). The small profile keeps
# every table on-demand: it aims at the lowest idle floor, and provisioned minimums are billed
# every hour, idle or not.

locals {
  # The one list of provisioned tables: billing mode and capacity below, the scalable targets and
  # policies (autoscaling.tf) and the throttle alarms (alarms.tf) all iterate it. Empty in small.
  steady_tables = { for name, t in local.table_defs : name => t if !local.small && try(t.steadyLoad, false) }

  # The steadyLoad tables with global secondary indexes (offers), in both profiles. An index of a
  # provisioned table has a capacity of its own, which auto scaling moves (autoscaling.tf) and an
  # apply must then leave alone; but ignore_changes cannot single out the capacity inside the set
  # of indexes. So these tables are a resource of their own, `indexed`, that ignores its indexes
  # after creation, and every other table stays in `this`, whose index changes apply as usual.
  # The price, for these tables only: an index added, changed or removed in tables.json is created
  # with the table but not applied to an existing one (docs/deploy.md, "Changing a steady table's
  # indexes", says how). Membership does not depend on the profile, so switching profiles never
  # moves a table between the two resources.
  indexed_tables = { for name, t in local.table_defs : name => t if try(t.steadyLoad, false) && length(t.globalSecondaryIndexes) > 0 }
  plain_tables   = { for name, t in local.table_defs : name => t if !contains(keys(local.indexed_tables), name) }

  # Every table, whichever resource holds it: what the rest of the configuration reads.
  tables = merge(aws_dynamodb_table.this, aws_dynamodb_table.indexed)

  # Every key attribute of a table and its indexes, declared once.
  table_attributes = {
    for name, t in local.table_defs : name => {
      for a in concat(
        [t.hashKey],
        try([t.rangeKey], []),
        flatten([for i in t.globalSecondaryIndexes : concat([i.hashKey], try([i.rangeKey], []))]),
      ) : a.name => a.type...
    }
  }
}

resource "aws_dynamodb_table" "this" {
  for_each = local.plain_tables

  name                        = "${local.name_prefix}${each.key}"
  billing_mode                = contains(keys(local.steady_tables), each.key) ? "PROVISIONED" : "PAY_PER_REQUEST"
  read_capacity               = contains(keys(local.steady_tables), each.key) ? var.steady_table_capacity.min_read : null
  write_capacity              = contains(keys(local.steady_tables), each.key) ? var.steady_table_capacity.min_write : null
  hash_key                    = each.value.hashKey.name
  range_key                   = try(each.value.rangeKey.name, null)
  deletion_protection_enabled = var.table_deletion_protection

  dynamic "attribute" {
    for_each = local.table_attributes[each.key]
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
  }
}

# The steadyLoad tables with indexes (local.indexed_tables: offers). The same table as `this`
# (keep the two in step), but its indexes carry capacity in the standard profile, and lifecycle
# ignores the indexes as well as the table's capacity once the table exists.
resource "aws_dynamodb_table" "indexed" {
  for_each = local.indexed_tables

  name                        = "${local.name_prefix}${each.key}"
  billing_mode                = contains(keys(local.steady_tables), each.key) ? "PROVISIONED" : "PAY_PER_REQUEST"
  read_capacity               = contains(keys(local.steady_tables), each.key) ? var.steady_table_capacity.min_read : null
  write_capacity              = contains(keys(local.steady_tables), each.key) ? var.steady_table_capacity.min_write : null
  hash_key                    = each.value.hashKey.name
  range_key                   = try(each.value.rangeKey.name, null)
  deletion_protection_enabled = var.table_deletion_protection

  dynamic "attribute" {
    for_each = local.table_attributes[each.key]
    content {
      name = attribute.key
      type = attribute.value[0]
    }
  }

  # As in `this`, plus each index's starting capacity (the minimums, as the table's) when the
  # table is provisioned: an index of a provisioned table must have one.
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
      read_capacity      = contains(keys(local.steady_tables), each.key) ? var.steady_table_capacity.min_read : null
      write_capacity     = contains(keys(local.steady_tables), each.key) ? var.steady_table_capacity.min_write : null
    }
  }

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

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.main.arn
  }

  lifecycle {
    # The table's capacity as in `this`; and the indexes, whose capacity auto scaling owns
    # (autoscaling.tf, one target per index and capacity). A change of billing mode is not
    # ignored: the provider sends each index's capacity from the configuration with it.
    ignore_changes = [read_capacity, write_capacity, global_secondary_index]
  }
}

# offers was in `this` until its index got capacity of its own (it has steadyLoad since then).
moved {
  from = aws_dynamodb_table.this["offers"]
  to   = aws_dynamodb_table.indexed["offers"]
}

locals {
  # TABLE_* for every function that links weelo-dynamo: Tables::from_env requires all eleven names
  # even in a function that touches two tables. IAM (iam.tf) is still scoped per table.
  table_env = { for name, t in local.table_defs : t.env => local.tables[name].name }
}
