"""The operators' two managed policies against what each CLI command really calls, both ways.

Every command runs against the sandbox (its calls are the same boto3 calls a stack gets: the sandbox
serves Lambda's Invoke API too), with a hook on the CLI's AWS session recording each call as an IAM
action on one of the stack's resources. Then: every call a looking command makes is granted by
ReadOnlyPolicy, every call an acting command makes by OperatorPolicy, and each policy grants nothing
its commands never call. Neither may read a secret: what needs NetSuite or BigCommerce runs in the
operator function.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from refund_sync_cli.target import Target, resolve_sandbox
from refund_sync_sandbox.aws import load_template
from refund_sync_sandbox.netsuite import SandboxCredentials
from refund_sync_sandbox.sandbox import running_sandbox
from refund_sync_sandbox.scenarios import DEMO_SETTINGS, scenarios, seed
from refund_sync_sandbox.serve import write_outputs
from tests.cli.support import run_cli

ROOT = Path(__file__).resolve().parents[2]
RESOURCES: dict[str, dict[str, Any]] = load_template()["Resources"]
STACK = "the stack"  # Ref AWS::StackId

Grant = tuple[str, str]  # (IAM action, the stack's resource it is on)

LOOKING = {
    "status": ["status"],
    "show": ["show", "CM-5001"],
    "failures": ["failures"],
    "redrive (preview)": ["redrive"],
}
ACTING = {
    "preview": ["preview", "CM-5008"],
    "sync": ["sync", "CR-5013", "--wait"],
    "redrive one refund": ["redrive", "CM-5010", "--wait"],
    "redrive everything": ["redrive", "--yes", "--wait"],
    "discard": ["discard", "CR-5011", "--reason", "corrected in NetSuite"],
    "resolve": ["resolve", "CM-5008", "--refunded-by-hand"],
}
# On a stack every command first reads the stack's outputs (target.resolve_stack; the stubbed-stack tests
# in tests/cli show the call); the sandbox has its outputs in a file instead.
ON_A_STACK: set[Grant] = {("cloudformation:DescribeStacks", STACK)}
# "No permissions are required to perform this operation" (AWS STS API Reference, GetCallerIdentity):
# `discard` and `resolve` note who asked.
NEEDS_NO_PERMISSION = {"sts:GetCallerIdentity"}
# The batch forms are authorised by the single action (Amazon SQS API Reference, each *Batch action).
BATCH_OF = {"SendMessageBatch": "SendMessage", "DeleteMessageBatch": "DeleteMessage"} | {
    "ChangeMessageVisibilityBatch": "ChangeMessageVisibility"
}


@dataclass
class Recorder:
    target: Target
    calls: list[Grant]

    def resource_of(self, service: str, params: dict[str, Any]) -> str:
        outputs = self.target.outputs
        if "QueueUrl" in params:
            return {
                outputs.refund_queue_url: "RefundQueue",
                outputs.dead_letter_queue_url: "DeadLetterQueue",
            }[params["QueueUrl"]]
        if service == "dynamodb":
            tables = params.get("RequestItems", {params.get("TableName"): None})
            assert set(tables) == {outputs.state_table_name}, tables
            index = params.get("IndexName")
            return f"StateTable/index/{index}" if index else "StateTable"
        if service == "lambda":
            assert params["FunctionName"] == outputs.operator_function_name
            return "OperatorFunction"
        if service == "cloudformation":
            return STACK
        return ""

    def record(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        service = model.service_model.endpoint_prefix
        operation = BATCH_OF.get(model.name, model.name)
        action = (
            "lambda:InvokeFunction"
            if (service, operation) == ("lambda", "Invoke")
            else f"{service}:{operation}"
        )
        self.calls.append((action, self.resource_of(service, params)))


@pytest.fixture(scope="module")
def recorder(
    tmp_path_factory: pytest.TempPathFactory, moto_endpoint: str, netsuite_credentials: SandboxCredentials
) -> Iterator[Recorder]:
    with running_sandbox(
        settings=DEMO_SETTINGS, aws_endpoint=moto_endpoint, credentials=netsuite_credentials
    ) as sandbox:
        seed(sandbox.account, sandbox.store.seed, scenarios())
        sandbox.run_poller()
        sandbox.drain()
        outputs = tmp_path_factory.mktemp("policies") / "outputs.json"
        write_outputs(sandbox, outputs)
        target = resolve_sandbox(outputs)
        recording = Recorder(target, [])
        # The CLI's session is this one (one per sandbox and process): its calls pass through the hook.
        target.session.events.register("before-parameter-build", recording.record)
        try:
            yield recording
        finally:
            target.session.events.unregister("before-parameter-build", recording.record)


def calls_of(recorder: Recorder, command: list[str]) -> set[Grant]:
    recorder.calls.clear()
    result = run_cli(*command, "--sandbox-file", recorder.target.name)
    assert result.exit_code in (0, 1), result.output
    assert recorder.calls, f"{command}: no AWS call recorded"
    return {call for call in recorder.calls if call[0] not in NEEDS_NO_PERMISSION}


def resource_names(resource: Any) -> list[str]:
    """The stack's resource a policy statement's Resource names, as Recorder names them."""
    if isinstance(resource, list):
        return [name for item in resource for name in resource_names(item)]
    if resource == {"Ref": "AWS::StackId"}:
        return [STACK]
    if isinstance(resource, dict) and "Fn::GetAtt" in resource:
        target = resource["Fn::GetAtt"]
        return [target[0] if isinstance(target, list) else target.split(".")[0]]
    if isinstance(resource, dict) and "Fn::Sub" in resource:
        text = resource["Fn::Sub"]
        assert text.startswith("${StateTable.Arn}/index/"), text
        return ["StateTable/index/" + text.removeprefix("${StateTable.Arn}/index/")]
    raise AssertionError(f"a resource this test cannot name: {resource}")


def granted(policy: str) -> set[Grant]:
    document = RESOURCES[policy]["Properties"]["PolicyDocument"]
    grants: set[Grant] = set()
    for statement in document["Statement"]:
        assert statement["Effect"] == "Allow" and "Condition" not in statement
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        grants |= {(action, name) for action in actions for name in resource_names(statement["Resource"])}
    return grants


def allows(grants: set[Grant], call: Grant) -> bool:
    action, resource = call
    return any(
        action == granted_action
        and (resource == on or (on.endswith("/*") and resource.startswith(on.removesuffix("*"))))
        for granted_action, on in grants
    )


@pytest.fixture(scope="module")
def calls(recorder: Recorder) -> dict[str, set[Grant]]:
    # Looking first: the acting commands change the dead-letter queue the looking ones read.
    return {name: calls_of(recorder, command) for name, command in {**LOOKING, **ACTING}.items()}


@pytest.mark.parametrize(("policy", "commands"), [("ReadOnlyPolicy", LOOKING), ("OperatorPolicy", ACTING)])
def test_every_call_a_command_makes_is_granted_by_its_policy(
    calls: dict[str, set[Grant]], policy: str, commands: dict[str, list[str]]
) -> None:
    grants = granted(policy)
    for name in commands:
        missing = {call for call in calls[name] | ON_A_STACK if not allows(grants, call)}
        assert not missing, f"`refund-sync {name}` calls {sorted(missing)}, which {policy} does not grant"


@pytest.mark.parametrize(("policy", "commands"), [("ReadOnlyPolicy", LOOKING), ("OperatorPolicy", ACTING)])
def test_every_grant_of_a_policy_is_used_by_one_of_its_commands(
    calls: dict[str, set[Grant]], policy: str, commands: dict[str, list[str]]
) -> None:
    used = set().union(*(calls[name] for name in commands)) | ON_A_STACK
    unused = {grant for grant in granted(policy) if not any(allows({grant}, call) for call in used)}
    assert not unused, f"{policy} grants {sorted(unused)}, which none of {sorted(commands)} calls"


def test_acting_goes_through_the_operator_function_and_neither_policy_reads_a_secret(
    calls: dict[str, set[Grant]],
) -> None:
    # Acting commands change nothing themselves: their one non-read call is the operator function
    acting_calls = set().union(*(calls[name] for name in ACTING))
    assert {action for action, _ in acting_calls} - {
        "dynamodb:BatchGetItem",
        "dynamodb:Query",
    } == {"lambda:InvokeFunction"}
    # Looking never invokes, sends or deletes
    looking_actions = {action for name in LOOKING for action, _ in calls[name]}
    assert not looking_actions & {"lambda:InvokeFunction", "sqs:DeleteMessage", "sqs:SendMessage"}
    for policy in ("ReadOnlyPolicy", "OperatorPolicy"):
        assert not {action for action, _ in granted(policy) if action.startswith("secretsmanager:")}, policy
    assert ("lambda:InvokeFunction", "OperatorFunction") not in granted("ReadOnlyPolicy")


def test_the_check_refuses_a_policy_that_grants_too_little_or_too_much() -> None:
    # what the tests above would report, were a statement missing or too wide
    grants = {("dynamodb:Query", "StateTable/index/by_document_number")}
    assert allows(grants, ("dynamodb:Query", "StateTable/index/by_document_number"))
    assert not allows(grants, ("dynamodb:Query", "StateTable/index/by_status"))
    assert allows(
        {("dynamodb:Query", "StateTable/index/*")}, ("dynamodb:Query", "StateTable/index/by_status")
    )
    assert not allows(grants, ("dynamodb:GetItem", "StateTable"))
