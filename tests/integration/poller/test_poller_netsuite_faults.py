"""NetSuite pushes back (the account's concurrency limit, 429, a 503 from the data centre): the poller's
client waits and tries again, and the run completes. An error that retrying cannot cure fails the run at
once, with NetSuite's words."""

from __future__ import annotations

import functools
from collections.abc import Sequence

import pytest

from refund_sync.adapters.netsuite import client as netsuite_client
from refund_sync.adapters.netsuite.errors import NetSuiteError, NetSuiteTransientError
from refund_sync.adapters.refund_queue import RefundMessage, RefundQueues
from refund_sync.observability import metrics
from refund_sync.services import poll_refunds
from refund_sync_sandbox.netsuite import generate_refunds
from refund_sync_sandbox.sandbox import Sandbox
from tests.integration.poller.support import checkpoint, metric_total, page_calls, peek_queue


@pytest.fixture
def backoffs(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The waits the handler's NetSuite client asks for, recorded instead of slept."""
    waits: list[float] = []
    monkeypatch.setattr(
        poll_refunds,
        "netsuite_client_from_settings",
        functools.partial(netsuite_client.netsuite_client_from_settings, sleep=waits.append),
    )
    return waits


def test_throttling_and_outages_are_retried_with_backoff_and_the_run_completes(
    sandbox: Sandbox, backoffs: list[float], capsys: pytest.CaptureFixture[str]
) -> None:
    # Given 12 refunds (three pages of 5), and a NetSuite that refuses the first three calls:
    # 503 from the data centre, then 429, then the account's concurrency limit (HTTP 400)
    refunds = generate_refunds(sandbox.account, 12)
    sandbox.configure(netsuite_page_size="5")
    sandbox.account.fail_next(1, status=503)
    sandbox.account.too_many_requests_next(1)
    sandbox.account.throttle_next(1)
    metrics.clear_metrics()
    capsys.readouterr()

    # When the poller runs
    report = sandbox.run_poller()

    # Then the first page was asked four times, the last time successfully, and the others once each
    calls = page_calls(sandbox)
    assert [(call.status, call.error_code) for call in calls[:4]] == [
        (503, "HTTP_503"),
        (429, "TOO_MANY_REQUESTS"),
        (400, "SSS_REQUEST_LIMIT_EXCEEDED"),
        (200, None),
    ]
    assert [call.after_id for call in calls] == ["0", "0", "0", "0", refunds[4].id, refunds[9].id]

    # And it waited before each retry, with exponential backoff and full jitter (1 s, 2 s, 4 s caps)
    assert len(backoffs) == 3
    assert all(0 <= wait <= cap for wait, cap in zip(backoffs, (1, 2, 4), strict=True))

    # And the run completed with every refund queued, the retries and throttles counted
    assert report["sweep_completed"] and report["enqueued"] == 12
    assert sorted(item.netsuite_id for item in peek_queue(sandbox)) == [refund.id for refund in refunds]
    emitted = capsys.readouterr().out
    assert metric_total(emitted, "NetSuiteRetries") == 3
    assert metric_total(emitted, "NetSuiteThrottles") == 2
    assert metric_total(emitted, "PollerRunsCompleted") == 1
    assert metric_total(emitted, "PollerFailures") == 0


def test_an_error_retrying_cannot_cure_fails_the_run_at_once_with_its_message(
    sandbox: Sandbox, backoffs: list[float], capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the poller is pointed at a saved search that does not exist in the account
    generate_refunds(sandbox.account, 3)
    sandbox.configure(netsuite_saved_search_id="customsearch_rs_refunds_old")
    metrics.clear_metrics()
    capsys.readouterr()

    # When it runs, the run fails with the RESTlet's error and what to check
    with pytest.raises(NetSuiteError) as failure:
        sandbox.run_poller()
    assert failure.value.code == "SEARCH_NOT_FOUND"
    assert "Saved search customsearch_rs_refunds_old could not be loaded" in failure.value.message
    assert "shared with the integration role" in failure.value.message

    # Then NetSuite was asked once, without waiting, and the failure was counted for the alarm
    assert [call.error_code for call in page_calls(sandbox)] == ["SEARCH_NOT_FOUND"]
    assert backoffs == []
    assert metric_total(capsys.readouterr().out, "PollerFailures") == 1
    assert peek_queue(sandbox) == []
    assert checkpoint(sandbox).after_id == "0"


def test_a_script_out_of_governance_units_is_not_retried(sandbox: Sandbox, backoffs: list[float]) -> None:
    # Given the RESTlet runs out of governance units on the next call (a script defect, not a load spike)
    generate_refunds(sandbox.account, 3)
    sandbox.account.usage_limit_next(1)

    # When the poller runs, it fails at once, saying what to do meanwhile
    with pytest.raises(NetSuiteError) as failure:
        sandbox.run_poller()
    assert failure.value.code == "SSS_USAGE_LIMIT_EXCEEDED"
    assert "lower NETSUITE_PAGE_SIZE" in failure.value.message
    assert len(page_calls(sandbox)) == 1
    assert backoffs == []


def test_a_run_that_fails_mid_sweep_loses_nothing_and_repeats_no_page(
    sandbox: Sandbox, backoffs: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given 12 refunds, pages of 5, and a NetSuite that goes down (503) once the first page is queued
    refunds = generate_refunds(sandbox.account, 12)
    sandbox.configure(netsuite_page_size="5")
    enqueue = RefundQueues.enqueue

    def enqueue_then_netsuite_goes_down(queues: RefundQueues, messages: Sequence[RefundMessage]) -> int:
        sent = enqueue(queues, messages)
        sandbox.account.fail_next(100, status=503)
        return sent

    monkeypatch.setattr(RefundQueues, "enqueue", enqueue_then_netsuite_goes_down)

    # When the poller runs, it retries the second page until its attempts are spent, then fails
    with pytest.raises(NetSuiteTransientError) as failure:
        sandbox.run_poller()
    assert failure.value.status == 503
    assert len(backoffs) == netsuite_client.RetryPolicy().max_attempts - 1

    # Then the checkpoint stands after the first page, the one safely queued
    assert checkpoint(sandbox).after_id == refunds[4].id
    assert len(peek_queue(sandbox)) == 5

    # When NetSuite is back and the next run comes
    monkeypatch.setattr(RefundQueues, "enqueue", enqueue)
    sandbox.account.reset_faults()
    report = sandbox.run_poller()

    # Then it resumed at the second page: every refund queued once, no page answered twice
    assert report["sweep_completed"] and report["enqueued"] == 7
    answered = [call.after_id for call in page_calls(sandbox) if call.status == 200]
    assert answered == ["0", refunds[4].id, refunds[9].id]
    assert sorted(item.netsuite_id for item in peek_queue(sandbox)) == [refund.id for refund in refunds]
