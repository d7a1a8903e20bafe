# DynamoDB tables, generated from infra/definitions/tables.json: the same file the local
# provisioner (weelo-local provision) reads, so local and AWS tables cannot drift apart.

resource "aws_dynamodb_table" "this" {
  for_each = local.table_defs

  name                        = "${local.name_prefix}${each.key}"
  billing_mode                = "PAY_PER_REQUEST"
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
}

locals {
  # TABLE_* for every function that links weelo-dynamo: Tables::from_env requires all eleven names
  # even in a function that touches two tables. IAM (iam.tf) is still scoped per table.
  table_env = { for name, t in local.table_defs : t.env => aws_dynamodb_table.this[name].name }
}
