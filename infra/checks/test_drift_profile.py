"""Drift tests of the deployment profiles (infra/terraform/profile.tf).

tests/small_profile.tftest.hcl plans both profiles and compares every function's environment
names with one list written in that file; this checks that the list is lambda.tf's own (the keys
of `lambda_env`, plus every TABLE_* when `uses_tables`), and that the names cannot depend on the
profile: each function's environment is an object literal, merged with the tables' names only by
`uses_tables`. It also checks the wiring a plan cannot show (subnet ids are unknown until apply):
the interface endpoints take the profile's number of subnets, and the small cluster the first two.
A consumer's KAFKA_FAILURE_REPORTING is there in both profiles; only its value differs.
Last, that the cost model `make bench` prices (infra/cost-model.json) is Terraform's defaults.

Run by localstack/infra-check.sh with the other drift tests: `python -m pytest infra/checks`.
"""

from __future__ import annotations

import json
import re

import hcl2

from test_drift import ROOT, TF, consumers, definition_env, function_env, local, resource, squash, terraform, unquote

PROFILE_TEST = TF / "tests" / "small_profile.tftest.hcl"


def test_profile_test_expects_lambda_tf_environment_names():
    with PROFILE_TEST.open() as handle:
        parsed = unquote(hcl2.load(handle))
    expected = {}
    for block in parsed["variables"]:
        expected.update(block.get("expected_env_names", {}))
    functions = local("functions")
    written = {}
    for name in local("lambda_env"):
        # An object literal (function_env checks it): its names are fixed, whatever the profile
        # (only values may differ), as are those functions.json sets.
        names = set(function_env(name)) | set(definition_env(name))
        if functions[name]["uses_tables"]:
            names.add("TABLE_*")
        # local.consumer_env: the same name in both profiles, its value the profile's.
        if name in consumers():
            names.add("KAFKA_FAILURE_REPORTING")
        # local.telemetry_env: every function's, in both profiles.
        names.add("METRICS_FLUSH_SECONDS")
        written[name] = names
    assert {f: set(names) for f, names in expected.items()} == written


def test_the_environment_does_not_depend_on_the_profile():
    environment = resource("aws_lambda_function", "this")["environment"][0]
    assert squash(environment["variables"]) == squash(
        "${merge(each.value.uses_tables ? local.table_env : {}, local.lambda_env[each.key], local.consumer_env[each.key], local.telemetry_env, local.definition_env[each.key])}"
    )
    for name in local("lambda_env"):
        for key, value in function_env(name).items():
            assert "deployment_profile" not in str(value) and "local.small" not in str(value), f"{name}.{key}"


def test_profile_wiring_a_plan_cannot_show():
    endpoints = resource("aws_vpc_endpoint", "interface")
    assert endpoints["subnet_ids"] == "${slice(aws_subnet.private[*].id, 0, local.profile.endpoint_subnets)}"
    assert set(local("profiles")) == {"standard", "small"}
    assert local("profiles")["small"]["endpoint_subnets"] == 1
    assert local("profiles")["standard"]["endpoint_subnets"] == "${var.az_count}"
    cluster = resource("aws_msk_cluster", "main")
    group = cluster["broker_node_group_info"][0]
    assert group["client_subnets"] == "${slice(aws_subnet.private[*].id, 0, local.msk_broker_count)}"
    assert cluster["number_of_broker_nodes"] == "${local.msk_broker_count}"
    assert local("msk_broker_count") == 2
    # Every mapping polls whichever cluster exists.
    assert resource("aws_lambda_event_source_mapping", "this")["event_source_arn"] == "${local.msk ? local.kafka_cluster_arn : null}"


def test_the_cost_model_prices_terraforms_defaults():
    """bench's generated cost table (infra/cost-model.json) prices what Terraform deploys by default."""
    model = json.loads((ROOT / "infra" / "cost-model.json").read_text())
    variables = terraform()["variable"]
    capacity_type = variables["steady_table_capacity"]["type"]
    defaults = {
        name: float(value)
        for name, value in re.findall(r"(\w+)\s*=\s*optional\(number,\s*([0-9.]+)\)", capacity_type)
    }
    steady = model["steadyCapacity"]
    assert steady["minRead"] == defaults["min_read"]
    assert steady["minWrite"] == defaults["min_write"]
    assert steady["targetUtilization"] * 100 == defaults["target_utilization_percent"]
    small = model["profiles"]["small"]
    assert small["brokers"] == local("msk_broker_count")
    assert small["brokerVolumeGb"] == variables["msk_broker_volume_gb"]["default"]
    assert small["endpointZones"] == local("profiles")["small"]["endpoint_subnets"]
    # The standard profile's endpoints are in every zone: az_count's default.
    assert model["profiles"]["standard"]["endpointZones"] == variables["az_count"]["default"]
    # The tables with a steady load are provisioned in standard and on-demand in small.
    assert model["profiles"]["standard"]["steadyTables"] == "provisioned"
    assert small["steadyTables"] == "on-demand"
    assert "!local.small" in local("steady_tables")
    # The mappings are in provisioned mode in standard and on-demand in small (no pollers billed).
    for name, profile in model["profiles"].items():
        assert profile["mappings"] == local("profiles")[name]["mapping_mode"], name
