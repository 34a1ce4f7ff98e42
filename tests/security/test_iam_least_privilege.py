"""IAM, least privilege: no wildcard action, every resource one of this stack's, no permission unused.

Every function runs under a role written out in template.yaml (SAM's generated roles carry AWS managed
policies on "*"), so what the stack grants is in the template and is checked here: the roles' inline
policies, the log policies, the operators' two managed policies (which tests/security/
test_operator_policies.py also checks against each CLI command's calls). SAM still makes one role per
schedule, which may only invoke its own function (`sam validate` shows the transform). The one exception
is X-Ray, whose PutTraceSegments and PutTelemetryRecords accept no resource but "*" (allowed below, by name).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from refund_sync_sandbox.aws import load_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template()
RESOURCES: dict[str, dict[str, Any]] = TEMPLATE["Resources"]
POLICY_KINDS = ("AWS::IAM::Role", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")

# Actions that accept no resource-level permission: only "*" works for them.
ONLY_ON_EVERY_RESOURCE = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
# Actions AWS calls on the functions' behalf, not their code: the SQS event source, the Lambda runtime.
CALLED_BY_AWS = {
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
    "logs:CreateLogGroup",
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    *ONLY_ON_EVERY_RESOURCE,
}
# Parameters that name something the stack uses but does not create: the secrets an operator may bring.
OWN_BY_NAME = {"NetSuiteSecretName", "BigCommerceSecretName"}


def statements() -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, statement) for every permission statement the template grants."""
    for name, resource in RESOURCES.items():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::IAM::Role":
            documents = [policy["PolicyDocument"] for policy in properties.get("Policies", [])]
        elif resource["Type"] in POLICY_KINDS:
            documents = [properties["PolicyDocument"]]
        else:
            continue
        for document in documents:
            for statement in document["Statement"]:
                yield f"{name} {statement.get('Sid', '')}".strip(), statement


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def granted_actions() -> set[str]:
    return {action for _, statement in statements() for action in as_list(statement["Action"])}


def functions() -> dict[str, dict[str, Any]]:
    return {name: r for name, r in RESOURCES.items() if r["Type"] == "AWS::Serverless::Function"}


# -- who runs with what -----------------------------------------------------------------------------------
def test_every_function_runs_under_a_role_written_in_the_template() -> None:
    assert functions(), "the template defines no function"
    assert not {"Role", "Policies"} & set(TEMPLATE["Globals"]["Function"])
    for name, function in functions().items():
        properties = function["Properties"]
        assert "Policies" not in properties, f"{name}: SAM would generate a role with AWS managed policies"
        role = properties.get("Role", {}).get("Fn::GetAtt")
        assert role is not None, f"{name}: give it `Role: !GetAtt <its role>.Arn` (see PollerRole)"
        role_name = role[0] if isinstance(role, list) else role.split(".")[0]
        assert RESOURCES[role_name]["Type"] == "AWS::IAM::Role", name
        assert "ManagedPolicyArns" not in RESOURCES[role_name]["Properties"], role_name


def test_the_functions_events_are_only_those_whose_generated_permissions_are_known_to_be_scoped() -> None:
    # ScheduleV2: SAM's scheduler role may invoke this function only. SQS: with an explicit Role, SAM adds
    # nothing (the role grants the queue's actions itself). Review what SAM generates before adding another.
    for name, function in functions().items():
        for event in function["Properties"].get("Events", {}).values():
            assert event["Type"] in {"ScheduleV2", "SQS"}, (
                f"{name}: review the permissions {event['Type']} brings"
            )
            assert "RoleArn" not in event.get("Properties", {}), name


def test_each_role_serves_one_function_and_only_lambda_can_assume_it() -> None:
    roles = [name for name, r in RESOURCES.items() if r["Type"] == "AWS::IAM::Role"]
    users = [f["Properties"]["Role"]["Fn::GetAtt"] for f in functions().values()]
    assert sorted(role[0] if isinstance(role, list) else role.split(".")[0] for role in users) == sorted(
        roles
    )
    for name in roles:
        (trust,) = RESOURCES[name]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert trust == {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }, name


# -- actions ----------------------------------------------------------------------------------------------
def test_no_statement_grants_a_wildcard_action_or_works_by_exclusion() -> None:
    found = list(statements())
    assert len(found) >= 10  # the walk found the roles, the log policies and the operators' policy
    for where, statement in found:
        assert statement["Effect"] == "Allow", where
        assert not {"NotAction", "NotResource", "NotPrincipal"} & set(statement), where
        for action in as_list(statement["Action"]):
            assert re.fullmatch(r"[a-z0-9-]+:[A-Za-z0-9]+", action), f"{where}: {action} is not one action"


