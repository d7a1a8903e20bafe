"""Drift tests: infra/terraform against the definitions, the Rust code and the API contract.

Terraform cannot be planned on the development machine (no provider downloads), so these tests
parse the HCL with python-hcl2 and check that what Terraform reads is what the rest of the project
defines: tables, keys, GSIs, TTL (through the for_each over tables.json), topics, functions with
their memory and timeout (functions.json), every event-source-mapping setting, every environment
variable the code reads, and every API route.

Run by localstack/infra-check.sh: `python -m pytest infra/checks`.
"""

from __future__ import annotations

import json
import re
import tomllib
from functools import cache
from pathlib import Path

import hcl2
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
TF = ROOT / "infra" / "terraform"
DEFINITIONS = ROOT / "infra" / "definitions"

# Set by Lambda itself in every function, never by Terraform.
LAMBDA_PROVIDED = {
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_LOG_FORMAT",
    "AWS_LAMBDA_LOG_LEVEL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
}
# Read by code but meaningful only on the local stack; Terraform must not set them.
LOCAL_ONLY = {
    "AWS_ENDPOINT_URL": "points the SDK at moto; unset in AWS so the SDK uses the real endpoints",
    "AWS_ENDPOINT_URL_DYNAMODB": "points the SDK at the DynamoDB emulator; unset in AWS",
}
# Functions Terraform deploys whose crate may not exist yet: the topic bootstrap (msk.tf) is
# written separately as package weelo-kafka-topics, binary kafka-topics.
EXPECTED_WITHOUT_CRATE = {"kafka-topics"}

ENV_READ = re.compile(r'\b(?:env::var_os|env::var|var|var_or_default|required|parsed_or)\(\s*"([A-Z][A-Z0-9_]*)"')


# --- loading -------------------------------------------------------------------------------------


def unquote(value):
    """python-hcl2 keeps the quotes of string literals and labels; drop them everywhere."""
    if isinstance(value, str):
        if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
            return value[1:-1].replace('\\"', '"')
        return value
    if isinstance(value, list):
        return [unquote(v) for v in value]
    if isinstance(value, dict):
        return {unquote(k): unquote(v) for k, v in value.items() if not str(k).startswith("__")}
    return value


@cache
def terraform() -> dict:
    """All .tf files merged: resource/data[type][name], locals, variable, output."""
    merged: dict = {"resource": {}, "data": {}, "locals": {}, "variable": {}, "output": {}}
    for path in sorted(TF.glob("*.tf")):
        with path.open() as handle:
            parsed = unquote(hcl2.load(handle))
        for block in parsed.get("locals", []):
            merged["locals"].update(block)
        for kind in ("resource", "data"):
            for block in parsed.get(kind, []):
                for rtype, named in block.items():
                    merged[kind].setdefault(rtype, {}).update(named)
        for kind in ("variable", "output"):
            for block in parsed.get(kind, []):
                merged[kind].update(block)
    return merged


def resource(rtype: str, name: str) -> dict:
    return terraform()["resource"][rtype][name]


def local(name: str):
    return terraform()["locals"][name]


def one(block):
    """A nested block as python-hcl2 gives it: a list of one dict."""
    assert isinstance(block, list) and len(block) == 1, block
    return block[0]


def dynamic(res: dict, name: str) -> dict:
    for block in res.get("dynamic", []):
        if name in block:
            return block[name]
    raise AssertionError(f"no dynamic {name!r} block")


def squash(expr: str) -> str:
    return re.sub(r"\s+", "", expr)


def definitions(name: str) -> dict:
    return json.loads((DEFINITIONS / name).read_text())


def function_definition(function: str) -> dict:
    [found] = [f for f in definitions("functions.json")["functions"] if f["name"] == function]
    return found


def definition_env(function: str) -> dict:
    """The variables functions.json sets `function` (merged into its environment by lambda.tf)."""
    return function_definition(function).get("environment", {})


def function_env(function: str) -> dict:
    """`lambda_env[function]`: an object literal, or a local holding one (the api's, which
    gps-ingest shares), so its names never depend on a value."""
    env = local("lambda_env")[function]
    if isinstance(env, str):
        shared = re.fullmatch(r"\$\{local\.(\w+)\}", env)
        assert shared, f"{function}: lambda_env must be an object literal or a local holding one, not {env!r}"
        env = local(shared.group(1))
    assert isinstance(env, dict), f"{function}: lambda_env must be an object literal, not {env!r}"
    return env


def consumers() -> set[str]:
    """The functions with an event-source mapping (lambda.tf gives them KAFKA_FAILURE_REPORTING)."""
    return {m["function"] for m in definitions("event-source-mappings.json")["mappings"]}


def binaries() -> dict[str, str]:
    """Function name -> the binary it runs (functions.json's `binary`, or its own name)."""
    return {f["name"]: f.get("binary", f["name"]) for f in definitions("functions.json")["functions"]}


# --- tables --------------------------------------------------------------------------------------


def test_tables_are_read_from_the_definitions_file():
    assert local("definitions") == "${path.module}/../definitions"
    assert (TF / "../definitions/tables.json").resolve() == DEFINITIONS / "tables.json"
    assert squash(local("table_defs")) == squash(
        '${{for t in jsondecode(file("${local.definitions}/tables.json")).tables : t.name => t}}'
    )
    table_env = squash(local("table_env"))
    assert table_env == squash("${{for name, t in local.table_defs : t.env => local.tables[name].name}}")


