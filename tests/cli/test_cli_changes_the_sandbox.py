"""The operator CLI fixing things on a served sandbox: sync on demand, and redrive.

The sandbox is started the way `make sandbox` starts it (`serve`, here in a thread), so these tests
also check what `serve` writes for the CLI. The tests run in order: a refund fails, is fixed and
synced, then the dead-letter queue is redriven.
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from refund_sync.adapters.state_store import StateStore
from refund_sync.domain.reasons import Reason
from refund_sync.domain.state import SyncStatus
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


def test_serve_writes_the_stack_outputs_and_how_to_reach_the_sandbox(served: Served) -> None:
    written = json.loads(served.outputs.read_text())

    stack_keys = {field.alias for field in StackOutputs.model_fields.values()}
    assert stack_keys <= written.keys()
    assert {field.alias for field in SandboxOutputs.model_fields.values()} <= written.keys()
    assert written["RefundQueueArn"].endswith("refunds.fifo")
    assert written["DeadLetterQueueArn"].endswith("refunds-dlq.fifo")
    assert written["Environment"]["AWS_ENDPOINT_URL"] == written["AwsEndpointUrl"]
    target = resolve_sandbox(served.outputs)
    assert target.settings().handling_items == ["Handling Fee"]  # the demo's settings travel with it
    assert f"refund-sync status --sandbox-file {served.outputs}" in served.usage
    synced = sum(1 for scenario in scenarios() if scenario.expected_status == "SYNCED")
    assert f"{synced} SYNCED" in served.usage  # serve ran the poller and the consumer once


def test_a_failed_refund_syncs_once_its_cause_is_fixed(served: Served) -> None:
    # Given CR-5013 failed because the card payment was not settled
    still = run_cli("sync", "CR-5013", *served.args, "--json")
    assert still.exit_code == 1, still.output
    [outcome] = json_of(still)["outcomes"]
    assert (outcome["status"], outcome["reason"], outcome["finished"]) == (
        "FAILED",
        "PAYMENT_NOT_SETTLED",
        True,
    )
    assert outcome["action"] == Reason.PAYMENT_NOT_SETTLED.action

    # When the payment settles and the operator syncs it again
    served.sandbox.store.set_tender(UNSETTLED_ORDER, "braintree", settled=True)
    fixed = run_cli("sync", "CR-5013", *served.args)

    # Then it ends SYNCED (exit 0), with one refund at BigCommerce
    assert fixed.exit_code == 0, fixed.output
    assert "SYNCED" in fixed.stdout and "BigCommerce refund" in fixed.stdout
    refunds = served.sandbox.store.list_refunds(order_ids=[UNSETTLED_ORDER])
    assert len(refunds) == 1
    with served.sandbox.active():
        state = served.states().find_by_document_number("CR-5013")[0]
    assert state.status is SyncStatus.SYNCED
    assert state.bigcommerce_refund_id == refunds[0].id


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


def test_redrive_with_yes_moves_the_dead_letters_back_and_runs_them(served: Served) -> None:
    # Given the demo's failures in the dead-letter queue: CR-5013's twice (the demo's and the failed
    # on-demand sync's), though it has synced since
    waiting = [letter.document_number for letter in served.sandbox.dead_letters()]
    assert waiting.count("CR-5013") == 2

    # When the operator redrives
    result = run_cli("redrive", "--yes", *served.args, "--json")

    # Then every message moved; CR-5013 was recognised as synced (not refunded again); the rest came back
    assert result.exit_code == 0, result.output
    redriven = json_of(result)
    assert redriven["started"] is True
    assert redriven["result"]["moved"] == len(waiting)
    back = {letter.document_number for letter in served.sandbox.dead_letters()}
    assert back == set(waiting) - {"CR-5013"}
    assert redriven["result"]["dead_letter_depth"] == len(back)
    # The moved refunds, by status now: CR-5013 still SYNCED; the rest as they were
    assert redriven["result"]["outcomes"] == {"SYNCED": 1, "FAILED": len(back) - 1, "HELD": 1}
    paid = [r for r in served.sandbox.store.list_refunds(order_ids=[UNSETTLED_ORDER]) if not r.fully_declined]
    assert len(paid) == 1


def test_show_lists_refunds_that_share_a_document_number(served: Served) -> None:
    # Given two NetSuite refunds with the same document number (NetSuite allows it across record types)
    with served.sandbox.active():
        store = served.states()
        original = store.find_by_document_number("CR-5009")[0]
        store.save(original.model_copy(update={"netsuite_id": "99001"}), expected_version=None)

    result = run_cli("show", "CR-5009", *served.args)

    assert result.exit_code == 2
    assert original.netsuite_id in result.stdout and "99001" in result.stdout
    assert "name one by its NetSuite id" in result.stdout
