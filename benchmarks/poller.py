"""Measure 3: the real poller handler paging 10,000 refunds from the NetSuite simulator into the FIFO queue.

As the 10,000-refund load test does (tests/integration/poller/test_poller_load.py), moto's FIFO queue
bookkeeping is made linear for the run: moto recounts and rescans the whole queue for every message
sent, which would measure moto rather than the poller. What is stored, deduplicated and delivered is
unchanged. NetSuite calls are counted by the simulator (token requests and RESTlet pages).
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from benchmarks.aws_usage import AwsUsage, counting_aws_requests
from refund_sync.config import Settings
from refund_sync_sandbox.aws import linear_fifo_queues
from refund_sync_sandbox.lambda_runtime import function_logs_to
from refund_sync_sandbox.netsuite import generate_refunds
from refund_sync_sandbox.sandbox import running_sandbox

REFUNDS = 10_000


@dataclass(frozen=True)
class PollerResult:
    refunds: int
    page_size: int
    seconds: float
    cpu_seconds: float  # the whole process: poller, simulators and moto alike
    enqueued: int
    netsuite_calls: Counter[str]  # "restlet page", "token"
    aws: AwsUsage
    log_bytes: int

    @property
    def total_netsuite_calls(self) -> int:
        return sum(self.netsuite_calls.values())


def measure_poller(
    refunds: int = REFUNDS, logs: Path = Path(".benchmarks/poller-logs.jsonl")
) -> PollerResult:
    page_size = Settings().netsuite_page_size  # as deployed (template default)
    with running_sandbox() as sandbox, linear_fifo_queues():
        generate_refunds(sandbox.account, refunds)
        with function_logs_to(logs), counting_aws_requests() as aws:
            started, cpu_started = time.perf_counter(), time.process_time()
            report = sandbox.run_poller()
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        calls = Counter(
            call.endpoint if call.action in (None, call.endpoint) else f"{call.endpoint} {call.action}"
            for call in sandbox.account.calls
        )
    return PollerResult(
        refunds=refunds,
        page_size=page_size,
        seconds=seconds,
        cpu_seconds=cpu,
        enqueued=int(report["enqueued"]),
        netsuite_calls=calls,
        aws=aws,
        log_bytes=logs.stat().st_size,
    )
