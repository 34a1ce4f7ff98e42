"""template.yaml: what operators and users rely on, checked against the code it deploys.

The alarms and the dashboard name metrics by string; these tests tie every such string to the metric
catalogue (`refund_sync.observability.Metric`) and to the dimensions the code really emits, so a
renamed metric or a changed dimension breaks a test rather than silently blinding an alarm.
"""

from __future__ import annotations

import ast
import json
import re
from collections import defaultdict
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from refund_sync import observability
from refund_sync.config import Settings
from refund_sync.domain.reasons import Outcome, Reason
from refund_sync.observability import Metric, count, count_by, metrics
from refund_sync_cli.target import StackOutputs
from refund_sync_sandbox.aws import load_template

TEMPLATE = load_template()
RESOURCES: dict[str, dict[str, Any]] = TEMPLATE["Resources"]
PARAMETERS: dict[str, dict[str, Any]] = TEMPLATE["Parameters"]
GLOBAL_ENVIRONMENT: dict[str, Any] = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]
TOPIC = {"Ref": "AlarmTopic"}
STAGE_REF = {"Ref": "Stage"}
STAGE_IN_DASHBOARD = "<Stage>"  # how dashboard_body() renders ${Stage}

ALARMS_USERS_RELY_ON = {
    "DeadLetterQueueAlarm",
    "ConsumerErrorsAlarm",
    "PollerFailedAlarm",
    "PollerNotRunningAlarm",
    "AmountMismatchAlarm",
    "RefundNeedsDecisionAlarm",
}


def resources_of(kind: str) -> dict[str, dict[str, Any]]:
    return {name: resource for name, resource in RESOURCES.items() if resource["Type"] == kind}


def alarm(name: str) -> dict[str, Any]:
    properties: dict[str, Any] = RESOURCES[name]["Properties"]
    return properties


def get_att(node: Any) -> str | None:
    """Resource.Attribute of a !GetAtt, whichever of its two spellings the template uses."""
    if not isinstance(node, dict) or "Fn::GetAtt" not in node:
        return None
    target = node["Fn::GetAtt"]
    return ".".join(target) if isinstance(target, list) else str(target)


def dimensions(raw: list[dict[str, Any]]) -> dict[str, Any]:
    return {entry["Name"]: entry["Value"] for entry in raw}


def walk(node: Any) -> Iterator[Any]:
    yield node
    if isinstance(node, dict):
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def names_referenced(node: Any) -> set[str]:
    """Logical ids and parameters a template fragment points at: Ref, GetAtt, ${...} in Sub."""
    found: set[str] = set()
    for part in walk(node):
        if not isinstance(part, dict):
            continue
        if isinstance(part.get("Ref"), str):
            found.add(part["Ref"])
        attribute = part.get("Fn::GetAtt")
        if isinstance(attribute, list):
            found.add(attribute[0])
        elif isinstance(attribute, str):
            found.add(attribute.split(".")[0])
        sub = part.get("Fn::Sub")
        text = sub[0] if isinstance(sub, list) else sub
        if isinstance(text, str):
            found |= {match.split(".")[0] for match in re.findall(r"\$\{([^!}][^}]*)\}", text)}
        find_in_map = part.get("Fn::FindInMap")
        if isinstance(find_in_map, list):
            found.add(find_in_map[0])
    return found


# -- what the code emits ------------------------------------------------------------------------------
@cache
def base_dimensions() -> frozenset[str]:
    """The dimensions of a plain `count`, read from the EMF record Powertools would print."""
    count(Metric.REFUNDS_SYNCED)
    try:
        record = metrics.serialize_metric_set()
    finally:
        metrics.clear_metrics()
    (dimension_set,) = record["_aws"]["CloudWatchMetrics"][0]["Dimensions"]
    return frozenset(dimension_set)


def metric_members(node: ast.expr) -> list[str]:
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "Metric":
        return [node.attr]
    if isinstance(node, ast.IfExp):
        return metric_members(node.body) + metric_members(node.orelse)
    return []


