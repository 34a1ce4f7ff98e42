"""Pointing the CLI at a deployed stack (AWS stubbed with botocore's Stubber), and the mistakes a user
can make pointing it anywhere: each is one line saying what to do (or, under --json, a JSON error with
its code), and exit code 2. On a stack, acting means invoking the operator function: the stubs show
that nothing else is called (no secret, no NetSuite or BigCommerce)."""

from __future__ import annotations

import io
import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import boto3
import pytest
from boto3.dynamodb.types import TypeSerializer
from botocore.response import StreamingBody
from botocore.stub import Stubber
from rich.console import Console

from refund_sync.adapters.refund_queue import RefundMessage
from refund_sync.domain.reasons import Reason
from refund_sync.domain.state import RefundState, SyncStatus
from refund_sync_cli import target as target_module
from refund_sync_cli import views
from refund_sync_cli.operations import answered, netsuite_id_of, sync_event
from refund_sync_cli.target import StackOutputs, Target, TargetKind
from tests.cli.support import json_of, run_cli
from tests.factories import refund

STACK = "refund-sync-prod"
ACCOUNT = "123456789012"
QUEUE_ARN = f"arn:aws:sqs:eu-west-1:{ACCOUNT}:{STACK}-refunds.fifo"
DLQ_ARN = f"arn:aws:sqs:eu-west-1:{ACCOUNT}:{STACK}-refunds-dlq.fifo"
DLQ_URL = f"https://sqs.eu-west-1.amazonaws.com/{ACCOUNT}/{STACK}-refunds-dlq.fifo"
OUTPUTS = {
    "RefundQueueUrl": f"https://sqs.eu-west-1.amazonaws.com/{ACCOUNT}/{STACK}-refunds.fifo",
    "RefundQueueArn": QUEUE_ARN,
    "DeadLetterQueueUrl": DLQ_URL,
    "DeadLetterQueueArn": DLQ_ARN,
    "StateTableName": f"{STACK}-state",
    "PollerFunctionName": f"{STACK}-poller",
    "ConsumerFunctionName": f"{STACK}-consumer",
    "OperatorFunctionName": f"{STACK}-operator",
    "NetSuiteSecretName": f"{STACK}/netsuite",
    "BigCommerceSecretName": f"{STACK}/bigcommerce",
    "AlarmTopicArn": f"arn:aws:sns:eu-west-1:{ACCOUNT}:{STACK}-alarms",
}


@dataclass(frozen=True)
class AwsClients:
    session: boto3.session.Session
    clients: dict[str, Any]
    dynamodb: Any


@cache
def aws_clients() -> AwsClients:
    """Built once (loading the service models is the slow part); each test stubs them afresh."""
    session = boto3.session.Session(
        region_name="eu-west-1", aws_access_key_id="test", aws_secret_access_key="test"
    )
    clients = {service: session.client(service) for service in ("cloudformation", "sqs", "lambda", "sts")}
    return AwsClients(session, clients, session.resource("dynamodb"))


class StubbedAws:
    """A real boto3 session whose clients are stubbed: every AWS call must be one the test expects."""

    def __init__(self) -> None:
        built = aws_clients()
        self.session = built.session
        self.clients = built.clients
        self.dynamodb = built.dynamodb
        self.stubbers = {service: Stubber(client) for service, client in self.clients.items()}
        self.stubbers["dynamodb"] = Stubber(self.dynamodb.meta.client)

    def client(self, service: str, **_: object) -> Any:
        return self.clients[service]

    def resource(self, service: str, **_: object) -> Any:
        assert service == "dynamodb"
        return self.dynamodb

    def __getitem__(self, service: str) -> Stubber:
        return self.stubbers[service]

    def stack(self, outputs: dict[str, str] | None = None, status: str = "UPDATE_COMPLETE") -> None:
        self["cloudformation"].add_response(
            "describe_stacks",
            {
                "Stacks": [
                    {
                        "StackName": STACK,
                        "CreationTime": datetime(2026, 1, 5, tzinfo=UTC),
                        "StackStatus": status,
                        "Outputs": [
                            {"OutputKey": key, "OutputValue": value}
                            for key, value in (OUTPUTS if outputs is None else outputs).items()
                        ],
                    }
                ]
            },
            {"StackName": STACK},
        )


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[StubbedAws]:
    stubbed = StubbedAws()
    monkeypatch.setattr(stubbed.session, "client", stubbed.client)
    monkeypatch.setattr(stubbed.session, "resource", stubbed.resource)
    monkeypatch.setattr(target_module, "open_session", lambda profile, region: stubbed.session)
    for stubber in stubbed.stubbers.values():
        stubber.activate()
    yield stubbed
    for stubber in stubbed.stubbers.values():
        stubber.assert_no_pending_responses()
        stubber.deactivate()


