"""The operator function on its own: its sample events (events/operator-*.json, for `sam local invoke`
and the Lambda console) are requests it takes, and every answer is JSON, a refusal included.

The CLI tests drive the same handler through the sandbox's Invoke API; these call it directly.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from refund_sync.domain.state import SyncStatus
from refund_sync.services.operator_actions import ACTIONS
from refund_sync_sandbox.sandbox import Sandbox
from refund_sync_sandbox.scenarios import scenarios, seed

EVENTS = Path(__file__).resolve().parents[2] / "events"
SAMPLES = sorted(EVENTS.glob("operator-*.json"))


def load(path: Path) -> dict[str, Any]:
    event: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return event


def test_there_is_a_sample_event_for_every_action() -> None:
    assert {load(path)["action"] for path in SAMPLES} == set(ACTIONS)


@pytest.mark.parametrize("path", SAMPLES, ids=lambda path: path.name)
def test_every_sample_event_is_a_request_of_its_action(path: Path) -> None:
    event = load(path)
    request = ACTIONS[event["action"]].request.model_validate(event)
    assert request.action == event["action"]


@pytest.mark.parametrize(
    ("event", "code"),
    [
        ({}, "UNKNOWN_ACTION"),
        ({"action": "delete_everything"}, "UNKNOWN_ACTION"),
        ({"action": "preview"}, "INVALID_REQUEST"),
        ({"action": "preview", "refund": ""}, "INVALID_REQUEST"),
        ({"action": "preview", "refund": "CM-1", "extra": 1}, "INVALID_REQUEST"),
        ({"action": "sync"}, "INVALID_REQUEST"),
        ({"action": "sync", "netsuite_ids": ["CM-1"]}, "INVALID_REQUEST"),
        ({"action": "resolve", "refund": "CM-1", "how": "hoped"}, "INVALID_REQUEST"),
        ({"action": "discard", "refund": "CM-1", "reason": ""}, "INVALID_REQUEST"),
        ({"action": "redrive", "refund": "CM-404"}, "NOT_IN_DEAD_LETTER_QUEUE"),
        ({"action": "resolve", "refund": "CM-404", "how": "refunded_by_hand"}, "NOT_FOUND"),
        ({"action": "confirm", "refund": "CM-1"}, "INVALID_REQUEST"),
        ({"action": "confirm", "refund": "CM-1", "ours": 5, "not_created": True}, "INVALID_REQUEST"),
        ({"action": "confirm", "refund": "CM-404", "not_created": True}, "NOT_FOUND"),
        ({"action": "recreate", "refund": "CM-404"}, "NOT_FOUND"),
    ],
)
def test_a_request_it_cannot_do_is_answered_with_a_code(
    sandbox: Sandbox, event: dict[str, Any], code: str
) -> None:
    answer = sandbox.run_operator(event)

    assert answer["ok"] is False
    assert answer["error"]["code"] == code
    assert answer["error"]["message"]


def test_the_sample_events_run_against_the_demo(sandbox: Sandbox) -> None:
    # Given the demo's refunds, polled and consumed once
    by_id = seed(sandbox.account, sandbox.store.seed, scenarios())
    sandbox.run_poller()
    sandbox.drain()
    held = next(i for i, s in by_id.items() if s.expected_reason == "AMOUNT_MISMATCH")
    document_number = sandbox.account.refund(held).tran_id

    # When each sample runs, named for the held refund
    answers = {
        path.stem: sandbox.run_operator({**load(path), "refund": document_number})
        for path in SAMPLES
        if load(path)["action"] in ("preview", "resolve")
    }

    # Then the preview says why it would not sync, and resolving it settles it for good
    assert answers["operator-preview"]["ok"] is True
    assert answers["operator-preview"]["reason"] == "AMOUNT_MISMATCH"
    assert answers["operator-resolve"]["ok"] is True
    assert answers["operator-resolve"]["state"]["status"] == SyncStatus.RESOLVED.value
    again = sandbox.run_operator({**load(EVENTS / "operator-resolve.json"), "refund": document_number})
    assert again["already_resolved"] is True


def test_decisions_on_refunds_refund_sync_did_not_stop_on_are_refused(sandbox: Sandbox) -> None:
    # Given the demo's refunds: one synced, one held for an amount mismatch
    by_id = seed(sandbox.account, sandbox.store.seed, scenarios())
    sandbox.run_poller()
    sandbox.drain()
    synced = next(i for i, s in by_id.items() if s.expected_status == SyncStatus.SYNCED.value)
    held = next(i for i, s in by_id.items() if s.expected_reason == "AMOUNT_MISMATCH")

    refunds_before = len(sandbox.store.list_refunds())

    # When an operator confirms or re-creates them, then each is refused, naming why, and nothing changes
    for event in (
        {"action": "confirm", "refund": held, "not_created": True},
        {"action": "confirm", "refund": synced, "ours": 1},
        {"action": "recreate", "refund": synced},
        {"action": "recreate", "refund": held},
    ):
        answer = sandbox.run_operator(event)
        assert (answer["ok"], answer["error"]["code"]) == (False, "DECISION_REFUSED"), answer
    assert len(sandbox.store.list_refunds()) == refunds_before