@cache
def emitted_dimension_sets() -> dict[str, frozenset[frozenset[str]]]:
    """Metric name -> every dimension set its call sites emit, found by reading the package's code:
    `count(Metric.X, ...)` emits the base set, `count_by(Metric.X, "dim", ...)` the base set plus dim."""
    package = Path(observability.__file__).parent
    found: dict[str, set[frozenset[str]]] = defaultdict(set)
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.args):
                continue
            members = metric_members(node.args[0])
            if not members or node.func.id not in ("count", "count_by"):
                continue
            extra: frozenset[str] = frozenset()
            if node.func.id == "count_by":
                dimension = node.args[1]
                assert isinstance(dimension, ast.Constant) and isinstance(dimension.value, str), (
                    f"{path}:{node.lineno}: count_by's dimension must be a literal for this test to read it"
                )
                extra = frozenset({dimension.value})
            for member in members:
                found[Metric[member].value].add(base_dimensions() | extra)
    return {name: frozenset(sets) for name, sets in found.items()}


def test_every_metric_carries_service_and_stage_and_a_breakdown_adds_its_one_dimension(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert base_dimensions() == {"service", "stage"}

    count_by(Metric.REFUNDS_HELD_BY_REASON, "reason", "AMOUNT_MISMATCH")

    record = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    (dimension_set,) = record["_aws"]["CloudWatchMetrics"][0]["Dimensions"]
    assert set(dimension_set) == {"service", "stage", "reason"}
    assert record["service"] == observability.SERVICE == GLOBAL_ENVIRONMENT["POWERTOOLS_SERVICE_NAME"]
    assert record["_aws"]["CloudWatchMetrics"][0]["Namespace"] == observability.NAMESPACE


def test_the_code_reading_finds_the_breakdowns_the_alarms_depend_on() -> None:
    emitted = emitted_dimension_sets()
    assert emitted[Metric.REFUNDS_HELD_BY_REASON] == {frozenset({"service", "stage", "reason"})}
    assert emitted[Metric.AMOUNT_REFUNDED] == {frozenset({"service", "stage", "currency"})}
    assert emitted[Metric.POLLER_RUNS_COMPLETED] == {frozenset({"service", "stage"})}


# -- the template's metric references -------------------------------------------------------------------
def dashboard_body() -> dict[str, Any]:
    """The dashboard JSON with ${Name} rendered as <Name> and ${!literal} as ${literal}."""
    text = RESOURCES["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    assert isinstance(text, str)
    rendered = re.sub(r"\$\{([^!}][^}]*)\}", r"<\1>", text).replace("${!", "${")
    body: dict[str, Any] = json.loads(rendered)
    return body


def metric_widgets() -> list[dict[str, Any]]:
    return [widget for widget in dashboard_body()["widgets"] if widget["type"] == "metric"]


def dashboard_metrics() -> list[tuple[str, str, dict[str, str]]]:
    """(namespace, metric name, dimensions) of every plain metric line of the dashboard."""
    lines = []
    for widget in metric_widgets():
        for entry in widget["properties"]["metrics"]:
            if isinstance(entry[0], dict):
                continue  # an expression, see dashboard_searches()
            namespace, name, *rest = [part for part in entry if not isinstance(part, dict)]
            lines.append((namespace, name, dict(zip(rest[::2], rest[1::2], strict=True))))
    return lines


SEARCH = re.compile(
    r"SEARCH\('\{(?P<namespace>[^,}]+),(?P<schema>[^}]*)\}(?P<terms>[^']*)'",
)


def dashboard_searches() -> list[tuple[str, str, dict[str, str]]]:
    """(namespace, metric name, dimensions) of every SEARCH expression: the schema's dimension names,
    with the values the search pins (service, stage)."""
    found = []
    for widget in metric_widgets():
        for entry in widget["properties"]["metrics"]:
            if not isinstance(entry[0], dict):
                continue
            match = SEARCH.search(entry[0]["expression"])
            assert match, entry
            terms = dict(re.findall(r'(\w+)="([^"]*)"', match["terms"]))
            name = terms.pop("MetricName")
            dims = {dimension: terms.get(dimension, "*") for dimension in match["schema"].split(",")}
            found.append((match["namespace"], name, dims))
    return found


def alarm_metrics() -> list[tuple[str, str, str, dict[str, Any]]]:
    """(alarm, namespace, metric name, dimensions) of every metric an alarm watches."""
    found = []
    for name, resource in resources_of("AWS::CloudWatch::Alarm").items():
        properties = resource["Properties"]
        if "MetricName" in properties:
            found.append(
                (
                    name,
                    properties["Namespace"],
                    properties["MetricName"],
                    dimensions(properties.get("Dimensions", [])),
                )
            )
        for query in properties.get("Metrics", []):
            if "MetricStat" in query:
                metric = query["MetricStat"]["Metric"]
                found.append(
                    (
                        name,
                        metric["Namespace"],
                        metric["MetricName"],
                        dimensions(metric.get("Dimensions", [])),
                    )
                )
    return found


def custom_metric_references() -> list[tuple[str, str, dict[str, Any], Any]]:
    """(where, metric name, dimensions, how the stage is written there) for every RefundSync metric."""
    references: list[tuple[str, str, dict[str, Any], Any]] = [
        (f"alarm {alarm_name}", metric, dims, STAGE_REF)
        for alarm_name, namespace, metric, dims in alarm_metrics()
        if namespace == observability.NAMESPACE
    ]
    references += [
        (f"dashboard metric {metric}", metric, dims, STAGE_IN_DASHBOARD)
        for namespace, metric, dims in dashboard_metrics()
        if namespace == observability.NAMESPACE
    ]
    references += [
        (f"dashboard search {metric}", metric, dims, STAGE_IN_DASHBOARD)
        for namespace, metric, dims in dashboard_searches()
        if namespace == observability.NAMESPACE
    ]
    return references


def test_every_custom_metric_an_alarm_or_the_dashboard_names_is_emitted_with_those_dimensions() -> None:
    catalogue = {metric.value for metric in Metric}
    emitted = emitted_dimension_sets()
    references = custom_metric_references()

    assert len(references) > 20  # the dashboard and the alarms were found at all
    for where, metric, dims, stage in references:
        assert metric in catalogue, f"{where}: {metric} is not in refund_sync.observability.Metric"
        assert metric in emitted, f"{where}: no code emits {metric}"
        assert frozenset(dims) in emitted[metric], (
            f"{where}: dimensions {sorted(dims)}; the code emits {sorted(map(sorted, emitted[metric]))}"
        )
        assert dims["service"] == GLOBAL_ENVIRONMENT["POWERTOOLS_SERVICE_NAME"] == observability.SERVICE
        assert dims["stage"] == stage, f"{where}: the stage dimension must follow the Stage parameter"


def test_custom_metrics_live_in_the_namespace_the_functions_write_to() -> None:
    namespaces = {namespace for _, namespace, _, _ in alarm_metrics()}
    namespaces |= {namespace for namespace, _, _ in dashboard_metrics() + dashboard_searches()}

    assert namespaces == {observability.NAMESPACE, "AWS/SQS", "AWS/Lambda"}
    assert GLOBAL_ENVIRONMENT["POWERTOOLS_METRICS_NAMESPACE"] == observability.NAMESPACE
    assert GLOBAL_ENVIRONMENT["STAGE"] == STAGE_REF


# -- the alarms -----------------------------------------------------------------------------------------
def test_every_alarm_users_rely_on_exists_notifies_the_topic_and_says_what_to_check_first() -> None:
    alarms = resources_of("AWS::CloudWatch::Alarm")

    assert set(alarms) >= ALARMS_USERS_RELY_ON
    for name, resource in alarms.items():
        properties = resource["Properties"]
        assert TOPIC in properties["AlarmActions"], name
        description = json.dumps(properties["AlarmDescription"])
        assert "docs/runbook.md" in description, name
        assert "`refund-sync failures`" in description or "`refund-sync status`" in description, name


def test_the_alarm_topic_can_mail_an_operator() -> None:
    subscription = RESOURCES["AlarmEmailSubscription"]
    assert subscription["Condition"] == "HasAlarmEmail"
    assert subscription["Properties"]["TopicArn"] == TOPIC
    assert subscription["Properties"]["Endpoint"] == {"Ref": "AlarmEmail"}


def test_any_message_in_the_dead_letter_queue_raises_the_alarm() -> None:
    dlq = alarm("DeadLetterQueueAlarm")
    assert (dlq["Namespace"], dlq["MetricName"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
    assert get_att(dimensions(dlq["Dimensions"])["QueueName"]) == "DeadLetterQueue.QueueName"
    assert (dlq["ComparisonOperator"], dlq["Threshold"], dlq["Period"]) == ("GreaterThanThreshold", 0, 300)


def test_consumer_errors_raise_the_alarm() -> None:
    errors = alarm("ConsumerErrorsAlarm")
    assert (errors["Namespace"], errors["MetricName"]) == ("AWS/Lambda", "Errors")
    assert dimensions(errors["Dimensions"]) == {"FunctionName": {"Ref": "ConsumerFunction"}}
    assert (errors["ComparisonOperator"], errors["Threshold"]) == ("GreaterThanThreshold", 0)


def test_a_failed_poller_run_or_a_poller_lambda_error_raises_the_alarm() -> None:
    failed = alarm("PollerFailedAlarm")
    queries = {query["Id"]: query for query in failed["Metrics"]}
    watched = {
        query_id: (query["MetricStat"]["Metric"]["MetricName"], query["MetricStat"]["Stat"])
        for query_id, query in queries.items()
        if "MetricStat" in query
    }
    (result,) = [query for query in failed["Metrics"] if query.get("ReturnData", True)]

    assert sorted(watched.values()) == [("Errors", "Sum"), (Metric.POLLER_FAILURES.value, "Sum")]
    lambda_errors = next(
        q
        for q in queries.values()
        if "MetricStat" in q and q["MetricStat"]["Metric"]["Namespace"] == "AWS/Lambda"
    )
    assert dimensions(lambda_errors["MetricStat"]["Metric"]["Dimensions"]) == {
        "FunctionName": {"Ref": "PollerFunction"}
    }
    assert all(query_id in result["Expression"] for query_id in watched)
    assert (failed["ComparisonOperator"], failed["Threshold"]) == ("GreaterThanOrEqualToThreshold", 1)


def test_a_poller_that_stops_completing_runs_raises_the_alarm_after_n_schedule_periods() -> None:
    silent = alarm("PollerNotRunningAlarm")

    assert silent["MetricName"] == Metric.POLLER_RUNS_COMPLETED.value
    assert (silent["Statistic"], silent["ComparisonOperator"], silent["Threshold"]) == (
        "Sum",
        "LessThanThreshold",
        1,
    )
    # no data is no run
    assert silent["TreatMissingData"] == "breaching"
    assert (
        silent["EvaluationPeriods"] == silent["DatapointsToAlarm"] == {"Ref": "PollerMissedRunsBeforeAlarm"}
    )
    assert PARAMETERS["PollerMissedRunsBeforeAlarm"]["Default"] == 3
    assert silent["Period"] == {
        "Fn::FindInMap": ["SchedulePeriod", {"Ref": "SchedulePeriodMinutes"}, "Seconds"]
    }


def test_the_alarm_period_and_the_default_schedule_come_from_the_same_minutes() -> None:
    minutes = PARAMETERS["SchedulePeriodMinutes"]
    periods = TEMPLATE["Mappings"]["SchedulePeriod"]
    schedule = RESOURCES["PollerFunction"]["Properties"]["Events"]["Schedule"]["Properties"]

    assert {str(value) for value in minutes["AllowedValues"]} == set(periods)
    assert all(periods[key]["Seconds"] == int(key) * 60 for key in periods)
    assert minutes["Default"] == 5
    # CloudWatch allows an evaluation window of at most one day
    assert max(minutes["AllowedValues"]) * 60 * PARAMETERS["PollerMissedRunsBeforeAlarm"]["MaxValue"] <= 86400
    condition, custom, derived = schedule["ScheduleExpression"]["Fn::If"]
    assert (condition, custom) == ("HasCustomSchedule", {"Ref": "ScheduleExpression"})
    assert derived == {"Fn::Sub": "rate(${SchedulePeriodMinutes} minutes)"}
    # the poller finishes before the next scheduled run starts
    assert RESOURCES["PollerFunction"]["Properties"]["Timeout"] < min(minutes["AllowedValues"]) * 60


def test_every_hold_where_money_may_have_moved_raises_the_decision_alarm() -> None:
    held = alarm("RefundNeedsDecisionAlarm")
    watched = {
        dimensions(query["MetricStat"]["Metric"]["Dimensions"])["reason"]: query["Id"]
        for query in held["Metrics"]
        if "MetricStat" in query
    }
    (result,) = [query for query in held["Metrics"] if query.get("ReturnData", True)]
    money_may_have_moved = {
        Reason.CREATE_UNCERTAIN,
        Reason.ORDER_CHANGED_AFTER_SUBMIT,
        Reason.CHANGED_AFTER_SYNC,
        Reason.PARTLY_DECLINED,
    }
    assert set(watched) == {reason.name for reason in money_may_have_moved}
    assert all(reason.outcome is Outcome.HELD for reason in money_may_have_moved)
    assert all(query_id in result["Expression"] for query_id in watched.values())
    assert (held["ComparisonOperator"], held["Threshold"]) == ("GreaterThanOrEqualToThreshold", 1)


def test_a_refund_held_for_amount_mismatch_raises_the_alarm() -> None:
    mismatch = alarm("AmountMismatchAlarm")

    assert mismatch["MetricName"] == Metric.REFUNDS_HELD_BY_REASON.value
    assert dimensions(mismatch["Dimensions"])["reason"] == Reason.AMOUNT_MISMATCH.name
    # it is counted under *held*, so the alarm watches the right breakdown
    assert Reason.AMOUNT_MISMATCH.outcome is Outcome.HELD
    assert (mismatch["ComparisonOperator"], mismatch["Threshold"]) == ("GreaterThanOrEqualToThreshold", 1)


# -- the dashboard --------------------------------------------------------------------------------------
def test_the_dashboard_shows_every_alarm_state() -> None:
    (alarm_widget,) = [widget for widget in dashboard_body()["widgets"] if widget["type"] == "alarm"]
    shown = {arn.removeprefix("<").removesuffix(".Arn>") for arn in alarm_widget["properties"]["alarms"]}
    assert shown == set(resources_of("AWS::CloudWatch::Alarm"))


def test_the_dashboard_shows_what_an_operator_looks_for() -> None:
    plain = {(namespace, name) for namespace, name, _ in dashboard_metrics()}
    searched = {name for _, name, _ in dashboard_searches()}
    by_function = {
        (name, dims["FunctionName"])
        for namespace, name, dims in dashboard_metrics()
        if namespace == "AWS/Lambda"
    }
    by_queue = {
        (name, dims["QueueName"]) for namespace, name, dims in dashboard_metrics() if namespace == "AWS/SQS"
    }

    wanted = {
        Metric.REFUNDS_SYNCED,
        Metric.REFUNDS_FAILED,
        Metric.REFUNDS_HELD,
        Metric.BIGCOMMERCE_CALLS,
        Metric.BIGCOMMERCE_THROTTLES,
        Metric.BIGCOMMERCE_RETRIES,
        Metric.NETSUITE_CALLS,
        Metric.NETSUITE_THROTTLES,
        Metric.NETSUITE_RETRIES,
        Metric.POLLER_PAGES,
        Metric.REFUNDS_ENQUEUED,
        Metric.POLLER_LAG_SECONDS,
    }
    assert {(observability.NAMESPACE, metric.value) for metric in wanted} <= plain
    assert searched == {
        Metric.REFUNDS_FAILED_BY_REASON.value,
        Metric.REFUNDS_HELD_BY_REASON.value,
        Metric.AMOUNT_REFUNDED.value,
    }
    for function in ("<ConsumerFunction>", "<PollerFunction>"):
        assert {(name, function) for name in ("Errors", "Duration", "Throttles")} <= by_function
    assert ("ApproximateNumberOfMessagesVisible", "<DeadLetterQueue.QueueName>") in by_queue
    assert {
        ("ApproximateNumberOfMessagesVisible", "<RefundQueue.QueueName>"),
        ("ApproximateAgeOfOldestMessage", "<RefundQueue.QueueName>"),
    } <= by_queue


def test_the_dashboard_refers_only_to_things_the_template_defines() -> None:
    text = RESOURCES["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    known = set(RESOURCES) | set(PARAMETERS) | {"AWS::Region", "AWS::StackName"}
    assert names_referenced(RESOURCES["Dashboard"]) <= known, text


# -- queues, table, consumer --------------------------------------------------------------------------
def test_both_queues_are_fifo() -> None:
    for name in ("RefundQueue", "DeadLetterQueue"):
        properties = RESOURCES[name]["Properties"]
        assert properties["FifoQueue"] is True
        assert properties["QueueName"]["Fn::Sub"].endswith(".fifo")


def test_a_batch_still_in_work_is_never_redelivered() -> None:
    visibility = RESOURCES["RefundQueue"]["Properties"]["VisibilityTimeout"]
    assert visibility >= 6 * RESOURCES["ConsumerFunction"]["Properties"]["Timeout"]


def test_the_consumers_timeout_fits_a_refund_started_at_the_last_moment_it_may_start() -> None:
    # Each refund of a batch starts only with this much time left (its reads, its create and the record
    # of its answer, each call up to BigCommerce's timeout); the first refund of every batch must fit.
    settings = Settings()
    assert RESOURCES["ConsumerFunction"]["Properties"]["Timeout"] >= settings.refund_start_seconds
    assert settings.uncertain_create_grace_seconds >= settings.bigcommerce_timeout_seconds


def test_the_dead_letter_queue_can_be_redriven_to_the_refund_queue() -> None:
    refund_queue = RESOURCES["RefundQueue"]["Properties"]
    allow = RESOURCES["DeadLetterQueue"]["Properties"]["RedriveAllowPolicy"]

    assert get_att(refund_queue["RedrivePolicy"]["deadLetterTargetArn"]) == "DeadLetterQueue.Arn"
    assert allow["redrivePermission"] == "byQueue"
    (source,) = allow["sourceQueueArns"]
    assert source["Fn::Sub"].endswith(":" + refund_queue["QueueName"]["Fn::Sub"])


def test_the_consumer_reports_partial_batch_failures_and_bounds_its_concurrency() -> None:
    event = RESOURCES["ConsumerFunction"]["Properties"]["Events"]["RefundQueue"]["Properties"]
    assert get_att(event["Queue"]) == "RefundQueue.Arn"
    assert "ReportBatchItemFailures" in event["FunctionResponseTypes"]
    assert event["ScalingConfig"]["MaximumConcurrency"] == {"Ref": "ConsumerMaxConcurrency"}


def test_the_state_table_is_recoverable_encrypted_and_kept() -> None:
    table = RESOURCES["StateTable"]
    assert table["Properties"]["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert table["Properties"]["SSESpecification"]["SSEEnabled"] is True
    assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"


# -- outputs, parameters, settings, secrets --------------------------------------------------------------
@pytest.mark.parametrize(
    "kind",
    [
        "AWS::SQS::Queue",
        "AWS::DynamoDB::Table",
        "AWS::Serverless::Function",
        "AWS::SecretsManager::Secret",
        "AWS::CloudWatch::Dashboard",
        "AWS::SNS::Topic",
    ],
)
def test_the_outputs_name_every_resource_an_operator_looks_for(kind: str) -> None:
    outputs = [output["Value"] for output in TEMPLATE["Outputs"].values()]
    for name, resource in resources_of(kind).items():
        own_name = resource["Properties"].get("Name")  # secrets: named by the stack, or given
        assert any(
            name in names_referenced(value) or (own_name is not None and own_name in walk(value))
            for value in outputs
        ), f"no output names {name}"


def test_the_outputs_carry_every_key_the_operator_cli_reads() -> None:
    wanted = {field.alias for field in StackOutputs.model_fields.values()}
    assert wanted <= set(TEMPLATE["Outputs"])


def test_every_parameter_is_used() -> None:
    used = names_referenced({key: value for key, value in TEMPLATE.items() if key != "Parameters"})
    assert set(PARAMETERS) - used == set()


def function_environments() -> Iterator[tuple[str, str, Any]]:
    for name, value in GLOBAL_ENVIRONMENT.items():
        yield "Globals", name, value
    for function, resource in resources_of("AWS::Serverless::Function").items():
        variables = resource["Properties"].get("Environment", {}).get("Variables", {})
        for name, value in variables.items():
            yield function, name, value


def test_every_environment_variable_is_a_setting_the_code_reads() -> None:
    settings = set(Settings.model_fields)
    for where, name, _ in function_environments():
        if name.startswith("POWERTOOLS_"):
            continue
        assert name.lower() in settings, f"{where}: {name} is read by nothing (see refund_sync.config)"


CREDENTIAL_WORDS = re.compile(r"token|secret|password|private|credential|key", re.IGNORECASE)
LOOKS_LIKE_A_CREDENTIAL = re.compile(r"-----BEGIN|^[A-Za-z0-9+/=_-]{32,}$")


def test_no_secret_value_sits_in_parameters_or_environment_variables() -> None:
    for name, parameter in PARAMETERS.items():
        if CREDENTIAL_WORDS.search(name):
            assert name.endswith("SecretName"), f"parameter {name} would carry a credential; use the secret"
        assert not LOOKS_LIKE_A_CREDENTIAL.search(str(parameter.get("Default", ""))), name
    for where, name, value in function_environments():
        if CREDENTIAL_WORDS.search(name):
            assert name.endswith("_SECRET_NAME"), f"{where}: {name} would carry a credential"
        assert not LOOKS_LIKE_A_CREDENTIAL.search(json.dumps(value)), f"{where}: {name}"


def test_the_secrets_the_stack_creates_hold_empty_fields_to_fill_in() -> None:
    for name, secret in resources_of("AWS::SecretsManager::Secret").items():
        fields = json.loads(secret["Properties"]["SecretString"])
        assert fields, name
        assert set(fields.values()) == {""}, name