def dead_letter(reason: Reason, detail: str) -> dict[str, Any]:
    body = RefundMessage(
        refund=refund(netsuite_id="1038", tran_id="CR-5013", order_id="5013"),
        sent_by="schedule",
        sent_at=datetime(2026, 1, 5, tzinfo=UTC),
    ).model_dump_json(by_alias=True)
    return {
        "MessageId": "m-1",
        "ReceiptHandle": "r-1",
        "Body": body,
        "MessageAttributes": {
            "FailureReason": {"DataType": "String", "StringValue": reason.name},
            "FailureDetail": {"DataType": "String", "StringValue": detail},
        },
    }


def expect_dead_letter_queue_peek(aws: StubbedAws, *, waiting: int) -> None:
    aws["sqs"].add_response(
        "get_queue_attributes",
        {
            "Attributes": {
                "ApproximateNumberOfMessages": str(waiting),
                "ApproximateNumberOfMessagesNotVisible": "0",
                "ApproximateNumberOfMessagesDelayed": "0",
            }
        },
        {
            "QueueUrl": DLQ_URL,
            "AttributeNames": [
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesDelayed",
            ],
        },
    )
    aws["sqs"].add_response(
        "receive_message", {"Messages": [dead_letter(Reason.PAYMENT_NOT_SETTLED, "not settled")]}
    )
    aws["sqs"].add_response("receive_message", {"Messages": []})
    # what was read becomes visible again at once: peeking moves nothing
    aws["sqs"].add_response(
        "change_message_visibility_batch",
        {"Successful": [{"Id": "0"}], "Failed": []},
        {"QueueUrl": DLQ_URL, "Entries": [{"Id": "0", "ReceiptHandle": "r-1", "VisibilityTimeout": 0}]},
    )


def expect_operator(
    aws: StubbedAws, event: dict[str, Any], answer: dict[str, Any], *, error: bool = False
) -> None:
    """The one call an acting command makes on a stack: the operator function, with `event`."""
    payload = json.dumps(answer).encode()
    response: dict[str, Any] = {
        "StatusCode": 200,
        "Payload": StreamingBody(io.BytesIO(payload), len(payload)),
    }
    if error:
        response["FunctionError"] = "Unhandled"
    aws["lambda"].add_response(
        "invoke",
        response,
        {
            "FunctionName": OUTPUTS["OperatorFunctionName"],
            "InvocationType": "RequestResponse",
            "Payload": json.dumps(event).encode(),
        },
    )


def expect_caller(aws: StubbedAws) -> None:
    aws["sts"].add_response(
        "get_caller_identity",
        {"Arn": f"arn:aws:iam::{ACCOUNT}:user/ops", "Account": ACCOUNT, "UserId": "AIDA"},
    )


# -- a deployed stack ----------------------------------------------------------------------------------------
def test_redrive_without_yes_peeks_the_dead_letter_queue_and_moves_nothing(aws: StubbedAws) -> None:
    # Given a stack whose dead-letter queue holds a refund (about 60 waiting)
    aws.stack()
    expect_dead_letter_queue_peek(aws, waiting=60)
    aws["dynamodb"].add_response("batch_get_item", {"Responses": {OUTPUTS["StateTableName"]: []}})

    result = run_cli("redrive", "--stack-name", STACK, "--json")

    # Then it shows what waits, and why, having called nothing but the reads stubbed above
    assert result.exit_code == 0, result.output
    redrive = json_of(result)
    assert redrive["started"] is False
    assert redrive["reasons"] == {"PAYMENT_NOT_SETTLED": 1}
    assert redrive["messages"][0]["refund"] == "Credit Memo CR-5013 (NetSuite id 1038)"
    assert redrive["messages"][0]["action"] == Reason.PAYMENT_NOT_SETTLED.action


def test_redrive_of_one_refund_on_a_stack_asks_the_operator_function(aws: StubbedAws) -> None:
    aws.stack()
    moved = {"refund": "Cash Refund CR-5013 (NetSuite id 1038)", "netsuite_id": "1038", "reason": "X"}
    expect_operator(
        aws,
        {"action": "redrive", "refund": "CR-5013"},
        {"ok": True, "operation": "redrive", "moved": [moved], "skipped": [], "left": 0},
    )

    result = run_cli("redrive", " CR-5013 ", "--stack-name", STACK, "--no-wait", "--json")

    assert result.exit_code == 0, result.output
    assert json_of(result)["result"]["moved"] == [moved]


