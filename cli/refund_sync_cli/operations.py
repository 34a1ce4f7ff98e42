"""What the commands do, on a stack or on the sandbox. Reads and decides; views.py draws.

Where a stack and the sandbox differ (a Lambda invocation, a DLQ move task), this module picks the
way; everything else goes through the project's own adapters (StateStore, the NetSuite and
BigCommerce clients, the refund engine).
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from refund_sync.adapters.bigcommerce import BigCommerceClient, BigCommerceCredentials, BigCommerceError
from refund_sync.adapters.netsuite.auth import build_auth, parse_credentials
from refund_sync.adapters.netsuite.client import NetSuiteClient
from refund_sync.adapters.netsuite.contract import NotFound
from refund_sync.adapters.refund_queue import DeadLetter, RefundMessage, peek_dead_letters
from refund_sync.adapters.state_store import StateStore
from refund_sync.config import Settings
from refund_sync.domain.checkpoint import Checkpoint
from refund_sync.domain.netsuite import NetSuiteRefund
from refund_sync.domain.reasons import Reason, RefundProblem

__all__ = ["DeadLetter", "peek_dead_letters"]  # re-exported for the views and main
from refund_sync.domain.state import RefundState, SyncStatus
from refund_sync.services.poll_refunds import imported_from_bigcommerce
from refund_sync.services.refund_state import RefundLedger
from refund_sync.services.sync_refund import Preview, RefundEngine, classify_rejection
from refund_sync_cli import local
from refund_sync_cli.target import Target

if TYPE_CHECKING:
    from mypy_boto3_sqs.client import SQSClient

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
NETSUITE_DEADLINE_SECONDS = 60.0
# Clocks of this machine and of Lambda may differ a little: what a refund's state records within this
# margin before the request was made is counted as an answer to it.
CLOCK_SKEW = timedelta(seconds=5)
LABEL_ID = re.compile(r"\(NetSuite id (?P<id>[^)]+)\)")


class CannotRun(Exception):
    """A command cannot do its work; the message says why (exit 1)."""


class FunctionFailed(CannotRun):
    """The poller itself failed (an error, not a report)."""


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


def read_status(target: Target) -> Status:
    store = target.store()
    sqs = target.sqs()
    return Status(
        counts=store.count_by_status(),
        checkpoint=store.get_checkpoint(),
        refund_queue=queue_depth(sqs, target.outputs.refund_queue_url),
        dead_letter_queue=queue_depth(sqs, target.outputs.dead_letter_queue_url),
    )


# -- show -------------------------------------------------------------------------------------------------
def find_states(store: StateStore, reference: str) -> list[RefundState]:
    """A refund by NetSuite internal id (all digits) or by document number (CM-1042); several if ambiguous."""
    reference = reference.strip()
    if reference.isdigit():
        state = store.get(reference)
        if state is not None:
            return [state]
    return store.find_by_document_number(reference)


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


# -- dead letters and redrive ----------------------------------------------------------------------------
def refund_in(body: str) -> NetSuiteRefund | None:
    try:
        return RefundMessage.model_validate_json(body).refund
    except ValidationError:
        return None


def reasons_waiting(letters: Iterable[DeadLetter]) -> Counter[str]:
    return Counter(letter.reason for letter in letters)


@dataclass(frozen=True)
class MoveTask:
    status: str
    moved: int
    to_move: int | None
    started_at: datetime | None
    failure: str = ""


def move_tasks(target: Target) -> list[MoveTask]:
    """The dead-letter queue's recent move tasks (a stack's; the sandbox has none)."""
    if target.is_sandbox:
        return []
    results = target.sqs().list_message_move_tasks(
        SourceArn=target.outputs.dead_letter_queue_arn, MaxResults=3
    )["Results"]
    return [
        MoveTask(
            status=task.get("Status", "?"),
            moved=task.get("ApproximateNumberOfMessagesMoved", 0),
            to_move=task.get("ApproximateNumberOfMessagesToMove"),
            started_at=datetime.fromtimestamp(task["StartedTimestamp"] / 1000, UTC)
            if "StartedTimestamp" in task
            else None,
            failure=task.get("FailureReason", ""),
        )
        for task in results
    ]


@dataclass(frozen=True)
class RedriveResult:
    task_handle: str | None = None  # a stack's move task (it runs on in SQS)
    moved: int | None = None  # the sandbox moves at once, runs the consumer, and reads the outcome:
    outcomes: dict[SyncStatus, int] = field(default_factory=dict)  # the moved refunds, by status now
    dead_letter_depth: int = 0


class RedriveRefused(CannotRun):
    """A move task is already running: SQS runs one per queue at a time."""


def start_redrive(target: Target, tasks: Iterable[MoveTask]) -> RedriveResult:
    """Move the dead-letter queue back; `tasks` are its move tasks as just read (SQS runs one at a time)."""
    if target.is_sandbox:
        bodies = local.move_dead_letters(target)
        local.drain(target)
        ids = [refund.id for body in bodies if (refund := refund_in(body)) is not None]
        states = target.store().get_many(ids).values()
        return RedriveResult(
            moved=len(bodies),
            outcomes=dict(Counter(state.status for state in states)),
            dead_letter_depth=queue_depth(target.sqs(), target.outputs.dead_letter_queue_url).total,
        )
    running = [task for task in tasks if task.status == "RUNNING"]
    if running:
        task = running[0]
        raise RedriveRefused(
            f"a redrive is already running ({task.moved} of {task.to_move or '?'} messages moved); "
            "SQS runs one at a time: wait for it to finish"
        )
    started = target.sqs().start_message_move_task(
        SourceArn=target.outputs.dead_letter_queue_arn, DestinationArn=target.outputs.refund_queue_arn
    )
    return RedriveResult(task_handle=started["TaskHandle"])


# -- sync on demand --------------------------------------------------------------------------------------
def sync_event(references: Iterable[str], order_ids: Iterable[str]) -> dict[str, Any]:
    """The poller's on-demand event: all digits -> NetSuite ids; anything else -> document numbers."""
    netsuite_ids: list[str] = []
    document_numbers: list[str] = []
    for reference in (raw.strip() for raw in references):
        (netsuite_ids if reference.isdigit() else document_numbers).append(reference)
    return {
        "action": "sync",
        "netsuite_ids": netsuite_ids,
        "document_numbers": document_numbers,
        "bigcommerce_order_ids": [order.strip() for order in order_ids],
    }