def test_every_table_is_in_one_of_the_two_table_resources():
    """`indexed` holds the steadyLoad tables with indexes (its lifecycle leaves their indexes to
    auto scaling), `this` every other; the rest of the configuration reads both as local.tables."""
    assert squash(local("indexed_tables")) == squash(
        "${{for name, t in local.table_defs : name => t"
        " if try(t.steadyLoad, false) && length(t.globalSecondaryIndexes) > 0}}"
    )
    assert squash(local("plain_tables")) == squash(
        "${{for name, t in local.table_defs : name => t if !contains(keys(local.indexed_tables), name)}}"
    )
    assert local("tables") == "${merge(aws_dynamodb_table.this, aws_dynamodb_table.indexed)}"
    assert resource("aws_dynamodb_table", "this")["for_each"] == "${local.plain_tables}"
    assert resource("aws_dynamodb_table", "indexed")["for_each"] == "${local.indexed_tables}"
    # Nothing else names either resource: every reader goes through local.tables (dynamodb.tf
    # names each twice: in local.tables and in the moved block of offers).
    for path in TF.glob("*.tf"):
        text = path.read_text()
        for name in ("this", "indexed"):
            named = len(re.findall(rf"aws_dynamodb_table\.{name}\b", text))
            assert named == (2 if path.name == "dynamodb.tf" else 0), f"{path.name} names aws_dynamodb_table.{name}"


def test_the_two_table_resources_differ_only_in_the_indexes_capacity_and_lifecycle():
    this, indexed = resource("aws_dynamodb_table", "this"), resource("aws_dynamodb_table", "indexed")
    capacity = {
        "read_capacity": "${contains(keys(local.steady_tables), each.key) ? var.steady_table_capacity.min_read : null}",
        "write_capacity": "${contains(keys(local.steady_tables), each.key) ? var.steady_table_capacity.min_write : null}",
    }
    content = one(dynamic(indexed, "global_secondary_index")["content"])
    assert {k: content[k] for k in capacity} == capacity

    def without_differences(table: dict) -> dict:
        table = json.loads(json.dumps(table))
        for key in ("for_each", "lifecycle"):
            table.pop(key, None)
        gsi = one(dynamic(table, "global_secondary_index")["content"])
        for key in capacity:
            gsi.pop(key, None)
        return table

    assert without_differences(this) == without_differences(indexed)
    assert one(this["lifecycle"])["ignore_changes"] == ["read_capacity", "write_capacity"]
    assert one(indexed["lifecycle"])["ignore_changes"] == ["read_capacity", "write_capacity", "global_secondary_index"]


def test_every_table_key_gsi_and_ttl_is_mapped():
    table = resource("aws_dynamodb_table", "this")
    assert table["name"] == "${local.name_prefix}${each.key}"
    # On-demand, but provisioned (with auto scaling) for the steady tables of the standard profile.
    steady = "contains(keys(local.steady_tables), each.key)"
    assert table["billing_mode"] == f'${{{steady} ? "PROVISIONED" : "PAY_PER_REQUEST"}}'
    assert table["read_capacity"] == f"${{{steady} ? var.steady_table_capacity.min_read : null}}"
    assert table["write_capacity"] == f"${{{steady} ? var.steady_table_capacity.min_write : null}}"
    assert table["hash_key"] == "${each.value.hashKey.name}"
    assert table["range_key"] == "${try(each.value.rangeKey.name, null)}"
    assert table["deletion_protection_enabled"] == "${var.table_deletion_protection}"
    assert one(table["point_in_time_recovery"])["enabled"] is True
    assert one(table["server_side_encryption"])["enabled"] is True

    attributes = dynamic(table, "attribute")
    assert attributes["for_each"] == "${local.table_attributes[each.key]}"
    table_attributes = squash(local("table_attributes"))
    assert table_attributes.startswith(squash("${{for name, t in local.table_defs : name => {"))
    for field in ("t.hashKey", "t.rangeKey", "t.globalSecondaryIndexes", "i.hashKey", "i.rangeKey"):
        assert field in table_attributes, field

    gsi = dynamic(table, "global_secondary_index")
    assert gsi["for_each"] == "${each.value.globalSecondaryIndexes}"
    content = one(gsi["content"])
    assert content["name"] == "${global_secondary_index.value.name}"
    # key_schema, HASH first (the provider deprecates an index's hash_key/range_key).
    assert "hash_key" not in content and "range_key" not in content
    assert content["key_schema"] == [{"attribute_name": "${global_secondary_index.value.hashKey.name}", "key_type": "HASH"}]
    range_key = dynamic(content, "key_schema")
    assert range_key["for_each"] == "${try([global_secondary_index.value.rangeKey], [])}"
    assert one(range_key["content"]) == {"attribute_name": "${key_schema.value.name}", "key_type": "RANGE"}
    assert content["projection_type"] == "${global_secondary_index.value.projection}"
    assert content["non_key_attributes"] == "${try(global_secondary_index.value.nonKeyAttributes, null)}"

    ttl = dynamic(table, "ttl")
    assert "each.value.ttlAttribute" in ttl["for_each"]
    assert one(ttl["content"]) == {"attribute_name": "${ttl.value}", "enabled": True}


