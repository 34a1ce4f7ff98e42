"""Measure 5a: the CPU our code spends per refund, with the simulators answering instantly.

One consumer instance syncs the mixed corpus in-process: the BigCommerce simulator's Flask app behind a
requests transport, DynamoDB on moto (mock_aws). Process CPU time (time.process_time) is taken over
the run, less the time spent inside the simulators' answers (the Flask app, moto's backends), which
a meter around each answer counts. What remains is ours: our packages and the libraries they run
(pydantic, boto3/botocore on the client side, requests, Powertools). One refund of each kind is synced
first and not counted, so lazy first-use costs (botocore loading service models) stay in cold start.

A second pass under cProfile, paused inside the simulators' answers, splits that time by package:
each function's own time goes to its package; a built-in's time goes to the package that called it.
"""

from __future__ import annotations

import cProfile
import pstats
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from benchmarks.consumers import Backlog, BenchConsumer, netsuite_refunds, state_table
from benchmarks.corpus import KINDS, mixed_corpus
from benchmarks.inprocess import SimulatorMeter
from refund_sync.observability import metrics
from refund_sync_sandbox.bigcommerce import BigCommerceStore, ManualClock
from refund_sync_sandbox.lambda_runtime import function_logs_to

UNREACHABLE_QUOTA = 1_000_000_000
# Where a source file belongs (first match wins); anything else is "other".
FAMILIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("refund-sync (our packages)", ("/refund_sync/", "/refund_consumer/", "/refund_poller/")),
    ("pydantic", ("/pydantic/", "/pydantic_core/", "/pydantic_settings/")),
    ("boto3 / botocore", ("/boto3/", "/botocore/", "/s3transfer/", "/dateutil/", "/jmespath/")),
    ("requests / urllib3", ("/requests/", "/urllib3/", "/charset_normalizer/", "/idna/")),
    ("Powertools", ("/aws_lambda_powertools/", "/aws_xray_sdk/", "/wrapt/")),
    ("tenacity / simplejson", ("/tenacity/", "/simplejson/")),
    ("bench harness", ("/benchmarks/", "/refund_sync_sandbox/", "/werkzeug/", "/flask/", "/moto/")),
)


def family(filename: str) -> str:
    for name, markers in FAMILIES:
        if any(marker in filename for marker in markers):
            return name
    if "site-packages" in filename:
        return "other libraries"
    if filename.startswith("<frozen") or "/lib/python3" in filename:
        return "Python stdlib"
    return "other"


@dataclass(frozen=True)
class CpuResult:
    refunds: int
    synced: int
    total_cpu_seconds: float
    simulator_cpu_seconds: float
    wall_seconds: float
    shares: dict[str, float]  # family -> share of our profiled time

    @property
    def ours_ms_per_refund(self) -> float:
        return (
            (self.total_cpu_seconds - self.simulator_cpu_seconds) / self.synced * 1000 if self.synced else 0.0
        )


def _run(refunds: int, profiler: cProfile.Profile | None, logs: Path) -> tuple[int, float, float, float]:
    corpus = mixed_corpus(refunds + len(KINDS))
    backlog = Backlog.of(netsuite_refunds(corpus))
    clock = ManualClock()
    store = BigCommerceStore([e.order for e in corpus], clock=clock, quota=UNREACHABLE_QUOTA)
    meter = SimulatorMeter()
    with state_table(), meter.metering_moto(), function_logs_to(logs):
        instance = BenchConsumer(store, clock=clock, sleep=clock.advance, meter=meter)
        for _ in range(len(KINDS)):  # warm-up: one refund of each kind, not counted
            refund, receive_count = backlog.pending.popleft()
            instance.handle(backlog, refund, receive_count)
        warmed = backlog.synced
        meter.seconds = 0.0
        started, wall = time.process_time(), time.perf_counter()
        if profiler is not None:
            meter.profiler = profiler
            profiler.enable()
        instance.drain(backlog)
        if profiler is not None:
            profiler.disable()
            meter.profiler = None
        cpu, wall = time.process_time() - started, time.perf_counter() - wall
        metrics.clear_metrics()
    return backlog.synced - warmed, cpu, meter.seconds, wall


def _shares(profiler: cProfile.Profile) -> dict[str, float]:
    spent: Counter[str] = Counter()
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    for (filename, _, _), (_, _, own, _, callers) in stats.items():
        if filename != "~":
            spent[family(filename)] += own
            continue
        # a built-in: its time belongs to whoever called it, in proportion to their calls' time
        callers_time = sum(entry[2] for entry in callers.values()) or 1.0
        for (caller_file, _, _), entry in callers.items():
            spent[family(caller_file)] += own * entry[2] / callers_time
    ours = sum(seconds for name, seconds in spent.items() if name != "bench harness")
    return {name: seconds / ours for name, seconds in spent.most_common() if name != "bench harness"}


def measure_cpu(refunds: int = 200, logs: Path = Path(".benchmarks/cpu-logs.jsonl")) -> CpuResult:
    synced, cpu, simulators, wall = _run(refunds, None, logs)
    profiler = cProfile.Profile()
    _run(refunds // 2, profiler, logs)
    return CpuResult(
        refunds=refunds,
        synced=synced,
        total_cpu_seconds=cpu,
        simulator_cpu_seconds=simulators,
        wall_seconds=wall,
        shares=_shares(profiler),
    )