def invoke_poller(target: Target, event: dict[str, Any]) -> dict[str, Any]:
    """Invoke the poller and wait for its report; in the sandbox, also run the consumer on the queue."""
    if target.is_sandbox:
        try:
            return local.invoke_poller(target, event)
        except Exception as error:  # the handler's own failure, as Lambda would report it
            raise FunctionFailed(f"the poller failed: {type(error).__name__}: {error}") from error
    response = target.lambda_client().invoke(
        FunctionName=target.outputs.poller_function_name,
        InvocationType="RequestResponse",
        Payload=json.dumps(event).encode(),
    )
    payload: Any = json.loads(response["Payload"].read() or b"null")
    if response.get("FunctionError"):
        if isinstance(payload, dict):
            raise FunctionFailed(
                f"the poller failed: {payload.get('errorType', 'Error')}: {payload.get('errorMessage', '')}"
            )
        raise FunctionFailed(f"the poller failed: {payload}")
    if not isinstance(payload, dict):
        raise FunctionFailed(f"the poller answered {payload!r}, not a report")
    return payload


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
        for state in store.find_by_document_number(document_number):
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

    Returns every refund's latest state (unfinished ones included: the caller says they timed out).
    In the sandbox, each round also runs the consumer, since messages put back for a retry come back."""
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
        if target.is_sandbox:
            local.drain(target)


# -- preview ------------------------------------------------------------------------------------------------
@dataclass
class PreviewOutcome:
    reference: str
    refund: NetSuiteRefund | None = None
    not_found: list[NotFound] = field(default_factory=list)
    state: RefundState | None = None
    preview: Preview | None = None
    problem: RefundProblem | None = None
    skipped_because: str | None = None  # the loop guard's reason

    @property
    def already_done(self) -> bool:
        return self.state is not None and self.state.status is SyncStatus.SYNCED

    @property
    def would_sync(self) -> bool:
        return self.preview is not None and self.problem is None


def netsuite_client(target: Target, settings: Settings) -> NetSuiteClient:
    name = target.outputs.netsuite_secret_name
    credentials = parse_credentials(target.secret_json(name), settings.netsuite_auth_method, name)
    return NetSuiteClient(settings, build_auth(settings, credentials))


def bigcommerce_client(target: Target, settings: Settings) -> BigCommerceClient:
    name = target.outputs.bigcommerce_secret_name
    try:
        credentials = BigCommerceCredentials.model_validate(target.secret_json(name))
    except ValidationError:
        raise CannotRun(f"secret {name!r} must be JSON with a non-empty access_token") from None
    return BigCommerceClient(
        settings.bigcommerce_base_url,
        credentials.access_token.get_secret_value(),
        timeout_seconds=settings.bigcommerce_timeout_seconds,
        quota_reserve=settings.bigcommerce_quota_reserve,
    )


def fetch_refund(netsuite: NetSuiteClient, reference: str) -> tuple[NetSuiteRefund | None, list[NotFound]]:
    """The refund from NetSuite: by internal id when all digits, else (or failing that) by document number."""
    started = time.monotonic()

    def deadline() -> float:
        return NETSUITE_DEADLINE_SECONDS - (time.monotonic() - started)

    reference = reference.strip()
    misses: list[NotFound] = []
    if reference.isdigit():
        found = netsuite.find(ids=[reference], deadline=deadline)
        if found.refunds:
            return found.refunds[0], []
        misses = list(found.not_found)
    found = netsuite.find(tran_ids=[reference], deadline=deadline)
    if found.refunds:
        return found.refunds[0], []
    return None, misses + list(found.not_found)


def preview_refund(target: Target, reference: str) -> PreviewOutcome:
    """Fetch the refund from NetSuite, then map and quote it at BigCommerce as a sync would. No writes."""
    settings = target.settings()
    outcome = PreviewOutcome(reference)
    with netsuite_client(target, settings) as netsuite:
        outcome.refund, outcome.not_found = fetch_refund(netsuite, reference)
    if outcome.refund is None:
        return outcome
    refund = outcome.refund
    store = target.store()
    outcome.state = store.get(refund.id)
    if outcome.already_done:
        return outcome
    if outcome.state is not None and outcome.state.status is SyncStatus.SKIPPED:
        # Skipped once is skipped for good: neither the schedule nor an on-demand sync sends it.
        outcome.skipped_because = outcome.state.reason_detail or "skipped by the loop guard"
        return outcome
    outcome.skipped_because = imported_from_bigcommerce(
        refund, re.compile(settings.loop_guard_external_id_pattern, re.IGNORECASE)
    )
    if outcome.skipped_because:
        return outcome
    engine = RefundEngine(settings, RefundLedger(store), bigcommerce_client(target, settings))
    try:
        outcome.preview = engine.preview(refund)
    except RefundProblem as problem:
        outcome.problem = problem
    except BigCommerceError as error:
        if error.transient:
            raise
        outcome.problem = RefundProblem(classify_rejection(error), f"BigCommerce: {error.message}")
    return outcome