def test_table_definitions_are_deployable():
    """Terraform maps the fields; the values must be ones DynamoDB accepts."""
    for t in definitions("tables.json")["tables"]:
        assert re.fullmatch(r"TABLE_[A-Z_]+", t["env"]), t["name"]
        table_keys = [t["hashKey"], *([t["rangeKey"]] if "rangeKey" in t else [])]
        keys = list(table_keys)
        for index in t["globalSecondaryIndexes"]:
            index_keys = [index["hashKey"], *([index["rangeKey"]] if "rangeKey" in index else [])]
            keys += index_keys
            assert index["projection"] in {"ALL", "KEYS_ONLY", "INCLUDE"}
            # nonKeyAttributes exactly when INCLUDE, as DynamoDB requires; never a key of its own
            # (the table's or the index's, which every index projects anyway). A key of another
            # index may be projected (live-connections' by-transporter projects by-trip's `trip`):
            # DynamoDB accepts that (aws/aws-cdk#7075 lifted CDK's stricter rule after deploying it).
            assert ("nonKeyAttributes" in index) == (index["projection"] == "INCLUDE"), index["name"]
            own_keys = {k["name"] for k in table_keys + index_keys}
            assert not set(index.get("nonKeyAttributes", [])) & own_keys, index["name"]
            assert set(index) <= {"$comment", "name", "hashKey", "rangeKey", "projection", "nonKeyAttributes"}, (
                f"{index['name']}: a field Terraform does not map"
            )
        for key in keys:
            assert key["type"] in {"S", "N", "B"}, (t["name"], key)
        assert set(t) <= {"$comment", "name", "env", "hashKey", "rangeKey", "ttlAttribute", "globalSecondaryIndexes", "steadyLoad"}, (
            f"{t['name']}: a field Terraform does not map"
        )
        # steadyLoad (read as try(t.steadyLoad, false)): a boolean.
        if "steadyLoad" in t:
            assert isinstance(t["steadyLoad"], bool), f"{t['name']}: steadyLoad must be true or false"


def test_steady_tables_are_provisioned_scaled_and_alarmed_from_one_local():
    """Billing mode, capacity, scalable targets, policies and throttle alarms name the same tables."""
    assert squash(local("steady_tables")) == squash(
        "${{for name, t in local.table_defs : name => t if !local.small && try(t.steadyLoad, false)}}"
    )
    # Every steady table, and each of its indexes (index null for the table itself).
    assert squash(local("steady_scaled")) == squash(
        "${concat([for name, t in local.steady_tables : {table = name, index = null}],"
        " flatten([for name, t in local.steady_tables : [for i in t.globalSecondaryIndexes : {table = name, index = i.name}]]))}"
    )
    steady_capacity = squash(local("steady_capacity"))
    assert steady_capacity.startswith(
        squash("${{for pair in setproduct(local.steady_scaled, keys(local.steady_capacity_kinds)) :")
    ), steady_capacity
    for table in (resource("aws_dynamodb_table", "this"), resource("aws_dynamodb_table", "indexed")):
        assert "local.steady_tables" in table["billing_mode"]
        # Auto scaling owns the capacity once the table exists: no apply may reset it.
        assert one(table["lifecycle"])["ignore_changes"][:2] == ["read_capacity", "write_capacity"]
        assert "precondition" not in one(table["lifecycle"])
    kinds = local("steady_capacity_kinds")
    assert set(kinds) == {"read", "write"}
    for kind, unit in (("read", "Read"), ("write", "Write")):
        assert kinds[kind]["dimension"] == f"{unit}CapacityUnits"
        assert kinds[kind]["metric"] == f"DynamoDB{unit}CapacityUtilization"
        assert kinds[kind]["throttle_metric"] == f"{unit}ThrottleEvents"
        assert kinds[kind]["min"] == f"${{var.steady_table_capacity.min_{kind}}}"
        assert kinds[kind]["max"] == f"${{var.steady_table_capacity.max_{kind}}}"
    target = resource("aws_appautoscaling_target", "steady_table")
    policy = resource("aws_appautoscaling_policy", "steady_table")
    alarm = resource("aws_cloudwatch_metric_alarm", "table_throttles")
    for res in (target, policy, alarm):
        assert res["for_each"] == "${local.steady_capacity}"
    assert target["scalable_dimension"] == "dynamodb:${each.value.scope}:${each.value.dimension}"
    assert target["resource_id"] == (
        '${join("/index/", compact(["table/${local.tables[each.value.table].name}", each.value.index]))}'
    )
    assert "role_arn" not in target, "DynamoDB targets use Application Auto Scaling's service-linked role"
    assert policy["policy_type"] == "TargetTrackingScaling"
    tracking = one(policy["target_tracking_scaling_policy_configuration"])
    assert tracking["target_value"] == "${var.steady_table_capacity.target_utilization_percent}"
    assert squash(alarm["dimensions"]) == squash(
        "${merge({TableName = local.tables[each.value.table].name},"
        " each.value.index == null ? {} : {GlobalSecondaryIndexName = each.value.index})}"
    )
    assert alarm["alarm_actions"] == "${local.alarm_actions}"


