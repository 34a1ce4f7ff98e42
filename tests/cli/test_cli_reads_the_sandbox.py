"""The operator CLI against the sandbox after the demo's poll: commands that read, and preview.

One sandbox for the module (the commands here change nothing but the dead-letter queue's visibility,
which peeking restores): the demo's refunds, polled and consumed once, as `make sandbox` leaves them.
"""

from __future__ import annotations

from decimal import Decimal

from refund_sync.domain.reasons import Reason
from tests.cli.conftest import Demo, expected, sandbox_args
from tests.cli.support import json_of, run_cli


# -- status -----------------------------------------------------------------------------------------------
def test_status_counts_what_the_demo_left(demo: Demo) -> None:
    # Given the demo's refunds polled and consumed once
    # When the operator asks for the status
    result = run_cli("status", *sandbox_args(demo), "--json")

    # Then the counts are the scenarios' outcomes, the poller has run, and the failures wait in the DLQ
    assert result.exit_code == 0, result.output
    status = json_of(result)
    scenario_counts = {s: len(expected(demo, s)) for s in ("SYNCED", "FAILED", "HELD", "SKIPPED")}
    assert {k: v for k, v in status["counts"].items() if v} == scenario_counts
    assert status["total"] == len(demo.by_id)
    assert status["checkpoint"]["last_run_at"] is not None
    assert status["checkpoint"]["sweep_in_progress"] is False
    # (all but the late gateway decline, which the payout check found after its message was done)
    assert status["dead_letter_queue"]["waiting"] == scenario_counts["FAILED"] + scenario_counts["HELD"] - 1
    assert status["refund_queue"] == {"waiting": 0, "in_flight": 0, "delayed": 0}


def test_status_for_people_is_one_screen_with_a_hint(demo: Demo) -> None:
    result = run_cli("status", *sandbox_args(demo))

    assert result.exit_code == 0, result.output
    for words in ("Refunds by status", "Last poll", "Dead-letter queue", "5 waiting", "refund-sync failures"):
        assert words in result.stdout


# -- show ---------------------------------------------------------------------------------------------------
def test_show_tells_the_story_by_document_number_and_by_netsuite_id(demo: Demo) -> None:
    netsuite_id = demo.ids_of("CR-5013")

    by_number = run_cli("show", "CR-5013", *sandbox_args(demo), "--json")
    by_id = run_cli("show", netsuite_id, *sandbox_args(demo), "--json")

    assert by_number.exit_code == by_id.exit_code == 0
    assert json_of(by_number) == json_of(by_id)
    story = json_of(by_id)
    assert story["netsuite_id"] == netsuite_id
    assert story["status"] == "FAILED"
    assert story["reason_code"] == "PAYMENT_NOT_SETTLED"
    assert story["action"] == Reason.PAYMENT_NOT_SETTLED.action
    assert [entry["status"] for entry in story["history"]] == ["FAILED"]


def test_show_for_people_has_amounts_reason_action_and_timeline(demo: Demo) -> None:
    synced = run_cli("show", "CM-5001", *sandbox_args(demo))
    failed = run_cli("show", "CR-5013", *sandbox_args(demo))

    assert synced.exit_code == failed.exit_code == 0
    assert "Credit Memo CM-5001" in synced.stdout
    assert "SYNCED" in synced.stdout and "Refunded" in synced.stdout and "77.00 USD" in synced.stdout
    assert "not declined (checked" in synced.stdout  # the payout check saw it through the gateway
    assert "Timeline" in synced.stdout
    assert "PAYMENT_NOT_SETTLED" in failed.stdout
    assert "Wait until the gateway settles the payment" in failed.stdout


def test_show_of_a_refund_never_seen_says_what_to_do(demo: Demo) -> None:
    result = run_cli("show", demo.unpolled_tran_id, *sandbox_args(demo))

    assert result.exit_code == 1
    assert "has no record of CR-6001" in result.stderr
    assert "refund-sync sync CR-6001" in result.stderr


# -- failures ------------------------------------------------------------------------------------------------
def test_failures_lists_every_failed_and_held_refund_with_what_to_do(demo: Demo) -> None:
    result = run_cli("failures", *sandbox_args(demo), "--json")

    # Exit 1: there are failures (scripts can alert on it)
    assert result.exit_code == 1, result.output
    listed = json_of(result)["failures"]
    assert {f["document_number"]: f["reason"] for f in listed} == expected(demo, "FAILED", "HELD")
    for failure in listed:
        assert failure["action"] == Reason[failure["reason"]].action
        assert failure["detail"]


