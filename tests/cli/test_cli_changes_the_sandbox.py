"""The operator CLI fixing things on a served sandbox: sync on demand, and the dead-letter queue one
message at a time (redrive, discard, resolve).

The sandbox is started the way `make sandbox` starts it (`serve`, here in a thread: it serves Lambda's
Invoke API, so the CLI invokes the real operator handler with the same boto3 call as on a stack, and
feeds the refund queue to the consumer as the SQS event source would). The tests run in order, as an
operator's day: a refund fails again, is fixed and synced; another is settled by hand; the rest is
redriven.
"""

from __future__ import annotations

import io
import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from refund_sync.adapters.refund_queue import DeadLetter, RefundMessage
from refund_sync.adapters.state_store import StateStore
from refund_sync.domain.reasons import Reason
from refund_sync.domain.state import RefundState, SyncStatus
from refund_sync_cli.target import SandboxOutputs, StackOutputs, resolve_sandbox
from refund_sync_sandbox.netsuite import SandboxCredentials
from refund_sync_sandbox.sandbox import Sandbox
from refund_sync_sandbox.scenarios import scenarios
from refund_sync_sandbox.serve import serve
from tests.cli.support import json_of, run_cli

UNSETTLED_ORDER = 5013


@dataclass(frozen=True)
class Served:
    sandbox: Sandbox
    outputs: Path
    usage: str

    @property
    def args(self) -> list[str]:
        return ["--sandbox-file", str(self.outputs)]

    def states(self) -> StateStore:
        return StateStore(self.sandbox.aws.table_name)

    def state(self, document_number: str) -> RefundState:
        with self.sandbox.active():
            (state,) = self.states().find_by_document_number(document_number)
        return state

    def netsuite_id(self, document_number: str) -> str:
        return self.state(document_number).netsuite_id

    def letters(self, document_number: str | None = None) -> list[DeadLetter]:
        letters = self.sandbox.dead_letters()
        return [letter for letter in letters if document_number in (None, letter.document_number)]

    def plant_dead_letter(self, document_number: str, *, sent_at: datetime, reason: str) -> None:
        """A message in the dead-letter queue that an earlier version, or a console move, left behind."""
        message = RefundMessage(
            refund=self.sandbox.account.refund(self.netsuite_id(document_number)),
            sent_by="schedule",
            sent_at=sent_at,
        )
        self.sandbox.aws.sqs().send_message(
            QueueUrl=self.sandbox.aws.dead_letter_queue_url,
            MessageBody=message.body,
            MessageGroupId=message.group_id,
            MessageDeduplicationId=f"planted-{document_number}-{sent_at.timestamp()}",
            MessageAttributes={"FailureReason": {"DataType": "String", "StringValue": reason}},
        )

    def wait_until_the_refund_queue_is_empty(self) -> None:
        sqs = self.sandbox.aws.sqs()
        for _ in range(100):
            attributes = sqs.get_queue_attributes(
                QueueUrl=self.sandbox.aws.refund_queue_url,
                AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
            )["Attributes"]
            if set(attributes.values()) == {"0"}:
                return
            time.sleep(0.2)
        raise AssertionError("the consumer did not take the refund queue")


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, moto_endpoint: str, netsuite_credentials: SandboxCredentials
) -> Iterator[Served]:
    outputs = tmp_path_factory.mktemp("served") / "outputs.json"
    stop, ready = threading.Event(), threading.Event()
    started: list[Sandbox] = []
    failed: list[BaseException] = []
    usage = io.StringIO()

    def on_ready(sandbox: Sandbox) -> None:
        started.append(sandbox)
        ready.set()

    def run() -> None:
        try:
            serve(
                outputs,
                stop=stop,
                ready=on_ready,
                out=usage,
                aws_endpoint=moto_endpoint,
                credentials=netsuite_credentials,
            )
        except BaseException as error:  # surfaced to the test below
            failed.append(error)
            ready.set()

    thread = threading.Thread(target=run, name="sandbox-serve", daemon=True)
    thread.start()
    assert ready.wait(timeout=60), "the sandbox did not start"
    if failed:
        raise failed[0]
    yield Served(started[0], outputs, usage.getvalue())
    stop.set()
    thread.join(timeout=30)
    # The outputs file lives exactly as long as the sandbox: a stopped sandbox leaves no stale file.
    assert not outputs.exists()


def invoke(written: dict[str, Any], event: dict[str, Any]) -> dict[str, Any]:
    client = boto3.client(
        "lambda",
        endpoint_url=written["LambdaEndpointUrl"],
        region_name=written["AwsRegion"],
        aws_access_key_id="sandbox",
        aws_secret_access_key="sandbox",
    )
    response = client.invoke(FunctionName=written["OperatorFunctionName"], Payload=json.dumps(event).encode())
    answer: dict[str, Any] = json.loads(response["Payload"].read())
    return answer