def test_iam_names_only_existing_tables_and_indexes():
    tables = {t["name"]: t for t in definitions("tables.json")["tables"]}
    for function, spec in local("functions").items():
        for entry in spec["dynamodb"]:
            table, _, rest = entry.partition("/")
            assert table in tables, f"{function}: unknown table {table}"
            if rest:
                kind, _, index = rest.partition("/")
                assert kind == "index" and index in {i["name"] for i in tables[table]["globalSecondaryIndexes"]}, entry


# --- topics --------------------------------------------------------------------------------------


def test_every_topic_is_created_by_apply():
    assert squash(local("topic_defs")) == squash('${jsondecode(file("${local.definitions}/topics.json")).topics}')
    assert squash(local("topics_request")) == squash("${jsonencode({topics = local.topic_defs})}")
    invocation = resource("aws_lambda_invocation", "topics")
    assert invocation["function_name"] == '${aws_lambda_function.this["kafka-topics"].function_name}'
    assert invocation["input"] == "${local.topics_request}"
    assert invocation["triggers"]["topics"] == "${sha256(local.topics_request)}"
    for topic in definitions("topics.json")["topics"]:
        assert set(topic) == {"name", "partitions", "retentionMs"}, topic
        assert topic["partitions"] >= 1 and topic["retentionMs"] >= 3_600_000


def test_topics_named_in_terraform_exist_and_each_has_a_producer():
    topics = {t["name"] for t in definitions("topics.json")["topics"]}
    outbox = set(local("kafka_outbox_topics"))
    produced = set(outbox)
    for function, spec in local("functions").items():
        write = spec["kafka_write"]
        if isinstance(write, str):  # concat(local.kafka_outbox_topics, ["..."]) or local.kafka_outbox_topics
            assert "local.kafka_outbox_topics" in write, (function, write)
            write = list(outbox) + re.findall(r'"([a-z.-]+)"', write)
        assert set(write) <= topics, (function, set(write) - topics)
        produced |= set(write)
    assert produced == topics, f"topics nobody may publish to: {topics - produced}"


# --- functions -----------------------------------------------------------------------------------


@cache
def crates() -> dict[str, Path]:
    """Function name (the binary cargo lambda packages) -> crate directory."""
    found = {}
    for manifest in sorted((ROOT / "functions").glob("*/Cargo.toml")):
        data = tomllib.loads(manifest.read_text())
        for binary in data.get("bin", []):
            found[binary["name"]] = manifest.parent
    return found


def test_every_function_is_deployed():
    deployed = set(local("functions"))
    second_deployments = {name for name, binary in binaries().items() if binary != name}
    assert deployed == set(crates()) | EXPECTED_WITHOUT_CRATE | second_deployments
    assert {binaries()[name] for name in second_deployments} <= set(crates()), "a binary no crate builds"
    mapped = {m["function"] for m in definitions("event-source-mappings.json")["mappings"]}
    assert mapped <= deployed
    function = resource("aws_lambda_function", "this")
    assert function["for_each"] == "${local.functions}"
    assert function["function_name"] == "${local.name_prefix}${each.key}"
    assert function["runtime"] == "provided.al2023"
    assert function["handler"] == "bootstrap"
    assert function["architectures"] == ["arm64"]
    assert function["filename"] == "${var.artifacts_dir}/${local.binary_of[each.key]}/bootstrap.zip"
    assert squash(local("binary_of")) == squash(
        '${{for name, f in local.function_definitions : name => lookup(f, "binary", name)}}'
    )
    assert squash(local("definition_env")) == squash(
        '${{for name, f in local.function_definitions : name => lookup(f, "environment", {})}}'
    )
    assert one(function["logging_config"])["log_format"] == "JSON"
    assert resource("aws_cloudwatch_log_group", "function")["retention_in_days"] == "${local.log_retention_days}"
    assert resource("aws_iam_role", "function")["for_each"] == "${local.functions}"


def test_function_memory_and_timeout_come_from_the_definitions():
    assert squash(local("function_definitions")) == squash(
        '${{for f in jsondecode(file("${local.definitions}/functions.json")).functions : f.name => f}}'
    )
    defined = [f["name"] for f in definitions("functions.json")["functions"]]
    assert len(defined) == len(set(defined)), "a function is defined twice in functions.json"
    deployed = set(local("functions"))
    assert set(defined) == deployed, {
        "in functions.json only": set(defined) - deployed,
        "in local.functions only": deployed - set(defined),
    }
    for function, spec in local("functions").items():
        assert spec["memory"] == f'${{local.function_definitions["{function}"].memoryMb}}', function
        assert spec["timeout"] == f'${{local.function_definitions["{function}"].timeoutSeconds}}', function
    lambda_function = resource("aws_lambda_function", "this")
    assert lambda_function["timeout"] == "${each.value.timeout}"
    assert lambda_function["memory_size"] == "${lookup(var.function_memory_mb, each.key, each.value.memory)}"


