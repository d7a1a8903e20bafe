"""Drift tests of the deployment profiles (infra/terraform/profile.tf).

tests/small_profile.tftest.hcl plans both profiles and compares every function's environment
names with one list written in that file; this checks that the list is lambda.tf's own (the keys
of `lambda_env`, plus every TABLE_* when `uses_tables`), and that the names cannot depend on the
profile: each function's environment is an object literal, merged with the tables' names only by
`uses_tables`. It also checks the wiring a plan cannot show (subnet ids are unknown until apply):
the interface endpoints take the profile's number of subnets, and the provisioned cluster (both
profiles, unless msk_cluster_type says serverless) one subnet per broker, the profile's number.
A consumer's KAFKA_FAILURE_REPORTING is there in both profiles; only its value differs.
Last, that the cost model `make bench` prices (infra/cost-model.json) is Terraform's defaults.

Run by localstack/infra-check.sh with the other drift tests: `python -m pytest infra/checks`.
"""

from __future__ import annotations

import json
import re

import hcl2

from test_drift import ROOT, TF, consumers, definition_env, function_env, local, one, resource, squash, terraform, unquote

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
    assert endpoints["subnet_ids"] == "${slice(aws_subnet.private[*].id, 0, local.endpoint_subnets)}"
    profiles = local("profiles")
    assert set(profiles) == {"standard", "small"}
    assert profiles["small"]["endpoint_subnets"] == 1
    # null: every zone (local.az_count cannot be named in the map it is read from).
    assert profiles["standard"]["endpoint_subnets"] is None
    assert local("endpoint_subnets") == "${coalesce(local.profile.endpoint_subnets, local.az_count)}"
    # One private subnet per zone, the profile's number unless az_count says otherwise.
    assert local("az_count") == "${coalesce(var.az_count, local.profile.az_count)}"
    assert resource("aws_subnet", "private")["count"] == "${local.az_count}"
    cluster = resource("aws_msk_cluster", "main")
    group = cluster["broker_node_group_info"][0]
    assert group["client_subnets"] == "${slice(aws_subnet.private[*].id, 0, local.msk_broker_count)}"
    assert cluster["number_of_broker_nodes"] == "${local.msk_broker_count}"
    assert local("msk_broker_count") == "${local.profile.msk_brokers}"
    assert {name: p["msk_brokers"] for name, p in profiles.items()} == {"standard": 3, "small": 2}
    # One broker per zone: a precondition refuses fewer zones than brokers.
    [precondition] = cluster["lifecycle"][0]["precondition"]
    assert precondition["condition"] == "${local.az_count >= local.msk_broker_count}"
    # Each profile's zones hold its brokers.
    assert all(p["az_count"] >= p["msk_brokers"] for p in profiles.values())
    # Every mapping polls whichever cluster exists.
    assert resource("aws_lambda_event_source_mapping", "this")["event_source_arn"] == "${local.msk ? local.kafka_cluster_arn : null}"


def test_both_profiles_run_the_cluster_msk_cluster_type_names():
    """The provisioned cluster and everything around it exist whenever msk_cluster_type is
    "provisioned" (the default), in either profile; MSK Serverless only when it says "serverless"."""
    assert local("msk_provisioned") == '${local.msk && var.msk_cluster_type == "provisioned"}'
    assert resource("aws_msk_serverless_cluster", "main")["count"] == '${local.msk && var.msk_cluster_type == "serverless" ? 1 : 0}'
    for rtype, name in [
        ("aws_msk_configuration", "main"),
        ("aws_msk_cluster", "main"),
        ("aws_cloudwatch_log_group", "msk_brokers"),
        ("aws_appautoscaling_target", "msk_storage"),
        ("aws_appautoscaling_policy", "msk_storage"),
    ]:
        assert resource(rtype, name)["count"] == "${local.msk_provisioned ? 1 : 0}", f"{rtype}.{name}"
    assert resource("aws_cloudwatch_metric_alarm", "msk_disk_used")["for_each"].startswith("${local.msk_provisioned ? ")
    for kafka_file in ("msk.tf", "msk_provisioned.tf"):
        assert "local.small" not in (TF / kafka_file).read_text(), kafka_file
    # The server properties follow the broker count: replication 3 and min in-sync 2 on three
    # brokers, 2 and 1 on two.
    assert local("msk_replication_factor") == "${min(local.msk_broker_count, 3)}"
    assert local("msk_min_insync_replicas") == "${local.msk_replication_factor - 1}"


def test_only_profile_tf_reads_the_sizing_variables():
    """az_count and msk_broker_* default to null (the profile's): every other file reads the locals
    profile.tf resolves them into."""
    for tf in sorted(TF.glob("*.tf")):
        if tf.name in {"profile.tf", "variables.tf"}:
            continue
        text = tf.read_text()
        for name in ("az_count", "msk_broker_instance_type", "msk_broker_volume_gb", "msk_broker_volume_max_gb"):
            assert not re.search(rf"\bvar\.{name}\b", text), f"{tf.name} reads var.{name}, not local.{name}"
    for name in ("az_count", "msk_broker_instance_type", "msk_broker_volume_gb", "msk_broker_volume_max_gb"):
        assert local(name) == f"${{coalesce(var.{name}, local.profile.{name})}}", name


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
    profiles = local("profiles")
    # The sizes are the profile's: the variables that override them default to null.
    for name in ("az_count", "msk_broker_instance_type", "msk_broker_volume_gb", "msk_broker_volume_max_gb"):
        assert variables[name]["default"] is None, name
    assert set(model["profiles"]) == set(profiles)
    for name, profile in model["profiles"].items():
        # Both profiles run the default kind of cluster (provisioned; serverless only when asked).
        assert profile["kafka"] == variables["msk_cluster_type"]["default"], name
        assert profile["brokers"] == profiles[name]["msk_brokers"], name
        assert profile["brokerType"] == profiles[name]["msk_broker_instance_type"], name
        assert profile["brokerVolumeGb"] == profiles[name]["msk_broker_volume_gb"], name
        assert profile["brokerVolumeMaxGb"] == profiles[name]["msk_broker_volume_max_gb"], name
        # Endpoint interfaces: the profile's number, or (null) one in every zone, the profile's.
        zones = profiles[name]["endpoint_subnets"]
        assert profile["endpointZones"] == (profiles[name]["az_count"] if zones is None else zones), name
    assert model["profiles"]["standard"]["endpointZones"] == 3
    # The brokers' volumes grow past brokerStorageUtilization full: the storage policy's target.
    storage = one(resource("aws_appautoscaling_policy", "msk_storage")["target_tracking_scaling_policy_configuration"])
    assert model["brokerStorageUtilization"] * 100 == storage["target_value"]
    # The tables with a steady load are provisioned in standard and on-demand in small.
    assert model["profiles"]["standard"]["steadyTables"] == "provisioned"
    assert small["steadyTables"] == "on-demand"
    assert "!local.small" in local("steady_tables")
    # The mappings are in provisioned mode in standard and on-demand in small (no pollers billed).
    for name, profile in model["profiles"].items():
        assert profile["mappings"] == local("profiles")[name]["mapping_mode"], name