def test_serve_writes_the_stack_outputs_and_how_to_reach_the_sandbox(served: Served) -> None:
    written = json.loads(served.outputs.read_text())

    stack_keys = {field.alias for field in StackOutputs.model_fields.values()}
    assert stack_keys <= written.keys()
    assert {field.alias for field in SandboxOutputs.model_fields.values()} <= written.keys()
    assert written["RefundQueueArn"].endswith("refunds.fifo")
    assert written["DeadLetterQueueArn"].endswith("refunds-dlq.fifo")
    assert resolve_sandbox(served.outputs).lambda_endpoint_url == written["LambdaEndpointUrl"]
    # The sandbox's Invoke API runs the real operator handler, as Lambda would
    assert invoke(written, {"action": "no-such-action"})["error"]["code"] == "UNKNOWN_ACTION"
    assert f"refund-sync status --sandbox-file {served.outputs}" in served.usage
    synced = sum(1 for scenario in scenarios() if scenario.expected_status == "SYNCED")
    assert re.search(rf"\b{synced} SYNCED\b", served.usage)  # serve ran the poller and the consumer once


def test_a_failed_sync_replaces_the_refunds_dead_letter_instead_of_adding_a_second(served: Served) -> None:
    # Given CR-5013 in the dead-letter queue, failed because the card payment was not settled
    assert len(served.letters("CR-5013")) == 1

    # When the operator syncs it again before the payment settles
    still = run_cli("sync", "CR-5013", *served.args, "--json")

    # Then it fails the same way, and its new message replaced the old one: one message per refund
    assert still.exit_code == 1, still.output
    answer = json_of(still)
    [outcome] = answer["outcomes"]
    assert (outcome["status"], outcome["reason"], outcome["finished"]) == (
        "FAILED",
        "PAYMENT_NOT_SETTLED",
        True,
    )
    assert outcome["action"] == Reason.PAYMENT_NOT_SETTLED.action
    assert [entry["reason"] for entry in answer["report"]["dead_letters_replaced"]] == ["PAYMENT_NOT_SETTLED"]
    [letter] = served.letters("CR-5013")
    assert letter.sent_at is not None and letter.sent_at > datetime.now(UTC) - timedelta(minutes=1)


def test_a_failed_refund_syncs_once_its_cause_is_fixed_and_says_its_payout_is_unconfirmed(
    served: Served,
) -> None:
    # When the payment settles and the operator syncs it again
    served.sandbox.store.set_tender(UNSETTLED_ORDER, "braintree", settled=True)
    fixed = run_cli("sync", "cr-5013", *served.args, env={"COLUMNS": "80"})

    # Then it ends SYNCED (exit 0), with one refund at BigCommerce, and the CLI says the payout is unchecked
    assert fixed.exit_code == 0, fixed.output
    assert "SYNCED" in fixed.stdout and "BigCommerce refund" in fixed.stdout
    assert "payout is still to be confirmed" in " ".join(fixed.stdout.split())
    refunds = served.sandbox.store.list_refunds(order_ids=[UNSETTLED_ORDER])
    assert len(refunds) == 1
    state = served.state("CR-5013")
    assert state.status is SyncStatus.SYNCED
    assert state.bigcommerce_refund_id == refunds[0].id
    # and no stale message of it is left in the dead-letter queue
    assert served.letters("CR-5013") == []


def test_a_declined_refund_is_created_anew_only_once_an_operator_allows_it(served: Served) -> None:
    # Given CM-5012, which the gateway declined, and the gateway sorted out since
    assert served.state("CM-5012").reason_code == "GATEWAY_DECLINED"
    served.sandbox.store.set_tender(5012, "braintree", declines_refunds=False)

    # When the operator only syncs it, then nothing is created: the declined refund stands
    only_sync = run_cli("sync", "CM-5012", *served.args, "--json")
    assert only_sync.exit_code == 1, only_sync.output
    assert len(served.sandbox.store.list_refunds(order_ids=[5012])) == 1

    # When the operator allows a new create (once) and syncs it
    allowed = run_cli("recreate", "cm-5012", *served.args)
    twice = run_cli("recreate", "CM-5012", *served.args, "--json")
    synced = run_cli("sync", "CM-5012", *served.args)

    # Then it is created anew, once, beside the declined one
    assert allowed.exit_code == 0, allowed.output
    assert "Next: refund-sync sync CM-5012" in allowed.stdout
    assert twice.exit_code == 1 and json_of(twice)["error"]["code"] == "DECISION_REFUSED"
    assert synced.exit_code == 0, synced.output
    refunds = served.sandbox.store.list_refunds(order_ids=[5012])
    assert [refund.fully_declined for refund in refunds] == [True, False]
    assert served.state("CM-5012").bigcommerce_refund_id == refunds[1].id