def test_function_values_are_ones_aws_accepts():
    mapped = {m["function"] for m in definitions("event-source-mappings.json")["mappings"]}
    for f in definitions("functions.json")["functions"]:
        name = f["name"]
        assert {"name", "memoryMb", "timeoutSeconds"} <= set(f) <= {"name", "memoryMb", "timeoutSeconds", "binary", "environment"}, (
            f"{name}: fields Terraform does not map"
        )
        assert all(isinstance(v, str) for v in f.get("environment", {}).values()), f"{name}: environment values are strings"
        for field in ("memoryMb", "timeoutSeconds"):
            assert isinstance(f[field], int) and not isinstance(f[field], bool), (name, field)
        assert 128 <= f["memoryMb"] <= 10_240, f"{name}: Lambda memory is 128-10240 MB"
        assert 1 <= f["timeoutSeconds"] <= 900, f"{name}: Lambda allows 15 minutes at most"
        if name in mapped:
            assert f["timeoutSeconds"] <= 840, f"{name}: Kafka event-source mappings allow 14 minutes at most"
        if name == "api":
            assert f["timeoutSeconds"] <= 29, "api: API Gateway's integration timeout is 30 s"


# --- event-source mappings -----------------------------------------------------------------------

# JSON field -> (Terraform argument path, expression it must hold).
MAPPING_FIELDS = {
    "function": (("function_name",), "${aws_lambda_function.this[each.value.function].arn}"),
    "topic": (("topics",), ["${each.value.topic}"]),
    "startingPosition": (("starting_position",), "${each.value.startingPosition}"),
    "batchSize": (("batch_size",), "${each.value.batchSize}"),
    "maximumBatchingWindowSeconds": (("maximum_batching_window_in_seconds",), "${each.value.maximumBatchingWindowSeconds}"),
    # Set in provisioned mode (standard) only; an on-demand mapping (small) has neither (esm.tf).
    "maximumRetryAttempts": (("maximum_retry_attempts",), "${local.provisioned_mappings ? each.value.maximumRetryAttempts : null}"),
    "bisectBatchOnFunctionError": (("bisect_batch_on_function_error",), "${local.provisioned_mappings ? each.value.bisectBatchOnFunctionError : null}"),
    "onFailure": (("destination_config", "on_failure", "destination_arn"), "${local.on_failure_arn[each.key]}"),
}
# provisionedPollers: the pollers of a mapping in provisioned mode, in its path's poller group
# (standard); the small profile's mappings are on demand, with no poller block (profile.tf).
PROVISIONED_POLLERS = {
    "for_each": "${local.provisioned_mappings ? [1] : []}",
    "content": {
        "minimum_pollers": "${each.value.provisionedPollers.min}",
        "maximum_pollers": "${each.value.provisionedPollers.max}",
        "poller_group_name": "${local.poller_groups[each.key]}",
    },
}


def argument(res: dict, path: tuple[str, ...]):
    value = res
    for step in path:
        value = value[step]
        if isinstance(value, list) and value and isinstance(value[0], dict):
            value = one(value)
    return value


def test_every_mapping_setting_reaches_terraform():
    assert squash(local("mappings")) == squash(
        '${{for m in jsondecode(file("${local.definitions}/event-source-mappings.json")).mappings : "${m.function}/${m.topic}" => m}}'
    )
    esm = resource("aws_lambda_event_source_mapping", "this")
    assert esm["for_each"] == "${local.mappings}"
    assert squash(esm["function_response_types"]) == squash('${local.provisioned_mappings ? ["ReportBatchItemFailures"] : null}')
    for field, (path, expected) in MAPPING_FIELDS.items():
        assert argument(esm, path) == expected, field
    pollers = dynamic(esm, "provisioned_poller_config")
    assert {"for_each": pollers["for_each"], "content": one(pollers["content"])} == PROVISIONED_POLLERS
    # Each profile's mapping mode, and what its consumers are told to match it (lambda.tf).
    profiles = local("profiles")
    assert (profiles["standard"]["mapping_mode"], profiles["small"]["mapping_mode"]) == ("provisioned", "on-demand")
    assert squash(local("provisioned_mappings")) == squash('${local.profile.mapping_mode == "provisioned"}')
    assert squash(local("failure_reporting")) == squash('${local.provisioned_mappings ? "partial-batch" : "function-error"}')
    for kind in ("amazon_managed_kafka_event_source_config", "self_managed_kafka_event_source_config"):
        assert one(dynamic(esm, kind)["content"])["consumer_group_id"] == "${local.consumer_groups[each.key]}"
    # onFailure names a queue, or with onFailureKind "s3" a bucket (esm.tf, failures.tf).
    assert squash(local("on_failure_kind")) == squash('${{for key, m in local.mappings : key => try(m.onFailureKind, "sqs")}}')
    assert squash(local("on_failure_arn")) == squash(
        '${merge({for key, m in local.mappings : key => "${local.arn_prefix.sqs}${aws_sqs_queue.dlq[m.onFailure].name}" if local.on_failure_kind[key] != "s3"},'
        ' {for key, m in local.mappings : key => "${local.arn_prefix.s3}${aws_s3_bucket.failures[m.onFailure].bucket}" if local.on_failure_kind[key] == "s3"})}'
    )
    assert squash(local("dlq_names")) == squash('${toset([for key, m in local.mappings : m.onFailure if local.on_failure_kind[key] != "s3"])}')
    assert squash(local("failure_buckets")) == squash('${toset([for key, m in local.mappings : m.onFailure if local.on_failure_kind[key] == "s3"])}')
    assert resource("aws_sqs_queue", "dlq")["for_each"] == "${local.dlq_names}"
    assert resource("aws_sqs_queue", "dlq")["name"] == "${local.name_prefix}${each.key}"
    assert resource("aws_s3_bucket", "failures")["for_each"] == "${local.failure_buckets}"
    assert resource("aws_s3_bucket", "failures")["bucket"] == "${local.name_prefix}${each.key}"
    # pollerGroup names the mapping's poller group in the standard profile (profile.tf).
    assert squash(local("poller_groups")) == squash(
        '${{for key, m in local.mappings : key => "weelo-${var.environment}-${m.pollerGroup}"}}'
    )


