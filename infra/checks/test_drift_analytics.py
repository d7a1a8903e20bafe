"""Drift tests of the analytics dashboard, its alarms and the SQL over the audit archive.

test_drift.py covers the analytics function like every other one (deployed from functions.json,
its mappings, every environment variable its code reads). This file checks what only analytics has,
against the code it describes:

- the metric names of analytics.tf are the ones crates/core/src/usecases/analytics/metrics.rs
  declares (`pub const NAME: &str = "Metric";`), group by group, and the dashboard and alarms name
  analytics metrics only through that list; the operational metrics they show exist in
  crates/telemetry; the namespace is the one the function writes to;
- the Glue table's projection and columns match the archive's key layout and record fields
  (crates/audit), and the saved queries' event types exist in the events contract.

Run by localstack/infra-check.sh with the other drift tests: `python -m pytest infra/checks`.
"""

from __future__ import annotations

import re
from test_drift import ROOT, TF, local, resource, squash, terraform

METRICS_RS = ROOT / "crates/core/src/usecases/analytics/metrics.rs"
TELEMETRY_RS = ROOT / "crates/telemetry/src/lib.rs"
ANALYTICS_FUNCTION_RS = ROOT / "functions/analytics/src/lib.rs"
AUDIT_RS = ROOT / "crates/audit/src/lib.rs"
RECORD_RS = ROOT / "crates/msk/src/record.rs"
EVENTS_RS = ROOT / "crates/core/src/contract/events.rs"

STR_CONST = re.compile(r'^pub const ([A-Z][A-Z0-9_]*): &str = "([A-Za-z0-9]+)";$', re.MULTILINE)
# Terraform group -> the Rust array listing the same metrics (the groups differ in unit and in
# dimension sets, which the dashboard relies on).
GROUPS = {"funnel": "BOOKING_COUNTS", "delays": "BOOKING_DELAYS", "trucks": "TRUCK_COUNTS", "gps": "GPS_COUNTS"}
# AWS's own metrics the dashboard shows (Lambda guide, "Types of metrics for Lambda functions":
# OffsetLag for Kafka event sources, Errors; dimension FunctionName).
AWS_LAMBDA_METRICS = {"OffsetLag", "Errors"}


def tf_text(*names: str) -> str:
    return "\n".join((TF / name).read_text() for name in names)


def all_tf_text() -> str:
    return "\n".join(path.read_text() for path in sorted(TF.glob("*.tf")))


def rust_metric_consts() -> dict[str, str]:
    """Const name -> metric name, from metrics.rs (it must exist: the function emits these)."""
    assert METRICS_RS.exists(), f"{METRICS_RS.relative_to(ROOT)} is missing: the dashboard and alarms need its metric names"
    found = dict(STR_CONST.findall(METRICS_RS.read_text()))
    assert found, f"no `pub const NAME: &str = \"Metric\";` line in {METRICS_RS.relative_to(ROOT)}"
    return found


def rust_array(name: str, consts: dict[str, str]) -> list[str]:
    match = re.search(rf"pub const {name}: \[&str; \d+\] = \[(.*?)\];", METRICS_RS.read_text(), re.DOTALL)
    assert match, f"{name} is not declared in {METRICS_RS.relative_to(ROOT)}"
    return [consts[item] for item in re.findall(r"[A-Z][A-Z0-9_]*", match.group(1))]


# --- metric names ----------------------------------------------------------------------------------


def test_analytics_metric_names_are_the_codes():
    terraform_names = [name for group in local("analytics_metrics").values() for name in group]
    assert len(terraform_names) == len(set(terraform_names)), "a metric is listed twice in local.analytics_metrics"
    code_names = set(rust_metric_consts().values())
    assert set(terraform_names) == code_names, {
        "only in analytics.tf": set(terraform_names) - code_names,
        "only in metrics.rs": code_names - set(terraform_names),
    }


def test_analytics_metric_groups_are_the_codes():
    consts = rust_metric_consts()
    groups = local("analytics_metrics")
    assert set(groups) == set(GROUPS), set(groups) ^ set(GROUPS)
    for group, array in GROUPS.items():
        assert groups[group] == rust_array(array, consts), f"{group} differs from {array} (members or order)"


def test_dashboard_and_alarms_name_analytics_metrics_only_through_the_list():
    assert squash(local("analytics_metric")) == squash("${{for name in flatten(values(local.analytics_metrics)) : name => name}}")
    names = set(rust_metric_consts().values())
    text = all_tf_text()
    used = set(re.findall(r"local\.analytics_metric\.([A-Za-z0-9]+)", text))
    used |= set(re.findall(r'local\.analytics_metric\["([A-Za-z0-9]+)"\]', text))
    used |= set(local("funnel_steps"))  # indexed as local.analytics_metric[step]
    assert used, "the dashboard and alarms name no analytics metric"
    assert used <= names, f"named but not emitted: {used - names}"
    # Everything reads from the analytics namespace: <METRICS_NAMESPACE>/Analytics.
    for name in ("analytics_acceptance_rate", "analytics_time_to_accept"):
        assert "local.analytics_namespace" in str(resource("aws_cloudwatch_metric_alarm", name)), name


def test_the_analytics_namespace_is_the_one_the_function_writes_to():
    assert local("analytics_namespace") == "${local.metrics_namespace}/Analytics"
    assert local("lambda_env")["analytics"]["METRICS_NAMESPACE"] == "${local.metrics_namespace}"
    code = ANALYTICS_FUNCTION_RS.read_text()
    assert 'format!("{namespace}/Analytics")' in code, "functions/analytics no longer appends /Analytics to METRICS_NAMESPACE"