def test_confirm_needs_a_decision_and_a_refund_whose_create_is_uncertain(served: Served) -> None:
    undecided = run_cli("confirm", "CM-5001", *served.args)
    not_uncertain = run_cli("confirm", "CM-5001", "--not-created", *served.args, "--json")

    assert undecided.exit_code == 2 and "--ours" in undecided.stderr
    assert not_uncertain.exit_code == 1
    assert json_of(not_uncertain)["error"]["code"] == "DECISION_REFUSED"
    assert served.state("CM-5001").status is SyncStatus.SYNCED


def test_syncing_synced_refunds_sends_nothing_and_refunds_nothing_twice(served: Served) -> None:
    refunds_before = len(served.sandbox.store.list_refunds())

    result = run_cli("sync", "CM-5001", "--order", "5002", *served.args, "--json")

    assert result.exit_code == 0, result.output
    report = json_of(result)["report"]
    assert report["enqueued"] == []
    assert [entry["why"].split(" (")[0] for entry in report["not_sent"]] == ["already SYNCED"] * 2
    assert len(served.sandbox.store.list_refunds()) == refunds_before


def test_sync_reports_what_netsuite_does_not_have_and_needs_a_refund(served: Served) -> None:
    unknown = run_cli("sync", "CM-404", *served.args, "--json")
    nothing = run_cli("sync", *served.args)

    assert unknown.exit_code == 1
    [miss] = json_of(unknown)["report"]["not_found"]
    assert miss["query"] == "tranId CM-404"
    assert nothing.exit_code == 2
    assert "name at least one refund" in nothing.stderr


def test_status_counts_agree_with_failures(served: Served) -> None:
    status = json_of(run_cli("status", *served.args, "--json"))
    failures = json_of(run_cli("failures", *served.args, "--json"))

    assert status["failed_or_held"] == status["counts"]["FAILED"] + status["counts"]["HELD"]
    assert status["failed_or_held"] == failures["count"] == len(failures["failures"])
    # One message per refund, each of a refund still failed or held: the queue and the list agree
    assert status["dead_letter_queue"]["waiting"] == failures["in_dead_letter_queue"]
    listed = {f["netsuite_id"] for f in failures["failures"] if f["in_dead_letter_queue"]}
    letters = [letter.netsuite_id or "" for letter in served.letters()]
    assert sorted(letters) == sorted(listed)


def test_resolve_records_a_refund_settled_by_hand_for_good(served: Served) -> None:
    # Given CM-5008, held for an amount mismatch, refunded by hand in the control panel
    [held_letter] = served.letters("CM-5008")
    refunds_before = len(served.sandbox.store.list_refunds(order_ids=[5008]))

    result = run_cli(
        "resolve", "cm-5008", "--refunded-by-hand", "--note", "27.75 refunded in the control panel",
        *served.args, "--json",
    )  # fmt: skip

    # Then it is RESOLVED, with the note, and its message left the dead-letter queue
    assert result.exit_code == 0, result.output
    assert json_of(result)["state"]["status"] == "RESOLVED"
    state = served.state("CM-5008")
    assert state.status is SyncStatus.RESOLVED
    assert "27.75 refunded in the control panel" in state.history[-1].note
    assert served.letters("CM-5008") == []

    # When its old message comes back anyway (a console redrive of a copy) and NetSuite edits it
    message = RefundMessage(
        refund=served.sandbox.account.refund(state.netsuite_id), sent_by="schedule", sent_at=datetime.now(UTC)
    )
    served.sandbox.aws.sqs().send_message(
        QueueUrl=served.sandbox.aws.refund_queue_url,
        MessageBody=message.body,
        MessageGroupId=message.group_id,
        MessageDeduplicationId=f"copy-of-{held_letter.message_id}",
    )
    served.wait_until_the_refund_queue_is_empty()
    served.sandbox.account.touch(state.netsuite_id)
    poll = served.sandbox.run_poller()

    # Then nothing changes: still RESOLVED, nothing created, nothing sent
    assert served.state("CM-5008").status is SyncStatus.RESOLVED
    assert len(served.sandbox.store.list_refunds(order_ids=[5008])) == refunds_before
    assert poll["enqueued"] == 0
    assert served.letters("CM-5008") == []


def test_resolving_a_refund_refund_sync_made_is_refused(served: Served) -> None:
    result = run_cli("resolve", "CM-5001", "--refunded-by-hand", *served.args, "--json")
    without_how = run_cli("resolve", "CM-5010", *served.args)

    assert result.exit_code == 1
    assert json_of(result)["error"]["code"] == "CANNOT_RESOLVE"
    assert "SYNCED" in json_of(result)["error"]["message"]
    assert served.state("CM-5001").status is SyncStatus.SYNCED
    assert without_how.exit_code == 2 and "--refunded-by-hand" in without_how.stderr