def test_consumer_groups_are_named_as_the_local_bridge_names_them():
    bridge = (ROOT / "crates/definitions/src/lib.rs").read_text()
    assert 'format!("weelo-{}-{}{}", self.function, self.topic, self.group_suffix)' in bridge
    assert squash(local("consumer_groups")) == squash('${{for key, m in local.mappings : key => "weelo-${m.function}-${m.topic}"}}')


def test_mapping_values_are_ones_aws_accepts():
    # pollerGroup reaches Terraform through local.poller_groups (checked above).
    known = set(MAPPING_FIELDS) | {"pollerGroup", "provisionedPollers"}
    # Optional, read through try(m.onFailureKind, "sqs") (esm.tf) and by crates/definitions.
    optional = {"onFailureKind"}
    kinds: dict[str, str] = {}
    for m in definitions("event-source-mappings.json")["mappings"]:
        where = f"{m['function']}/{m['topic']}"
        assert known <= set(m) <= known | optional, f"{where}: fields Terraform does not map: {set(m) - known - optional}"
        kind = m.get("onFailureKind", "sqs")
        assert kind in {"sqs", "s3"}, f"{where}: onFailureKind {kind!r} is neither sqs nor s3"
        assert kinds.setdefault(m["onFailure"], kind) == kind, f"{where}: {m['onFailure']} is both a queue and a bucket"
        if kind == "s3":
            assert re.fullmatch(r"[a-z0-9][a-z0-9-]*[a-z0-9]", m["onFailure"]), f"{where}: {m['onFailure']!r} cannot end an S3 bucket name (lowercase letters, digits, hyphens)"
        assert 1 <= m["batchSize"] <= 10_000, where
        assert 0 <= m["maximumBatchingWindowSeconds"] <= 300, where
        assert m["startingPosition"] in {"TRIM_HORIZON", "LATEST"}, where
        assert -1 <= m["maximumRetryAttempts"] <= 10_000, where
        assert 1 <= m["provisionedPollers"]["min"] <= 200, where
        assert m["provisionedPollers"]["min"] <= m["provisionedPollers"]["max"] <= 2000, where
        assert isinstance(m["bisectBatchOnFunctionError"], bool), where
        # A poller group name: letters, digits, hyphens and underscores, after "weelo-<environment>-".
        assert re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,40}", m["pollerGroup"]), where


# --- environment ---------------------------------------------------------------------------------


@cache
def workspace_crates() -> dict[str, Path]:
    found = {}
    for manifest in ROOT.glob("*/*/Cargo.toml"):
        found[tomllib.loads(manifest.read_text())["package"]["name"]] = manifest.parent
    return found


def linked_crates(crate: Path) -> set[Path]:
    """The crate and every workspace crate it links through [dependencies] (not dev-dependencies)."""
    seen, todo = set(), [crate]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        deps = tomllib.loads((current / "Cargo.toml").read_text()).get("dependencies", {})
        todo += [workspace_crates()[name] for name in deps if name in workspace_crates()]
    return seen


# A library's read counts for a function only when the function's build calls the reader around it
# (`Type::name` for a method or associated function, `name` for a free one, with or without a path
# or turbofish): a reader in weelo-core, which every function links, then binds only the functions
# that call it. Calls through a method (`.name()`) or a trait are not followed: a read whose reader
# cannot be told fails the check instead of being guessed.
FN_ITEM = re.compile(
    r'^([ \t]*)(?:pub(?:\([^)]*\))?\s+)?(?:const\s+)?(?:async\s+)?(?:unsafe\s+)?(?:extern\s+"[^"]*"\s+)?fn\s+(\w+)', re.M
)
TOP_ITEM = re.compile(r"^(?:pub(?:\([^)]*\))?\s+)?(?:unsafe\s+)?(impl|mod|trait|fn|macro_rules!|const|static)\b(.*)$", re.M)


def impl_type(header: str) -> str | None:
    """The type an `impl` header (what follows `impl`) is for: generics skipped, the last segment
    of the path after `for` if it implements a trait."""
    depth, plain = 0, []
    for ch in header:
        if ch == "<":
            depth += 1
        elif ch == ">" and depth:
            depth -= 1
        elif not depth:
            plain.append(ch)
    text = re.split(r"\{|\bwhere\b", "".join(plain))[0]
    target = text.split(" for ", 1)[1] if " for " in text else text
    names = re.findall(r"(?<!\$)\b[A-Za-z_]\w*", target)
    return names[-1] if names else None


