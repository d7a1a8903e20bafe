# DynamoDB tables, generated from infra/definitions/tables.json: the same file the local
# provisioner (weelo-local provision) reads, so local and AWS tables cannot drift apart.

locals {
  name_prefix = "weelo-${var.environment}-"
  table_defs  = { for t in jsondecode(file("${path.module}/../definitions/tables.json")).tables : t.name => t }
}

resource "aws_dynamodb_table" "this" {
  for_each = local.table_defs

  name                        = "${local.name_prefix}${each.key}"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = each.value.hashKey.name
  range_key                   = try(each.value.rangeKey.name, null)
  deletion_protection_enabled = true

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

  dynamic "global_secondary_index" {
    for_each = each.value.globalSecondaryIndexes
    content {
      name            = global_secondary_index.value.name
      hash_key        = global_secondary_index.value.hashKey.name
      range_key       = try(global_secondary_index.value.rangeKey.name, null)
      projection_type = global_secondary_index.value.projection
    }
  }

  dynamic "ttl" {
    for_each = each.value.ttlAttribute == null ? [] : [each.value.ttlAttribute]
    content {
      attribute_name = ttl.value
      enabled        = true
    }
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled = true
  }
}

output "table_environment" {
  description = "The TABLE_* environment variables every function receives (same names as .local/stack.env)."
  value       = { for name, t in local.table_defs : t.env => aws_dynamodb_table.this[name].name }
}