def test_resolve_and_discard_on_a_stack_ask_the_operator_function_and_say_who_asked(aws: StubbedAws) -> None:
    who = f"arn:aws:iam::{ACCOUNT}:user/ops"
    aws.stack()
    expect_caller(aws)
    expect_operator(
        aws,
        {"action": "discard", "refund": "CR-5011", "reason": "corrected in NetSuite", "requested_by": who},
        {"ok": True, "operation": "discard", "discarded": [], "states": []},
    )

    discarded = run_cli("discard", "CR-5011", "--reason", "corrected in NetSuite", "--stack-name", STACK)

    aws.stack()
    expect_caller(aws)
    expect_operator(
        aws,
        {
            "action": "resolve",
            "refund": "CM-5008",
            "how": "refunded_by_hand",
            "note": "",
            "requested_by": who,
        },
        {"ok": False, "operation": "resolve", "error": {"code": "CANNOT_RESOLVE", "message": "it is SYNCED"}},
    )
    refused = run_cli("resolve", "CM-5008", "--refunded-by-hand", "--stack-name", STACK, "--json")

    assert discarded.exit_code == 0, discarded.output
    assert refused.exit_code == 1
    assert json_of(refused) == {
        "exit_code": 1,
        "error": {"code": "CANNOT_RESOLVE", "message": "it is SYNCED"},
    }


def test_sync_on_a_stack_invokes_the_operator_function(aws: StubbedAws) -> None:
    # Given the refund's state before the sync (to tell its new outcome from the old)
    aws.stack()
    aws["dynamodb"].add_response("batch_get_item", {"Responses": {OUTPUTS["StateTableName"]: []}})
    for _ in range(2):  # cm-77 by document number, as typed and in capitals (CM-77): never seen
        aws["dynamodb"].add_response("query", {"Items": [], "Count": 0, "ScannedCount": 0})
    report = {
        "enqueued": [{"refund": "Cash Refund CR-5013 (NetSuite id 1038)", "bigcommerce_order": "5013"}],
        "not_sent": [],
        "not_found": [],
        "dead_letters_replaced": [],
    }
    expect_operator(
        aws,
        {
            "action": "sync",
            "netsuite_ids": ["1038"],
            "document_numbers": ["cm-77"],
            "bigcommerce_order_ids": ["5013"],
        },
        {"ok": True, "operation": "sync", **report},
    )

    # When the operator syncs without waiting
    result = run_cli("sync", "1038", "cm-77", "--order", "5013", "--stack-name", STACK, "--no-wait", "--json")

    # Then the function's report is shown, and all that is known is that everything was sent
    assert result.exit_code == 0, result.output
    answer = json_of(result)
    assert answer["report"] == report
    assert answer["waited"] is False and answer["ok"] is True


def test_sync_on_a_stack_waits_for_the_new_outcome_not_the_old_one(aws: StubbedAws) -> None:
    # Given CR-5013 FAILED (version 2) before the sync
    aws.stack()
    table = OUTPUTS["StateTableName"]
    before = refund_state(SyncStatus.FAILED, version=2, updated_at=datetime.now(UTC) - timedelta(days=1))
    aws["dynamodb"].add_response("batch_get_item", {"Responses": {table: [wire_item(before)]}})
    report = {
        "enqueued": [{"refund": "Cash Refund CR-5013 (NetSuite id 1038)"}],
        "not_sent": [],
        "not_found": [],
    }
    payload = json.dumps({"ok": True, "operation": "sync", **report}).encode()
    aws["lambda"].add_response(
        "invoke", {"StatusCode": 200, "Payload": StreamingBody(io.BytesIO(payload), len(payload))}
    )
    # When the consumer has synced it (version 3) by the time the CLI looks
    after = before.model_copy(
        update={
            "status": SyncStatus.SYNCED,
            "version": 3,
            "updated_at": datetime.now(UTC),
            "reason_code": None,
            "bigcommerce_refund_id": 77,
        }
    )
    aws["dynamodb"].add_response("batch_get_item", {"Responses": {table: [wire_item(after)]}})

    result = run_cli("sync", "1038", "--stack-name", STACK, "--wait", "--json")

    # Then the new outcome is reported, and the exit code says it synced; its payout is not yet confirmed
    assert result.exit_code == 0, result.output
    [outcome] = json_of(result)["outcomes"]
    assert (outcome["netsuite_id"], outcome["status"], outcome["finished"]) == ("1038", "SYNCED", True)
    assert outcome["payout"] == "to_be_confirmed"


