"""The real poller handler sweeps the simulated saved search page by page into the FIFO queue, and a run
that runs short of time stops cleanly where the next one resumes."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from refund_sync_sandbox.netsuite import generate_refunds
from refund_sync_sandbox.sandbox import Sandbox
from tests.integration.poller.support import checkpoint, expected_group, page_calls, peek_queue

LOOKBACK_SECONDS = 300  # Settings.poller_lookback_seconds, as template.yaml leaves it


def test_one_scheduled_run_pages_every_refund_into_the_queue_once(sandbox: Sandbox) -> None:
    # Given 23 refunds in the saved search and pages of 5
    refunds = generate_refunds(sandbox.account, 23)
    sandbox.configure(netsuite_page_size="5")

    # When the schedule fires once
    started = datetime.now(UTC)
    report = sandbox.run_poller()
    finished = datetime.now(UTC)

    # Then the sweep took ceil(23 / 5) = 5 page calls, each after the last id of the one before
    calls = page_calls(sandbox)
    assert len(calls) == math.ceil(23 / 5) == report["pages"]
    assert [call.status for call in calls] == [200] * 5
    assert [call.after_id for call in calls] == ["0", *(refunds[i * 5 - 1].id for i in range(1, 5))]
    assert report["sweep_completed"] and not report["stopped_early"]

    # And every refund is in the queue exactly once, in its order's message group, whole
    queued = peek_queue(sandbox)
    assert sorted(item.netsuite_id for item in queued) == sorted(refund.id for refund in refunds)
    by_id = {refund.id: refund for refund in refunds}
    for item in queued:
        assert item.message.refund == by_id[item.netsuite_id]
        assert item.message.sent_by == "schedule"
        assert item.group_id == item.message.group_id == expected_group(by_id[item.netsuite_id])
        assert item.deduplication_id == item.message.deduplication_id
    assert report["enqueued"] == 23

    # And the checkpoint has closed the sweep: the next one starts at this sweep's start, less the overlap
    mark = checkpoint(sandbox)
    assert mark.sweep_started_at is None
    assert mark.after_id == "0"
    assert mark.pages == 5
    assert mark.refunds_enqueued == 23
    assert mark.modified_since is not None
    sweep_start = mark.modified_since + timedelta(seconds=LOOKBACK_SECONDS)
    assert started <= sweep_start <= finished
    assert mark.last_completed_at is not None and started <= mark.last_completed_at <= finished


def test_a_run_short_of_time_stops_between_pages_and_the_next_run_resumes_there(sandbox: Sandbox) -> None:
    # Given 23 refunds, pages of 5, and a NetSuite that answers the first two pages slowly
    refunds = generate_refunds(sandbox.account, 23)
    sandbox.configure(netsuite_page_size="5", poller_stop_margin_seconds="5")
    sandbox.account.delay_next(2, 0.8)

    # When a run gets 14 s: it must stop while 5 s (the margin) + 1.5 x a page (at least 5 s) remain,
    # i.e. start no page after 1.5 s; each slow page takes 0.8 s, so it stops after one or two pages
    first = sandbox.run_poller(timeout_seconds=14)

    # Then it stopped cleanly, mid-sweep, with the checkpoint on the last page it enqueued
    assert first["stopped_early"] and not first["sweep_completed"]
    assert 1 <= first["pages"] <= 2
    sent_first = peek_queue(sandbox)
    assert len(sent_first) == first["enqueued"] == 5 * first["pages"]
    last_sent = max(sent_first, key=lambda item: int(item.netsuite_id)).netsuite_id
    mark = checkpoint(sandbox)
    assert mark.after_id == first["after_id"] == last_sent == refunds[5 * first["pages"] - 1].id
    assert mark.sweep_started_at is not None  # the sweep is still open
    assert mark.modified_since is None

    # When the next run has all its time
    second = sandbox.run_poller()

    # Then it resumed after that page and finished the sweep
    calls = page_calls(sandbox)
    assert calls[first["pages"]].after_id == last_sent
    assert second["sweep_completed"] and not second["stopped_early"]
    assert first["pages"] + second["pages"] == len(calls) == 5

    # And no page was fetched twice, and every refund was enqueued exactly once
    assert len({call.after_id for call in calls}) == len(calls)
    queued = peek_queue(sandbox)
    assert sorted(item.netsuite_id for item in queued) == sorted(refund.id for refund in refunds)
    assert first["enqueued"] + second["enqueued"] == 23

    # And the closed sweep counts from when the first of the two runs started it
    closed = checkpoint(sandbox)
    assert closed.sweep_started_at is None and closed.modified_since is not None
    assert closed.modified_since == mark.sweep_started_at - timedelta(seconds=LOOKBACK_SECONDS)


def test_a_page_cut_short_for_governance_is_continued_after_its_last_whole_refund(sandbox: Sandbox) -> None:
    # Given 12 refunds, pages of 5, and a RESTlet whose first page runs short of governance units
    # after two refunds (it answers those two, truncatedByGovernance and hasMore)
    refunds = generate_refunds(sandbox.account, 12)
    sandbox.configure(netsuite_page_size="5")
    sandbox.account.truncate_next_pages(1, keep=2)

    # When the poller runs
    report = sandbox.run_poller()

    # Then it carried on after the second refund: 2 + 5 + 5 in three calls, nothing skipped or repeated
    assert [call.after_id for call in page_calls(sandbox)] == ["0", refunds[1].id, refunds[6].id]
    assert report["sweep_completed"] and report["enqueued"] == 12
    queued = peek_queue(sandbox)
    assert sorted(item.netsuite_id for item in queued) == [refund.id for refund in refunds]