def test_failures_for_people_and_filtered_by_reason(demo: Demo) -> None:
    table = run_cli("failures", *sandbox_args(demo))
    held = run_cli("failures", "--reason", "amount_mismatch", *sandbox_args(demo), "--json")

    assert table.exit_code == 1
    assert "What to do" in table.stdout and "CM-5010" in table.stdout and "ORDER_ID_MISSING" in table.stdout
    assert [f["document_number"] for f in json_of(held)["failures"]] == ["CM-5008"]
    assert json_of(held)["failures"][0]["status"] == "HELD"


def test_failures_with_an_unknown_reason_is_a_usage_error(demo: Demo) -> None:
    result = run_cli("failures", "--reason", "NOT_A_REASON", *sandbox_args(demo))

    assert result.exit_code == 2
    assert "AMOUNT_MISMATCH" in result.stderr  # the valid reasons are listed


# -- preview ------------------------------------------------------------------------------------------------
def test_preview_of_a_held_refund_exits_1_with_the_reason_and_action(demo: Demo) -> None:
    result = run_cli("preview", "CM-5008", *sandbox_args(demo), "--json")

    assert result.exit_code == 1, result.output
    verdict = json_of(result)
    assert verdict["would_sync"] is False
    assert verdict["reason"] == "AMOUNT_MISMATCH"
    assert verdict["status"] == "HELD"
    assert verdict["action"] == Reason.AMOUNT_MISMATCH.action
    assert "27.75" in verdict["detail"]


def test_preview_of_a_syncable_refund_exits_0_and_creates_nothing(demo: Demo) -> None:
    refunds_before = len(demo.sandbox.store.list_refunds())

    result = run_cli("preview", demo.unpolled_tran_id, *sandbox_args(demo), "--json")
    for_people = run_cli("preview", demo.unpolled_tran_id, *sandbox_args(demo))

    assert result.exit_code == 0, result.output
    plan = json_of(result)
    assert plan["would_sync"] is True
    assert Decimal(plan["quote"]["total_refund_amount"]) == Decimal("13.20")  # one mug, 12.00 + 10% tax
    paid = [(payment["provider_id"], Decimal(payment["amount"])) for payment in plan["payments"]]
    assert paid == [("braintree", Decimal("13.20"))]
    assert for_people.exit_code == 0
    assert "MUG-CER Ceramic Mug" in for_people.stdout and "Would sync" in for_people.stdout
    # Nothing was created at BigCommerce, nor recorded in the state table
    assert len(demo.sandbox.store.list_refunds()) == refunds_before
    assert demo.sandbox.store.snapshot(6001).order.status_id != 14
    with demo.sandbox.active():
        assert demo.store().find_by_document_number(demo.unpolled_tran_id) == []


def test_preview_of_a_synced_refund_says_a_sync_would_do_nothing(demo: Demo) -> None:
    result = run_cli("preview", "CM-5001", *sandbox_args(demo))

    assert result.exit_code == 0
    assert "Already SYNCED" in result.stdout


def test_preview_of_a_refund_imported_from_bigcommerce_would_not_sync(demo: Demo) -> None:
    result = run_cli("preview", "CM-5014", *sandbox_args(demo), "--json")

    assert result.exit_code == 1
    assert json_of(result)["reason"] == "CREATED_FROM_BIGCOMMERCE"


def test_preview_of_an_unknown_refund_shows_netsuite_reasons(demo: Demo) -> None:
    result = run_cli("preview", "CM-404", *sandbox_args(demo), "--json")

    assert result.exit_code == 1
    misses = json_of(result)["not_found"]
    assert misses and misses[0]["value"] == "CM-404"
    assert misses[0]["reasons"][0]["code"] == "NO_SUCH_TRANSACTION"


# -- redrive (explaining only) -------------------------------------------------------------------------------
def test_redrive_without_yes_explains_and_moves_nothing(demo: Demo) -> None:
    # Every failure but the gateway's late decline, found by the payout check when its message was done
    waiting = {
        doc: reason
        for doc, reason in expected(demo, "FAILED", "HELD").items()
        if reason != "GATEWAY_DECLINED"
    }

    shown = run_cli("redrive", *sandbox_args(demo))
    result = run_cli("redrive", *sandbox_args(demo), "--json")

    assert shown.exit_code == result.exit_code == 0
    assert "nothing is refunded twice" in shown.stdout
    assert (
        "refund-sync redrive --yes" in shown.stdout
        and "refund-sync redrive <document number>" in shown.stdout
    )
    report = json_of(result)
    assert report["started"] is False
    assert report["reasons"] == {reason: 1 for reason in waiting.values()}
    assert {m["document_number"] for m in report["messages"]} == set(waiting)
    assert {m["action"] for m in report["messages"]} == {Reason[r].action for r in waiting.values() if r}
    assert {m["state"] for m in report["messages"]} <= {"FAILED", "HELD"}
    # Peeking left every message in place, visible for the next reader
    assert len(demo.sandbox.dead_letters()) == len(waiting)