def _code() -> str:
    return "\n".join(
        path.read_text(encoding="utf-8")
        for folder in ("layers/shared", "functions", "cli")
        for path in sorted((ROOT / folder).rglob("*.py"))
    )


def boto3_method(action: str) -> str:
    """dynamodb:BatchGetItem -> batch_get_item, the client method that needs the action."""
    if action == "lambda:InvokeFunction":
        return "invoke"
    return re.sub(r"(?<!^)(?=[A-Z])", "_", action.split(":")[1]).lower()


def test_every_action_granted_is_one_the_code_or_aws_on_its_behalf_uses() -> None:
    code = _code()
    for action in granted_actions() - CALLED_BY_AWS:
        if action == "secretsmanager:GetSecretValue":
            assert "parameters.get_secret(" in code  # Powertools Parameters reads the secrets
            continue
        method = boto3_method(action)
        # a batch call needs the single action's permission (sqs:SendMessage for send_message_batch)
        assert re.search(rf"\.{method}(_batch)?\(", code), f"{action} is granted but nothing calls {method}"


@pytest.mark.parametrize("service", ["dynamodb", "sqs"])
def test_every_call_the_code_makes_is_granted(service: str) -> None:
    adapter = {"dynamodb": "state_store.py", "sqs": "refund_queue.py"}[service]
    code = (ROOT / "layers/shared/refund_sync/adapters" / adapter).read_text(encoding="utf-8")
    called = set(
        re.findall(
            r"\.(get_item|put_item|update_item|delete_item|query|scan|batch_get_item|"
            r"batch_write_item|transact_write_items|send_message|receive_message|"
            r"delete_message|change_message_visibility|get_queue_attributes)(?:_batch)?\(",
            code,
        )
    )
    assert called, f"no {service} call found in {adapter}"
    granted = {boto3_method(action) for action in granted_actions() if action.startswith(f"{service}:")}
    assert called <= granted, f"the code calls {sorted(called - granted)} without a grant"


# -- resources --------------------------------------------------------------------------------------------
def _names(text: str) -> list[str]:
    return [name.split(".")[0] for name in re.findall(r"\$\{([^!}][^}]*)\}", text)]


def is_own(resource: Any, where: str) -> bool:
    """Whether a Resource names only things of this stack: a Ref or GetAtt of one of its resources, or an
    ARN built from one (wildcards only after the stack's part: a table's indexes, a log group's streams)."""
    if isinstance(resource, dict) and "Fn::If" in resource:
        _, yes, no = resource["Fn::If"]
        return is_own(yes, where) and is_own(no, where)
    if isinstance(resource, dict) and "Ref" in resource:
        return resource["Ref"] in RESOURCES or resource["Ref"] == "AWS::StackId"
    if isinstance(resource, dict) and "Fn::GetAtt" in resource:
        target = resource["Fn::GetAtt"]
        return (target[0] if isinstance(target, list) else target.split(".")[0]) in RESOURCES
    if isinstance(resource, dict) and "Fn::Sub" in resource and isinstance(resource["Fn::Sub"], str):
        text = resource["Fn::Sub"]
        own = [
            name
            for name in _names(text)
            if name in RESOURCES or name in OWN_BY_NAME or name == "AWS::StackName"
        ]
        if not own:
            return False
        before_own_part = text[: text.index("${" + own[0])]
        return "*" not in before_own_part and "?" not in before_own_part
    return False


def test_every_resource_is_this_stacks_own_or_accepts_nothing_but_star() -> None:
    for where, statement in statements():
        for resource in as_list(statement["Resource"]):
            if resource == "*":
                # X-Ray has no resource-level permissions; nothing else may use "*"
                assert set(as_list(statement["Action"])) <= ONLY_ON_EVERY_RESOURCE, where
                continue
            assert is_own(resource, where), f"{where}: {resource} is not one of this stack's resources"


def test_the_check_of_resources_refuses_what_is_not_the_stacks() -> None:
    account_wide = {"Fn::Sub": "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:*"}
    any_table = {"Fn::Sub": "arn:${AWS::Partition}:dynamodb:*:${AWS::AccountId}:table/${StateTable}"}
    assert not is_own(account_wide, "example")
    assert not is_own(any_table, "example")
    assert not is_own("arn:aws:s3:::some-bucket/*", "example")
    assert is_own({"Fn::Sub": "${StateTable.Arn}/index/*"}, "example")