def test_a_failing_operator_function_is_reported_with_its_error(aws: StubbedAws) -> None:
    aws.stack()
    aws["dynamodb"].add_response("batch_get_item", {"Responses": {OUTPUTS["StateTableName"]: []}})
    error = json.dumps({"errorType": "NetSuiteAuthError", "errorMessage": "INVALID_LOGIN_ATTEMPT"}).encode()
    aws["lambda"].add_response(
        "invoke",
        {
            "StatusCode": 200,
            "FunctionError": "Unhandled",
            "Payload": StreamingBody(io.BytesIO(error), len(error)),
        },
    )

    result = run_cli("sync", "1038", "--stack-name", STACK)

    assert result.exit_code == 1
    assert "the operator function failed: NetSuiteAuthError: INVALID_LOGIN_ATTEMPT" in result.stderr


def test_an_operator_without_the_operator_policy_is_told_which_policy_to_attach(aws: StubbedAws) -> None:
    aws.stack()
    aws["lambda"].add_client_error(
        "invoke", "AccessDeniedException", "User is not authorized to perform: lambda:InvokeFunction", 403
    )

    result = run_cli("preview", "CM-1042", "--stack-name", STACK, "--json")

    assert result.exit_code == 1
    error = json_of(result)["error"]
    assert error["code"] == "ACCESS_DENIED"
    assert "OperatorPolicyArn" in error["message"]


# -- pointing at the wrong thing ---------------------------------------------------------------------------
def test_a_missing_stack_exits_2_saying_what_to_check(aws: StubbedAws) -> None:
    aws["cloudformation"].add_client_error(
        "describe_stacks", "ValidationError", f"Stack with id {STACK} does not exist", 400
    )

    result = run_cli("status", "--stack-name", STACK)

    assert result.exit_code == 2
    assert f"no stack named '{STACK}' in eu-west-1" in result.stderr
    assert "--region" in result.stderr and "--profile" in result.stderr


def test_expired_credentials_exit_2_saying_log_in_again(aws: StubbedAws) -> None:
    aws["cloudformation"].add_client_error(
        "describe_stacks", "ExpiredToken", "The security token included in the request is expired", 403
    )

    result = run_cli("failures", "--json", env={"REFUND_SYNC_STACK": STACK})

    # Scripts reading --json get one JSON error rather than half an answer
    assert result.exit_code == 2
    assert json_of(result)["error"]["code"] == "CREDENTIALS"
    assert "log in again" in json_of(result)["error"]["message"]
    assert result.stderr == ""


def test_a_stack_without_the_outputs_exits_2(aws: StubbedAws) -> None:
    aws.stack({"RefundQueueUrl": OUTPUTS["RefundQueueUrl"]}, status="ROLLBACK_COMPLETE")

    result = run_cli("status", "--stack-name", STACK)

    assert result.exit_code == 2
    assert "ROLLBACK_COMPLETE" in result.stderr and "DeadLetterQueueArn" in result.stderr
    assert "OperatorFunctionName" in result.stderr


def test_no_target_at_all_exits_2_naming_both_ways() -> None:
    result = run_cli("status")

    assert result.exit_code == 2
    assert "--stack-name" in result.stderr and "--sandbox" in result.stderr


def test_stack_and_sandbox_together_is_a_usage_error() -> None:
    result = run_cli("status", "--stack-name", STACK, "--sandbox")

    assert result.exit_code == 2
    assert "choose one" in result.stderr


def test_a_missing_sandbox_file_exits_2_saying_how_to_start_it(tmp_path: Path) -> None:
    missing = tmp_path / "outputs.json"

    by_option = run_cli("status", "--sandbox-file", str(missing))
    by_env = run_cli("failures", env={"REFUND_SYNC_SANDBOX_FILE": str(missing)})

    for result in (by_option, by_env):
        assert result.exit_code == 2
        assert f"no sandbox outputs at {missing}" in result.stderr
        assert "make sandbox" in result.stderr


def test_a_stale_sandbox_file_exits_2_saying_the_sandbox_stopped(tmp_path: Path) -> None:
    # Given the outputs of a sandbox that has stopped: nothing listens on its port any more
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        endpoint = f"http://127.0.0.1:{probe.getsockname()[1]}"
    stale = tmp_path / "outputs.json"
    stale.write_text(
        json.dumps(
            {
                **OUTPUTS,
                "AwsEndpointUrl": endpoint,
                "LambdaEndpointUrl": endpoint,
                "AwsRegion": "us-east-1",
                "AwsAccessKeyId": "sandbox",
                "AwsSecretAccessKey": "sandbox",
            }
        )
    )

    looking = run_cli("status", "--sandbox-file", str(stale))
    acting = run_cli("preview", "CM-1", "--sandbox-file", str(stale), "--json")

    assert looking.exit_code == acting.exit_code == 2
    assert "the sandbox is not running" in looking.stderr
    assert json_of(acting)["error"]["code"] == "SANDBOX_STOPPED"


