"""Speed and memory of the hot paths (`make bench`; never part of `make test`).

- mapping one large NetSuite refund onto a large BigCommerce order (the consumer's pure core);
- parsing a full 1,000-refund RESTlet page (the poller's biggest input) and its memory peak;
- batching 1,000 refunds into SQS SendMessageBatch entries (the poller's biggest output);
- the whole pipeline on the sandbox: refunds synced per second through the real handlers.
"""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from refund_sync.adapters.netsuite.contract import PageResponse
from refund_sync.adapters.refund_queue import RefundMessage, _batches
from refund_sync.domain.mapping import MappingRules, plan_refund
from refund_sync.domain.netsuite import NetSuiteRefund
from refund_sync_sandbox.lambda_runtime import function_logs_to
from refund_sync_sandbox.netsuite import BillingType
from refund_sync_sandbox.sandbox import running_sandbox
from refund_sync_sandbox.scenarios import TEE, address, order
from tests.factories import Product, line, refund
from tests.factories import order as domain_order

D = Decimal


def peak_kib(work: Callable[[], Any]) -> float:
    """The peak of Python memory allocated while `work` runs, in KiB (printed and kept in the JSON)."""
    tracemalloc.start()
    try:
        work()
        peak = tracemalloc.get_traced_memory()[1] / 1024
    finally:
        tracemalloc.stop()
    print(f"\n  peak memory: {peak:,.0f} KiB")
    return round(peak, 1)


def big_refund(lines: int) -> tuple[NetSuiteRefund, Any]:
    products = [Product(f"SKU-{i}", 5, D("19.99")) for i in range(lines)]
    bc = domain_order(*products, shipping=(D("10.00"), D("6.00")))
    ns = refund(
        *[line(i + 1, f"SKU-{i}", 3, D("59.97"), tax=D("6.00")) for i in range(lines)], shipping="5.00"
    )
    return ns, bc


def page_json(count: int) -> bytes:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    refunds = [
        refund(
            line(1, "TEE-BLK-M", 2, "50.00", tax="5.00"),
            line(2, "MUG-CER", 1, "12.00", tax="1.20"),
            netsuite_id=str(1000 + i),
            tran_id=f"CM-{1000 + i}",
            order_id=str(5000 + i),
            shipping="8.00",
            shipping_tax="0.80",
            last_modified=start + timedelta(minutes=i),
        ).model_dump(mode="json")
        for i in range(count)
    ]
    body = {
        "action": "page",
        "version": "1",
        "refunds": refunds,
        "paging": {
            "afterId": "0",
            "lastId": str(999 + count),
            "pageSize": count,
            "count": count,
            "hasMore": False,
        },
        "remainingUsage": 4900,
    }
    return json.dumps(body).encode()


def test_mapping_a_200_line_refund(benchmark: BenchmarkFixture) -> None:
    ns, bc = big_refund(200)
    plan = benchmark(plan_refund, ns, bc, MappingRules())
    assert len(plan.items) == 202  # 200 product lines + shipping on two consignments
    benchmark.extra_info["peak_KiB"] = peak_kib(lambda: plan_refund(ns, bc, MappingRules()))


def test_parsing_a_1000_refund_restlet_page(benchmark: BenchmarkFixture) -> None:
    body = page_json(1000)
    page = benchmark(PageResponse.model_validate_json, body)
    assert len(page.refunds) == 1000
    benchmark.extra_info["body_KiB"] = round(len(body) / 1024, 1)
    benchmark.extra_info["peak_KiB"] = peak_kib(lambda: PageResponse.model_validate_json(body))


def test_batching_1000_refunds_for_sqs(benchmark: BenchmarkFixture) -> None:
    page = PageResponse.model_validate_json(page_json(1000))
    now = datetime.now(UTC)
    messages = [RefundMessage(refund=r, sent_by="schedule", sent_at=now) for r in page.refunds]
    batches = benchmark(_batches, messages)
    assert sum(len(b) for b in batches) == 1000
    benchmark.extra_info["peak_KiB"] = peak_kib(lambda: _batches(messages))


@pytest.mark.parametrize("refunds", [20])
def test_the_pipeline_end_to_end_on_the_sandbox(benchmark: BenchmarkFixture, refunds: int) -> None:
    """Refunds per second through the real poller and consumer handlers (HTTP to moto and simulators)."""

    def run() -> int:
        with running_sandbox() as sandbox, function_logs_to(Path(".benchmarks/pipeline-logs.jsonl")):
            orders = [
                order(9000 + i, [TEE.order_line(i + 1, 1, 100 + i)], [address(100 + i, D("5.00"))])
                for i in range(refunds)
            ]
            sandbox.store.seed(orders)
            for o in orders:
                so = sandbox.account.add_sales_order(bigcommerce_order_id=str(o.id))
                billing = sandbox.account.add_billing(so, BillingType.INVOICE)
                sandbox.account.create_refund(billing, [TEE.refund_line(1, 1)])
            sandbox.run_poller()
            return sandbox.drain().succeeded

    synced = benchmark.pedantic(run, rounds=2, iterations=1)  # type: ignore[no-untyped-call]
    assert synced == refunds
    benchmark.extra_info["refunds"] = refunds