def reader_of(text: str, at: int, where: str = "") -> str:
    """The reader a read at offset `at` stands in: `Type::name` for a method, `name` for a free fn."""
    items = [m for m in FN_ITEM.finditer(text, 0, at)]
    if not items:
        raise AssertionError(f"{where}: a read outside any fn at offset {at}")
    item = items[-1]
    if not item.group(1):
        return item.group(2)
    outer = [m for m in TOP_ITEM.finditer(text, 0, item.start())]
    kind, rest = (outer[-1].group(1), outer[-1].group(2)) if outer else (None, "")
    if kind == "mod":
        return item.group(2)
    if kind == "impl" and (target := impl_type(rest)):
        return f"{target}::{item.group(2)}"
    raise AssertionError(f"{where}: cannot tell whose reader fn {item.group(2)} is (inside {kind or 'nothing'})")


def call_sites(text: str, reader: str) -> list[int]:
    """Where `text` names `reader`: `Type::name` or `Self::name`, with or without a path, called or
    passed; a free `name(` or a path ending in `::name` (never its own `fn name(`)."""
    own_type, _, name = reader.rpartition("::")
    turbofish = r"(?:::<[^()]*?>)?"
    if own_type:
        pattern = rf"(?<![\w.])(?:\w+::)*(?:{re.escape(own_type)}|Self){turbofish}::{re.escape(name)}\b(?!!)"
    else:
        pattern = rf"(?<![\w.])(?:(?:\w+::)+{re.escape(name)}\b(?!!)|(?<!fn ){re.escape(name)}\s*{turbofish}\s*\()"
    return [m.start() for m in re.finditer(pattern, text)]


def calls(text: str, reader: str) -> bool:
    return bool(call_sites(text, reader))


def reads_in(text: str, where: str = "") -> list[tuple[str, str]]:
    """(variable, reader) for every environment read in a source's `text`."""
    return [(m.group(1), reader_of(text, m.start(), where)) for m in ENV_READ.finditer(text)]


def is_test_source(source: Path) -> bool:
    parts = source.relative_to(ROOT).parts
    return source.name in {"tests.rs", "testing.rs"} or source.stem.endswith("_tests") or "testing" in parts


def is_called(reader: str, source: Path, sources: dict[Path, str], seen: frozenset = frozenset()) -> bool:
    """Whether the build whose `sources` these are calls `reader` of `source`: from another file, or
    from a reader of its own file that is itself called."""
    if any(other != source and not is_test_source(other) and calls(text, reader) for other, text in sources.items()):
        return True
    text = sources[source]
    outer = {reader_of(text, at, str(source)) for at in call_sites(text, reader)} - seen - {reader}
    return any(is_called(r, source, sources, seen | {reader}) for r in outer)


def env_read_by(crate: Path) -> dict[str, Path]:
    sources = {s: s.read_text() for linked in linked_crates(crate) for s in (linked / "src").rglob("*.rs")}
    found = {}
    for source in sorted(sources):
        own = source.is_relative_to(crate)
        for name, reader in reads_in(sources[source], str(source.relative_to(ROOT))):
            if own or is_called(reader, source, sources):
                found.setdefault(name, source.relative_to(ROOT))
    return found


def test_a_library_read_counts_only_for_the_functions_calling_its_reader():
    # GIVEN a reader in a library and a function that calls another one of its readers
    library = "impl Clock {\n    pub fn from_env() -> Self {\n        Self::of(parsed_or(\"CLOCK_SECS\", 1))\n    }\n}\n"
    # WHEN the read is placed
    [(name, reader)] = [(m.group(1), reader_of(library, m.start())) for m in ENV_READ.finditer(library)]
    # THEN it belongs to Clock::from_env, which the caller that spells it calls and the other does not
    assert (name, reader) == ("CLOCK_SECS", "Clock::from_env")
    assert calls("let c = Clock::from_env()?;", reader)
    assert not calls("let s = Settings::from_env()?;", reader)
    assert calls("fn free() { helper(1) }", "helper") and not calls("fn free() { my_helper(1) }", "helper")
    # AND a path, a turbofish or passing the reader still counts; its own definition does not
    assert calls("weelo_core::Clock::from_env()", reader) and calls(".map(Clock::from_env)", reader)
    assert calls("weelo_aws::helper::<i64>(1)", "helper") and not calls("pub fn helper(x: i64)", "helper")
    # AND the type of a trait impl with references, lifetimes or nested generics is the one after `for`
    assert impl_type(" From<&Booking> for BookingSummary {") == "BookingSummary"
    assert impl_type("<'de> Deserialize<'de> for TripRef {") == "TripRef"
    assert impl_type("<T: Into<Vec<u8>>> Wrapper<T> where T: Send {") == "Wrapper"
    # AND a free fn after a blank line is no method of the impl above it
    after_impl = "impl A {\n    fn a() {}\n}\n\nfn free() { var(\"FREE\") }\n"
    assert [r for _, r in reads_in(after_impl)] == ["free"]
    # AND a read whose reader cannot be told fails instead of being guessed
    with pytest.raises(AssertionError):
        reads_in("trait T {\n    fn d() { var(\"IN_TRAIT\") }\n}\n")


def tables_env() -> set[str]:
    return {t["env"] for t in definitions("tables.json")["tables"]}


