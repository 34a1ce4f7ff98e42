"""What the commands do. Reads and decides; views.py draws.

Looking (status, show, failures, the redrive preview) reads the state table and the queues with the
user's own role. Acting (preview, sync, redrive, discard, resolve, confirm, recreate) asks the operator
function, which runs in the stack with its credentials: `ask_operator` is the one way in, for a stack and
the sandbox alike (the sandbox serves Lambda's Invoke API for its functions).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from refund_sync.adapters.refund_queue import DeadLetter, peek_dead_letters
from refund_sync.adapters.state_store import StateStore
from refund_sync.domain.checkpoint import Checkpoint
from refund_sync.domain.reasons import Reason
from refund_sync.domain.state import RefundState, SyncStatus
from refund_sync.services.references import (
    InvalidReference,
    find_states,
    is_netsuite_id,
    parse_reference,
)
from refund_sync_cli.output import CommandFailed, ErrorCode
from refund_sync_cli.target import Target

if TYPE_CHECKING:
    from mypy_boto3_sqs.client import SQSClient

__all__ = ["DeadLetter", "find_states"]  # for the views and main

# Statuses a sync ends in (PENDING and SUBMITTING are on the way).
FINISHED = frozenset(
    {
        SyncStatus.SYNCED,
        SyncStatus.FAILED,
        SyncStatus.HELD,
        SyncStatus.DRY_RUN,
        SyncStatus.SKIPPED,
        SyncStatus.RESOLVED,
    }
)
SUCCEEDED = frozenset({SyncStatus.SYNCED, SyncStatus.DRY_RUN})
PROBLEMS = (SyncStatus.FAILED, SyncStatus.HELD)
# Clocks of this machine and of Lambda may differ a little: what a refund's state records within this
# margin before the request was made is counted as an answer to it.
CLOCK_SKEW = timedelta(seconds=5)
LABEL_ID = re.compile(r"\(NetSuite id (?P<id>[^)]+)\)")
MAX_PER_KIND = 100  # the poller's limit per list of an on-demand sync
PEEK_LIMIT = 1000


def reference(raw: str) -> str:
    """A refund's name as the user typed it, checked before anything is asked of AWS."""
    try:
        return parse_reference(raw)
    except InvalidReference as error:
        raise CommandFailed(ErrorCode.USAGE, str(error), 2) from None


# -- status ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class QueueDepth:
    waiting: int
    in_flight: int
    delayed: int

    @property
    def total(self) -> int:
        return self.waiting + self.in_flight + self.delayed


def queue_depth(sqs: SQSClient, queue_url: str) -> QueueDepth:
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=[
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ],
    )["Attributes"]
    return QueueDepth(
        waiting=int(attributes.get("ApproximateNumberOfMessages", "0")),
        in_flight=int(attributes.get("ApproximateNumberOfMessagesNotVisible", "0")),
        delayed=int(attributes.get("ApproximateNumberOfMessagesDelayed", "0")),
    )


@dataclass(frozen=True)
class Status:
    counts: dict[SyncStatus, int]
    checkpoint: Checkpoint
    refund_queue: QueueDepth
    dead_letter_queue: QueueDepth

    @property
    def problems(self) -> int:
        """FAILED and HELD refunds: the number `refund-sync failures` lists."""
        return sum(self.counts.get(status, 0) for status in PROBLEMS)


def read_status(target: Target) -> Status:
    store = target.store()
    sqs = target.sqs()
    return Status(
        counts=store.count_by_status(),
        checkpoint=store.get_checkpoint(),
        refund_queue=queue_depth(sqs, target.outputs.refund_queue_url),
        dead_letter_queue=queue_depth(sqs, target.outputs.dead_letter_queue_url),
    )


# -- failures ---------------------------------------------------------------------------------------------
def read_failures(
    store: StateStore, reason: Reason | None = None, *, on_item: Callable[[], None] | None = None
) -> list[RefundState]:
    """Every FAILED and HELD refund (optionally of one reason), most recently updated first."""
    found = []
    for status in PROBLEMS:
        for state in store.by_status(status):
            if on_item is not None:
                on_item()
            if reason is None or state.reason_code == reason.name:
                found.append(state)
    return sorted(found, key=lambda state: state.updated_at, reverse=True)


def peek(target: Target, limit: int = PEEK_LIMIT) -> list[DeadLetter]:
    """The dead-letter queue's messages, read and left in place."""
    return peek_dead_letters(target.sqs(), target.outputs.dead_letter_queue_url, limit)