def test_operational_metrics_on_the_dashboard_exist():
    text = tf_text("dashboard.tf")
    telemetry = set(dict(STR_CONST.findall(TELEMETRY_RS.read_text())).values())
    ours = set(re.findall(r'\[local\.metrics_namespace, "([A-Za-z0-9]+)"', text))
    assert ours and ours <= telemetry, f"not a crates/telemetry metric: {ours - telemetry}"
    aws = set(re.findall(r'\["AWS/Lambda", "([A-Za-z0-9]+)"', text))
    assert aws and aws <= AWS_LAMBDA_METRICS, aws - AWS_LAMBDA_METRICS


# --- SQL over the audit archive ----------------------------------------------------------------------


def test_the_audit_table_projects_the_archive_layout():
    audit = AUDIT_RS.read_text()
    # events/<topic>/<yyyy>/<mm>/<dd>/<topic>-<partition>-<offset>.jsonl
    assert 'const PREFIX: &str = "events/";' in audit
    assert '"{}{}/{}/{}-{}-{:020}.jsonl"' in audit and 'first.timestamp.format("%Y/%m/%d")' in audit
    table = resource("aws_glue_catalog_table", "audit_events")
    parameters = table["parameters"]
    assert parameters["projection.enabled"] == "true"
    assert parameters["storage.location.template"] == "s3://${aws_s3_bucket.audit.bucket}/events/$${topic}/$${dt}/"
    assert parameters["projection.topic.type"] == "enum"
    assert squash(parameters["projection.topic.values"]) == squash('${join(",", [for t in local.topic_defs : t.name])}')
    assert (parameters["projection.dt.type"], parameters["projection.dt.format"]) == ("date", "yyyy/MM/dd")
    assert [k["name"] for k in table["partition_keys"]] == ["topic", "dt"]
    assert one_descriptor(table)["location"] == "s3://${aws_s3_bucket.audit.bucket}/events/"


def one_descriptor(table: dict) -> dict:
    assert len(table["storage_descriptor"]) == 1
    return table["storage_descriptor"][0]


def test_every_archived_field_has_a_column():
    """ArchivedRecord's fields (camelCase JSON keys, lowercased by the OpenX SerDe) are the table's
    columns, its key mappings and the topic partition key."""
    body = re.search(r"pub struct ArchivedRecord \{(.*?)\n\}", AUDIT_RS.read_text(), re.DOTALL)
    assert body, "ArchivedRecord not found in crates/audit"
    assert '#[serde(rename_all = "camelCase")]\npub struct ArchivedRecord' in AUDIT_RS.read_text()
    # A flattened field (the record's id) stands for the fields of its type, in weelo_msk.
    flattened = re.findall(r"#\[serde\(flatten\)\]\s*pub \w+: (\w+),", body.group(1))
    own = re.sub(r"#\[serde\(flatten\)\]\s*pub \w+: \w+,", "", body.group(1))
    names = re.findall(r"pub (\w+):", own)
    for name in flattened:
        inner = re.search(rf"pub struct {name} \{{(.*?)\n\}}", RECORD_RS.read_text(), re.DOTALL)
        assert inner, f"{name} (flattened into ArchivedRecord) not found in crates/msk"
        names += re.findall(r"pub (\w+):", inner.group(1))
    assert {"topic", "partition", "offset", "timestamp"} <= set(names), names
    fields = {re.sub(r"_([a-z])", lambda m: m.group(1).upper(), f) for f in names}
    descriptor = one_descriptor(resource("aws_glue_catalog_table", "audit_events"))
    serde = descriptor["ser_de_info"][0]
    assert serde["serialization_library"] == "org.openx.data.jsonserde.JsonSerDe"
    assert serde["parameters"].get("case.insensitive", "TRUE").upper() == "TRUE"
    # JSON key -> column, for the keys that are keywords in Athena.
    mapped = {v: k.removeprefix("mapping.") for k, v in serde["parameters"].items() if k.startswith("mapping.")}
    columns = {c["name"] for c in descriptor["columns"]}
    assert set(mapped.values()) <= columns
    assert "topic" not in columns, "topic is a partition key; Glue refuses a column of the same name"
    # The record's topic is the partition key of that name (always equal: the object's path).
    missing = {f for f in fields if f != "topic" and f not in mapped and f.lower() not in columns}
    assert not missing, f"archived fields without a column: {missing}"


def test_saved_queries_use_event_types_of_the_contract():
    contract = EVENTS_RS.read_text()
    assert squash(local("booking_event_type")) == squash('${{for step in local.booking_steps : step => "com.weelo.booking.${step}.v1"}}')
    for step in local("booking_steps"):
        assert f'"com.weelo.booking.{step}.v1"' in contract, f"com.weelo.booking.{step}.v1 is not an event type"
    literal = set(re.findall(r"com\.weelo\.[a-z.-]+\.v\d+", tf_text("athena_queries.tf")))
    assert {t for t in literal if f'"{t}"' not in contract} == set()
    for name in ("daily_funnel", "booking_history", "transporter_record"):
        query = resource("aws_athena_named_query", name)
        assert query["workgroup"] == "${aws_athena_workgroup.audit.name}", name
        assert "dt BETWEEN ? AND ?" in query["query"], f"{name} must read only the days it is given"


def test_the_memory_override_lists_every_function():
    description = terraform()["variable"]["function_memory_mb"]["description"]
    listed = set(re.search(r"\(keys: ([^)]*)\)", description).group(1).split(", "))
    assert listed == set(local("functions")), listed ^ set(local("functions"))