def test_the_cost_model_prices_what_terraform_deploys_by_default():
    model = json.loads((ROOT / "infra" / "cost-model.json").read_text())
    variables = terraform()["variable"]
    assert model["accessLogClass"] == variables["access_log_class"]["default"]
    # The brokers' type is the profile's (msk_broker_instance_type defaults to null).
    assert variables["msk_broker_instance_type"]["default"] is None
    for name, profile in model["profiles"].items():
        assert profile["brokerType"] == local("profiles")[name]["msk_broker_instance_type"], name
    # Both profiles deploy gps-ingest's public URL (gps_ingest.tf), so every scale prices GPS through it.
    url = resource("aws_lambda_function_url", "gps_ingest")
    assert url["function_name"] == '${aws_lambda_function.this["gps-ingest"].function_name}'
    assert url["authorization_type"] == "NONE" and "count" not in url and "for_each" not in url
    assert all(scale.get("gpsThroughFunctionUrl") is True for scale in model["scales"])


def test_lambda_environment_is_tables_plus_the_function_env():
    environment = one(resource("aws_lambda_function", "this")["environment"])
    assert squash(environment["variables"]) == squash(
        "${merge(each.value.uses_tables ? local.table_env : {}, local.lambda_env[each.key], local.consumer_env[each.key], local.telemetry_env, local.definition_env[each.key])}"
    )
    assert set(local("lambda_env")) == set(local("functions"))
    # Every function is told when to write its metric lines; functions.json may override it.
    assert local("telemetry_env") == {"METRICS_FLUSH_SECONDS": "0"}
    # A function with a mapping is told how to report failed records (weelo_msk::FailureReporting).
    assert squash(local("consumer_env")) == squash(
        '${{for f in keys(local.functions) : f => length(local.consumer_topics[f]) > 0 ? {KAFKA_FAILURE_REPORTING = local.failure_reporting} : {}}}'
    )


@pytest.mark.parametrize("function", sorted(set(binaries()) | EXPECTED_WITHOUT_CRATE))
def test_every_env_var_the_code_reads_is_set(function):
    binary = binaries().get(function, function)
    if binary not in crates():
        pytest.skip(f"{function}: its crate does not exist yet")
    spec = local("functions")[function]
    links_dynamo = workspace_crates()["weelo-dynamo"] in linked_crates(crates()[binary])
    assert spec["uses_tables"] is links_dynamo, f"{function}: uses_tables must say whether it links weelo-dynamo"
    terraform_env = set(function_env(function)) | set(definition_env(function))
    terraform_env |= {"KAFKA_FAILURE_REPORTING"} if function in consumers() else set()
    terraform_env |= set(local("telemetry_env"))
    terraform_env |= tables_env() if spec["uses_tables"] else set()
    read = env_read_by(crates()[binary])
    needed = {name: where for name, where in read.items() if name not in LAMBDA_PROVIDED and name not in LOCAL_ONLY}
    missing = {name: str(where) for name, where in needed.items() if name not in terraform_env}
    assert not missing, f"{function} reads variables Terraform does not set: {missing}"
    stale = terraform_env - set(read)
    assert not stale, f"{function}: Terraform sets variables its code never reads: {stale}"
    assert not (terraform_env & (LAMBDA_PROVIDED | set(LOCAL_ONLY))), "Terraform must not set these"


# --- API routes ----------------------------------------------------------------------------------


def test_every_openapi_operation_has_a_route():
    spec = yaml.safe_load((ROOT / "docs" / "openapi.yaml").read_text())
    default_security = spec.get("security", [])
    operations = {}
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in {"get", "put", "post", "delete", "patch", "head", "options"}:
                operations[f"{method.upper()} {path}"] = operation.get("security", default_security) == []
    routes = local("api_routes")
    assert set(routes) == set(operations), {
        "missing in Terraform": set(operations) - set(routes),
        "not in the contract": set(routes) - set(operations),
    }
    for key, public in operations.items():
        assert routes[key]["public"] is public, key

    authenticated = resource("aws_apigatewayv2_route", "authenticated")
    assert squash(authenticated["for_each"]) == squash("${{for key, r in local.api_routes : key => r if !r.public}}")
    assert authenticated["authorization_type"] == "JWT"
    public = resource("aws_apigatewayv2_route", "public")
    assert squash(public["for_each"]) == squash("${{for key, r in local.api_routes : key => r if r.public}}")
    assert public["authorization_type"] == "NONE"


def test_live_socket_is_the_websocket_authorizer_and_every_route_integration():
    """The plan tests cannot see these (a new function's invoke ARN is unknown until apply)."""
    live_socket = '${aws_lambda_function.this["live-socket"].invoke_arn}'
    assert resource("aws_apigatewayv2_authorizer", "live")["authorizer_uri"] == live_socket
    integration = resource("aws_apigatewayv2_integration", "live")
    assert integration["integration_uri"] == live_socket
    assert integration["integration_type"] == "AWS_PROXY"
    assert resource("aws_apigatewayv2_route", "live")["target"] == "integrations/${aws_apigatewayv2_integration.live.id}"


# --- hygiene -------------------------------------------------------------------------------------


def test_variables_and_outputs_are_described_and_typed():
    for name, variable in terraform()["variable"].items():
        assert variable.get("description"), name
        assert variable.get("type"), name
    for name, output in terraform()["output"].items():
        assert output.get("description"), name


def test_every_tf_file_starts_with_a_comment():
    for path in TF.glob("*.tf"):
        assert path.read_text().startswith("#"), path.name
