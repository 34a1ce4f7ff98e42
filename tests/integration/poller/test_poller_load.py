"""The load figure: 10,000 refunds in the saved search, pages of 1,000. The real poller pages them into the
FIFO queue with exactly ten page calls and one message per refund, also when a run is cut off and the
next one resumes."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator

import moto.sqs.models as moto_sqs
import pytest
from moto.core.models import DEFAULT_ACCOUNT_ID

from refund_sync.adapters.refund_queue import RefundMessage
from refund_sync.observability import metrics
from refund_sync_sandbox.aws import REGION, linear_fifo_queues
from refund_sync_sandbox.netsuite import generate_refunds
from refund_sync_sandbox.sandbox import Sandbox
from tests.integration.poller.support import checkpoint, metric_total, page_calls

REFUNDS = 10_000
PAGE_SIZE = 1_000
STOP_MARGIN_SECONDS = 5


@pytest.fixture
def roomy_fifo_queues() -> Iterator[None]:
    """moto's FIFO bookkeeping made linear for 10,000 messages (see linear_fifo_queues)."""
    with linear_fifo_queues():
        yield


def queue_contents(sandbox: Sandbox) -> list[tuple[RefundMessage, str, str]]:
    """Every message the refund queue holds: (body, group id, deduplication id).

    Read from moto's store (it runs in this process): receiving 10,000 messages ten at a time costs
    moto a scan of the whole queue per call. The smaller stories receive through the SQS API."""
    queue_name = sandbox.aws.refund_queue_url.rsplit("/", 1)[1]
    queue = moto_sqs.sqs_backends[DEFAULT_ACCOUNT_ID][REGION].get_queue(queue_name)
    return [
        (RefundMessage.model_validate_json(stored.body), stored.group_id or "", stored.deduplication_id or "")
        for stored in queue._messages
    ]


@pytest.mark.slow
@pytest.mark.usefixtures("roomy_fifo_queues")
@pytest.mark.parametrize("cut_off", [False, True], ids=["one run", "cut off and resumed"])
def test_ten_thousand_refunds_page_into_the_queue_once_each(
    sandbox: Sandbox,
    cut_off: bool,
    capsys: pytest.CaptureFixture[str],
    record_property: Callable[[str, object], None],
) -> None:
    # Given 10,000 refunds in the saved search, paged 1,000 at a time
    refunds = generate_refunds(sandbox.account, REFUNDS)
    sandbox.configure(netsuite_page_size=str(PAGE_SIZE), poller_stop_margin_seconds=str(STOP_MARGIN_SECONDS))
    metrics.clear_metrics()
    capsys.readouterr()

    # When the schedule fires: once with all its time, or first with 17 s, which leaves 4.5 s for
    # pages before the stop rule (5 s margin + 1.5 x at least 5 s a page) ends the run, then again
    started = time.monotonic()
    runs = []
    if cut_off:
        runs.append(sandbox.run_poller(timeout_seconds=STOP_MARGIN_SECONDS + 12))
        assert runs[0]["stopped_early"] and not runs[0]["sweep_completed"]
        assert 1 <= runs[0]["pages"] < REFUNDS // PAGE_SIZE
        last_enqueued = refunds[runs[0]["pages"] * PAGE_SIZE - 1].id
        assert checkpoint(sandbox).after_id == runs[0]["after_id"] == last_enqueued
    runs.append(sandbox.run_poller())
    seconds = time.monotonic() - started

    # Then the sweep is complete after ceil(10,000 / 1,000) = 10 page calls, no page fetched twice
    calls = page_calls(sandbox)
    assert len(calls) == math.ceil(REFUNDS / PAGE_SIZE) == sum(run["pages"] for run in runs)
    assert [call.after_id for call in calls] == ["0", *(refunds[i * PAGE_SIZE - 1].id for i in range(1, 10))]
    assert runs[-1]["sweep_completed"]

    # And each refund was sent once and is in the queue once, in its order's group, under its own
    # deduplication id (its NetSuite id and last-modified)
    sent = metric_total(capsys.readouterr().out, "RefundsEnqueued")
    assert sent == sum(run["enqueued"] for run in runs) == REFUNDS
    queued = queue_contents(sandbox)
    assert len(queued) == REFUNDS
    assert len({message.refund.id for message, _, _ in queued}) == REFUNDS
    assert len({deduplication_id for _, _, deduplication_id in queued}) == REFUNDS
    assert {message.refund.id for message, _, _ in queued} == {refund.id for refund in refunds}
    assert all(group == message.group_id for message, group, _ in queued)
    assert all(deduplication_id == message.deduplication_id for message, _, deduplication_id in queued)

    record_property("poller_seconds", round(seconds, 1))
    record_property("page_calls", len(calls))
    record_property("messages", len(queued))
    how = f"cut off after page {runs[0]['pages']}, then resumed" if cut_off else "one run"
    print(
        f"\n{REFUNDS:,} refunds ({how}): {len(calls)} page calls, {int(sent):,} sent, "
        f"{len(queued):,} queued, {seconds:.1f} s"
    )
