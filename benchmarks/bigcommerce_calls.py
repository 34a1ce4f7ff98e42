"""Measure 1: BigCommerce calls per synced refund, counted by the simulator itself, on the mixed corpus
run through the real handlers in the sandbox (poller -> queue -> consumer, then the payout check).

Every call is grouped by the order it names (calls naming no order, such as the payout check's bulk
lookup, are shared by all refunds). A call's answer is flagged as adding nothing when, within one
order's calls, it repeats a read already answered with no write in between, or re-reads the order or
its refunds after our create already answered. The same run counts what the functions asked of AWS
and how many log bytes they wrote, for the cost model.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.aws_usage import AwsUsage, counting_aws_requests
from benchmarks.corpus import CORPUS_SETTINGS, mixed_corpus
from refund_sync.adapters.state_store import StateStore
from refund_sync.domain.state import SyncStatus
from refund_sync_sandbox.bigcommerce import CallRecord
from refund_sync_sandbox.lambda_runtime import function_logs_to
from refund_sync_sandbox.sandbox import running_sandbox

UNREACHABLE_QUOTA = 1_000_000
_VERSIONED = re.compile(r"/(v[23]/.*)$")
_ORDER = re.compile(r"^v[23]/orders/(\d+)(?:/|$)")
_ID = re.compile(r"/\d+")
_CREATE = re.compile(r"^POST v3/orders/\{id\}/payment_actions/refunds$")


def endpoint(call: CallRecord) -> str:
    """'GET v2/orders/{id}': the call's method and path, ids generalised."""
    match = _VERSIONED.search(call.path)
    path = match.group(1) if match else call.path
    return f"{call.method} {_ID.sub('/{id}', path)}"


def order_of(call: CallRecord) -> int | None:
    match = _VERSIONED.search(call.path)
    found = _ORDER.match(match.group(1)) if match else None
    return int(found.group(1)) if found else None


@dataclass(frozen=True)
class UnusedAnswer:
    endpoint: str
    why: str


def answers_adding_nothing(calls: list[CallRecord]) -> list[UnusedAnswer]:
    """In one order's calls (in order): reads whose answer was already known."""
    flagged: list[UnusedAnswer] = []
    seen: set[tuple[str, str]] = set()
    created = False
    for call in calls:
        name = endpoint(call)
        if call.method != "GET":
            seen.clear()  # a write may change what a read answers
            created = created or (_CREATE.match(name) is not None and call.status < 300)
            continue
        key = (call.path, call.query)
        if key in seen:
            flagged.append(UnusedAnswer(name, "repeats an answer already received"))
        elif created:
            flagged.append(UnusedAnswer(name, "re-reads after our create had answered"))
        seen.add(key)
    return flagged


@dataclass
class Phase:
    """What one function did in the run: its AWS requests and its log bytes."""

    aws: AwsUsage
    log_bytes: int
    invocations: int


@dataclass
class CallsResult:
    refunds: int
    synced: int
    kinds: int
    calls: int
    by_endpoint: Counter[str]
    statuses: Counter[int]
    unused: Counter[UnusedAnswer]
    shared_calls: int  # calls naming no order (bulk lookups), shared by every refund
    shared_endpoints: set[str]
    phases: dict[str, Phase]  # "poller", "consumer", "payout check", "payout check again"
    metrics: set[tuple[str, tuple[tuple[str, str], ...]]] = field(default_factory=set)

    @property
    def calls_per_refund(self) -> float:
        return self.calls / self.synced if self.synced else 0.0

    @property
    def unused_per_refund(self) -> float:
        return sum(self.unused.values()) / self.synced if self.synced else 0.0


def emf_metrics(log: Path) -> set[tuple[str, tuple[tuple[str, str], ...]]]:
    """Each metric (name and dimension values) the functions published: one CloudWatch custom metric."""
    found: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    for line in log.read_text(encoding="utf-8").splitlines():
        if not line.startswith("{") or '"_aws"' not in line:
            continue
        record = json.loads(line)
        for directive in record["_aws"].get("CloudWatchMetrics", []):
            for dimension_set in directive.get("Dimensions", []):
                dimensions = tuple(sorted((name, str(record.get(name, ""))) for name in dimension_set))
                for metric in directive.get("Metrics", []):
                    found.add((metric["Name"], dimensions))
    return found


def _once(invoke: Callable[[], object]) -> Callable[[], int]:
    """One invocation of a function; returns the number of invocations."""

    def run() -> int:
        invoke()
        return 1

    return run


def measure_calls(refunds: int = 48, logs: Path = Path(".benchmarks/calls")) -> CallsResult:
    corpus = mixed_corpus(refunds)
    phases: dict[str, Phase] = {}
    with running_sandbox(settings=CORPUS_SETTINGS) as sandbox:
        # Counting calls, not pacing them: a quota this run cannot reach (measure 2 applies the real one).
        sandbox.store.set_rate_limit(quota=UNREACHABLE_QUOTA)
        sandbox.store.seed([entry.order for entry in corpus])
        for entry in corpus:
            entry.add_to(sandbox.account)
        steps: list[tuple[str, Callable[[], int]]] = [
            ("poller", _once(sandbox.run_poller)),
            ("consumer", lambda: sandbox.drain().batches),
            ("payout check", _once(sandbox.run_payout_check)),
            # nothing left to check: what a run costs once every refund in its window is confirmed
            ("payout check again", _once(sandbox.run_payout_check)),
        ]
        written: list[int] = []
        for name, step in steps:
            log = logs / f"{name.replace(' ', '-')}.jsonl"
            typical = sum(written[-refunds:]) / len(written[-refunds:]) if written else 0.0
            with function_logs_to(log), counting_aws_requests(typical) as aws:
                invocations = step()
            written += aws.item_bytes_written
            phases[name] = Phase(aws, log.stat().st_size, invocations)
        calls = sandbox.store.calls()
        with sandbox.active():
            synced = StateStore(sandbox.aws.table_name).count_by_status()[SyncStatus.SYNCED]

    by_order: dict[int, list[CallRecord]] = {}
    shared: list[CallRecord] = []
    for call in calls:
        order_id = order_of(call)
        if order_id is None:
            shared.append(call)
        else:
            by_order.setdefault(order_id, []).append(call)
    unused: Counter[UnusedAnswer] = Counter()
    for order_calls in by_order.values():
        unused.update(answers_adding_nothing(order_calls))
    found_metrics: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    for log in logs.glob("*.jsonl"):
        found_metrics |= emf_metrics(log)
    return CallsResult(
        refunds=refunds,
        synced=synced,
        kinds=len({entry.kind for entry in corpus}),
        calls=len(calls),
        by_endpoint=Counter(endpoint(call) for call in calls),
        statuses=Counter(call.status for call in calls),
        unused=unused,
        shared_calls=len(shared),
        shared_endpoints={endpoint(call) for call in shared},
        phases=phases,
        metrics=found_metrics,
    )