def test_a_damaged_sandbox_file_exits_2(tmp_path: Path) -> None:
    damaged = tmp_path / "outputs.json"
    damaged.write_text(json.dumps({"RefundQueueUrl": "x"}))

    result = run_cli("status", "--sandbox-file", str(damaged))

    assert result.exit_code == 2
    assert "restart the sandbox" in result.stderr


# -- the pieces sync relies on -----------------------------------------------------------------------------
def test_sync_event_sends_digits_as_netsuite_ids_and_the_rest_as_document_numbers() -> None:
    assert sync_event([" 1042 ", "CM-1042", "R1042", "²"], ["5001"])["document_numbers"][-1] == "²"
    assert sync_event([" 1042 ", "CM-1042", "R1042"], ["5001"]) == {
        "action": "sync",
        "netsuite_ids": ["1042"],
        "document_numbers": ["CM-1042", "R1042"],
        "bigcommerce_order_ids": ["5001"],
    }


def test_the_netsuite_id_is_read_from_the_report_entry() -> None:
    assert netsuite_id_of({"refund": "Credit Memo CM-1 (NetSuite id 1042)"}) == "1042"
    assert netsuite_id_of({"netsuite_id": "7", "refund": "Credit Memo CM-1 (NetSuite id 1042)"}) == "7"
    assert netsuite_id_of({"refund": "something else"}) is None


def test_an_outcome_counts_only_if_it_is_newer_than_the_request() -> None:
    asked_at = datetime(2026, 1, 5, 12, tzinfo=UTC)
    old_failure = refund_state(SyncStatus.FAILED, version=3, updated_at=asked_at - timedelta(hours=1))
    new_failure = refund_state(SyncStatus.FAILED, version=4, updated_at=asked_at + timedelta(seconds=2))
    in_progress = refund_state(SyncStatus.SUBMITTING, version=4, updated_at=asked_at + timedelta(seconds=2))

    # A known earlier version: only a later, finished one answers
    assert not answered(old_failure, 3, asked_at)
    assert answered(new_failure, 3, asked_at)
    assert not answered(in_progress, 3, asked_at)
    # Found through its order (no earlier version known): the time tells
    assert not answered(old_failure, None, asked_at)
    assert answered(new_failure, None, asked_at)
    assert not answered(None, 0, asked_at)


def refund_state(status: SyncStatus, *, version: int, updated_at: datetime) -> RefundState:
    return RefundState(
        netsuite_id="1038",
        record_type="cashrefund",
        document_number="CR-5013",
        netsuite_last_modified=updated_at - timedelta(days=1),
        currency="USD",
        netsuite_total=Decimal("10.00"),
        status=status,
        version=version,
        created_at=updated_at - timedelta(days=1),
        updated_at=updated_at,
    )


def wire_item(state: RefundState) -> dict[str, Any]:
    """A state item as DynamoDB sends it (what the table resource turns back into Python values)."""
    serializer = TypeSerializer()
    item = {**state.model_dump(mode="json"), "pk": f"REFUND#{state.netsuite_id}"}
    return {key: serializer.serialize(value) for key, value in item.items()}


def test_refund_data_with_square_brackets_is_shown_as_written() -> None:
    # BigCommerce's messages and our refund reasons hold brackets ([netsuite:1038]); rich must not eat them
    state = refund_state(SyncStatus.FAILED, version=1, updated_at=datetime.now(UTC)).model_copy(
        update={"reason_code": "BIGCOMMERCE_REJECTED", "reason_detail": "refund [netsuite:1038] refused [/]"}
    )
    console = Console(record=True, width=200)

    console.print(views.state_view(state, datetime.now(UTC)))
    for stacked in (True, False):
        console.print(views.failures_view(resolve_sandbox_stub(), [state], None, set(), stacked=stacked))

    assert console.export_text().count("refund [netsuite:1038] refused [/]") == 3


def resolve_sandbox_stub() -> Target:
    outputs = StackOutputs.model_validate(OUTPUTS)
    return Target(TargetKind.STACK, STACK, outputs, aws_clients().session)