# -- the operator function --------------------------------------------------------------------------------
def ask_operator(target: Target, event: dict[str, Any]) -> dict[str, Any]:
    """Invoke the operator function with `event` and return its answer; a refusal (`ok: false`) or the
    function's own failure becomes a CommandFailed with the function's code."""
    response = target.lambda_client().invoke(
        FunctionName=target.outputs.operator_function_name,
        InvocationType="RequestResponse",
        Payload=json.dumps(event).encode(),
    )
    payload: Any = json.loads(response["Payload"].read() or b"null")
    if response.get("FunctionError"):
        detail = (
            f"{payload.get('errorType', 'Error')}: {payload.get('errorMessage', '')}"
            if isinstance(payload, dict)
            else str(payload)
        )
        raise CommandFailed(ErrorCode.OPERATOR_FAILED, f"the operator function failed: {detail}")
    if not isinstance(payload, dict) or "ok" not in payload:
        raise CommandFailed(ErrorCode.OPERATOR_FAILED, f"the operator function answered {payload!r}")
    if not payload["ok"]:
        error = payload.get("error", {})
        code = str(error.get("code", ErrorCode.OPERATOR_FAILED))
        usage = code in ("INVALID_REQUEST", "AMBIGUOUS", "UNKNOWN_ACTION")
        raise CommandFailed(code, str(error.get("message", "")), 2 if usage else 1)
    return payload


# -- sync on demand --------------------------------------------------------------------------------------
def sync_event(references: Iterable[str], order_ids: Iterable[str]) -> dict[str, Any]:
    """The on-demand sync's event: all digits -> NetSuite ids; anything else -> document numbers."""
    netsuite_ids: list[str] = []
    document_numbers: list[str] = []
    for name in (reference(raw) for raw in references):
        (netsuite_ids if is_netsuite_id(name) else document_numbers).append(name)
    event = {
        "action": "sync",
        "netsuite_ids": netsuite_ids,
        "document_numbers": document_numbers,
        "bigcommerce_order_ids": [reference(order) for order in order_ids],
    }
    if not (netsuite_ids or document_numbers or event["bigcommerce_order_ids"]):
        raise CommandFailed(
            ErrorCode.USAGE, "name at least one refund (NetSuite id or document number) or --order ID", 2
        )
    if any(
        len(event[kind]) > MAX_PER_KIND
        for kind in ("netsuite_ids", "document_numbers", "bigcommerce_order_ids")
    ):
        raise CommandFailed(
            ErrorCode.USAGE, f"at most {MAX_PER_KIND} ids, document numbers and orders each per sync", 2
        )
    return event


def netsuite_id_of(entry: dict[str, Any]) -> str | None:
    """The NetSuite id of a report entry (the report names refunds as 'Credit Memo CM-1 (NetSuite id 1)')."""
    if entry.get("netsuite_id"):
        return str(entry["netsuite_id"])
    match = LABEL_ID.search(str(entry.get("refund", "")))
    return match.group("id") if match else None


def baseline_versions(store: StateStore, event: dict[str, Any]) -> dict[str, int]:
    """The state versions of the named refunds before the sync (0: none yet), to tell a new outcome
    from an old one. Refunds found only through their order are not known in advance."""
    versions = {netsuite_id: 0 for netsuite_id in event["netsuite_ids"]}
    for state in store.get_many(event["netsuite_ids"]).values():
        versions[state.netsuite_id] = state.version
    for document_number in event["document_numbers"]:
        for state in find_states(store, document_number):
            versions[state.netsuite_id] = state.version
    return versions


def answered(state: RefundState | None, baseline: int | None, since: datetime) -> bool:
    """Whether `state` is the outcome of this sync (not the one a refund had before)."""
    if state is None or state.status not in FINISHED:
        return False
    if baseline is not None:
        return state.version > baseline
    return state.updated_at >= since - CLOCK_SKEW


def wait_for_outcomes(
    target: Target,
    baselines: dict[str, int | None],
    *,
    since: datetime,
    timeout_seconds: float,
    interval_seconds: float = 2.0,
    on_progress: Callable[[int, int], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, RefundState | None]:
    """Read the state table until every refund has finished this sync, or the time is up.

    Returns every refund's latest state (unfinished ones included: the caller says they timed out)."""
    store = target.store()
    deadline = clock() + timeout_seconds
    latest: dict[str, RefundState | None] = dict.fromkeys(baselines)
    while True:
        pending = [i for i in baselines if not answered(latest[i], baselines[i], since)]
        if pending:
            latest.update(store.get_many(pending))
            pending = [i for i in pending if not answered(latest[i], baselines[i], since)]
        if on_progress is not None:
            on_progress(len(baselines) - len(pending), len(baselines))
        if not pending or clock() >= deadline:
            return latest
        sleep(min(interval_seconds, max(deadline - clock(), 0.0)))