def test_discard_deletes_one_message_and_notes_why_on_the_refund(served: Served) -> None:
    result = run_cli("discard", "CR-5011", "--reason", "the line is corrected in NetSuite", *served.args)
    again = run_cli("discard", "CR-5011", "--reason", "twice", *served.args, "--json")

    assert result.exit_code == 0, result.output
    assert served.letters("CR-5011") == []
    state = served.state("CR-5011")
    assert state.status is SyncStatus.FAILED  # still listed among the failures; `sync` can send it
    assert "discarded: the line is corrected in NetSuite" in state.history[-1].note
    failures = {
        f["document_number"]: f for f in json_of(run_cli("failures", *served.args, "--json"))["failures"]
    }
    assert failures["CR-5011"]["in_dead_letter_queue"] is False
    assert again.exit_code == 1
    assert json_of(again)["error"]["code"] == "NOT_IN_DEAD_LETTER_QUEUE"


def test_redrive_of_one_refund_moves_only_its_message(served: Served) -> None:
    others = sorted(letter.message_id for letter in served.letters() if letter.document_number != "CM-5010")

    result = run_cli("redrive", "cm-5010", *served.args, "--json")

    # Then only CM-5010 went back; it failed the same way and is back, once; the others never moved
    assert result.exit_code == 0, result.output
    answer = json_of(result)
    assert [entry["document_number"] for entry in answer["result"]["moved"]] == ["CM-5010"]
    [outcome] = answer["outcomes"]
    assert (outcome["status"], outcome["reason"]) == ("FAILED", "ORDER_ID_MISSING")
    assert len(served.letters("CM-5010")) == 1
    assert sorted(m.message_id for m in served.letters() if m.document_number != "CM-5010") == others


def test_redrive_of_everything_skips_settled_and_stale_messages_and_says_so(served: Served) -> None:
    # Given leftovers an earlier version could leave: messages of a refund since SYNCED and of one
    # RESOLVED, and an older second message of CR-5009
    long_ago = datetime.now(UTC) - timedelta(days=2)
    served.plant_dead_letter("CM-5001", sent_at=long_ago, reason="RETRIES_EXHAUSTED")
    served.plant_dead_letter("CM-5008", sent_at=long_ago, reason="AMOUNT_MISMATCH")
    served.plant_dead_letter("CR-5009", sent_at=long_ago, reason="ORDER_NOT_FOUND")
    failing = {"CR-5009", "CM-5010"}
    refunds_before = len(served.sandbox.store.list_refunds())

    shown = run_cli("redrive", *served.args, env={"COLUMNS": "80"})
    result = run_cli("redrive", "--yes", *served.args, "--json")

    # Then the preview marks the settled ones, and the redrive skips them and the older duplicate, saying
    # why, and moves the rest, which come back with their reasons: one message each
    assert shown.exit_code == 0 and "already SYNCED" in shown.stdout and "already RESOLVED" in shown.stdout
    assert result.exit_code == 0, result.output
    answer = json_of(result)["result"]
    skipped = {
        (entry["document_number"], entry["why"].split(" (")[0].split(":")[0]) for entry in answer["skipped"]
    }
    assert skipped == {
        ("CM-5001", "already SYNCED"),
        ("CM-5008", "already RESOLVED"),
        ("CR-5009", "a newer message of the same refund is in the dead-letter queue"),
    }
    assert sorted(entry["document_number"] for entry in answer["moved"]) == sorted(failing)
    assert sorted(letter.document_number or "" for letter in served.letters()) == sorted(failing)
    assert len(served.sandbox.store.list_refunds()) == refunds_before


def test_show_lists_refunds_that_share_a_document_number(served: Served) -> None:
    # Given two NetSuite refunds with the same document number (NetSuite allows it across record types)
    with served.sandbox.active():
        store = served.states()
        original = store.find_by_document_number("CR-5009")[0]
        store.save(original.model_copy(update={"netsuite_id": "99001"}), expected_version=None)

    result = run_cli("show", "CR-5009", *served.args)
    as_json = run_cli("show", "cr-5009", *served.args, "--json")

    assert result.exit_code == as_json.exit_code == 2
    assert original.netsuite_id in result.stdout and "99001" in result.stdout
    assert "name one by its NetSuite id" in result.stdout
    assert json_of(as_json)["error"]["code"] == "AMBIGUOUS"
    assert {r["netsuite_id"] for r in json_of(as_json)["refunds"]} == {original.netsuite_id, "99001"}
