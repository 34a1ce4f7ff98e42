"""Measure 2: how fast a backlog clears against BigCommerce's request quota, in virtual time.

A backlog of mixed refunds (one per order) is drained by `workers` consumer instances (the template's
ConsumerMaxConcurrency) through the real consumer path. The simulator enforces the quota on a
ManualClock; every BigCommerce call costs `latency_seconds` of virtual time, and the client's
rate-limit pauses and 429 back-offs advance the same clock, so the run takes seconds of real time.
The bound is what the quota allows at the measured number of calls per refund:
(quota / window) / calls per refund.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from benchmarks.consumers import Backlog, BenchConsumer, netsuite_refunds, state_table
from benchmarks.corpus import mixed_corpus
from benchmarks.inprocess import VirtualWorkers
from refund_sync.observability import metrics
from refund_sync_sandbox.bigcommerce import BigCommerceStore, ManualClock
from refund_sync_sandbox.lambda_runtime import function_logs_to

WINDOW_MS = 30_000
LATENCY_SECONDS = 0.25  # modelled time of one BigCommerce call, request to answer


@dataclass(frozen=True)
class ThroughputResult:
    quota: int
    window_seconds: float
    workers: int
    latency_seconds: float
    refunds: int
    synced: int
    virtual_seconds: float
    calls: int  # answered calls (2xx/4xx other than 429)
    throttled_calls: int  # 429s the simulator answered
    transient_failures: int
    throttled_failures: int
    invocations: int
    sustained_per_minute: float  # refunds done in the run's whole quota windows, per minute

    @property
    def calls_per_refund(self) -> float:
        return self.calls / self.synced if self.synced else 0.0

    @property
    def refunds_per_minute(self) -> float:
        """Over whole quota windows only: a last, partial window would flatter the rate."""
        return self.sustained_per_minute

    @property
    def bound_per_minute(self) -> float:
        """What the quota allows: (quota / window) / calls per refund, per minute."""
        if not self.calls_per_refund:
            return 0.0
        return self.quota / self.window_seconds / self.calls_per_refund * 60

    @property
    def ratio(self) -> float:
        return self.refunds_per_minute / self.bound_per_minute if self.bound_per_minute else 0.0

    @property
    def worker_seconds_per_refund(self) -> float:
        """Instance time per refund, pauses included: what Lambda bills while a backlog drains."""
        return self.virtual_seconds * self.workers / self.synced if self.synced else 0.0


def measure_throughput(
    *,
    refunds: int = 2_000,
    quota: int = 150,
    workers: int = 5,
    latency_seconds: float = LATENCY_SECONDS,
    logs: Path = Path(".benchmarks/throughput-logs.jsonl"),
) -> ThroughputResult:
    corpus = mixed_corpus(refunds)
    backlog = Backlog.of(netsuite_refunds(corpus))
    clock = ManualClock()
    backlog.clock = clock
    start = clock()
    store = BigCommerceStore([entry.order for entry in corpus], clock=clock, quota=quota, window_ms=WINDOW_MS)
    virtual = VirtualWorkers(clock)
    with state_table(), function_logs_to(logs):
        instances = [
            BenchConsumer(
                store, clock=clock, sleep=virtual.advance, after_call=lambda: virtual.advance(latency_seconds)
            )
            for _ in range(workers)
        ]
        seconds = virtual.run([functools.partial(instance.drain, backlog) for instance in instances])
        metrics.clear_metrics()
    calls = store.calls()
    throttled = sum(1 for call in calls if call.status == 429)
    # The simulator's first window opened with the first call; count the refunds done in whole windows.
    window_seconds = WINDOW_MS / 1000
    first_call = calls[0].timestamp.timestamp() if calls else start
    windows = int((start + seconds - first_call) // window_seconds)
    cutoff = first_call + windows * window_seconds
    done_in_windows = sum(1 for at in backlog.completed_at if at <= cutoff)
    return ThroughputResult(
        quota=quota,
        window_seconds=WINDOW_MS / 1000,
        workers=workers,
        latency_seconds=latency_seconds,
        refunds=refunds,
        synced=backlog.synced,
        virtual_seconds=seconds,
        calls=len(calls) - throttled,
        throttled_calls=throttled,
        transient_failures=backlog.transient_failures,
        throttled_failures=backlog.throttled_failures,
        invocations=backlog.invocations,
        sustained_per_minute=done_in_windows / (windows * window_seconds) * 60 if windows else 0.0,
    )
