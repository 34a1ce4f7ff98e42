"""Throttling, 429, 5xx, timeouts and dropped connections are retried with full-jitter backoff, within a
number of attempts and the caller's deadline; everything else fails at once with NetSuite's words."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from refund_sync.adapters.netsuite.client import NetSuiteClient, RetryPolicy
from refund_sync.adapters.netsuite.errors import (
    NetSuiteDeadlineError,
    NetSuiteError,
    NetSuiteThrottledError,
    NetSuiteTransientError,
)
from refund_sync.config import NetSuiteAuthMethod
from refund_sync_sandbox.netsuite import NetSuiteAccount, RunningServer, generate_refunds

ClientFactory = Callable[..., NetSuiteClient]
MetricCount = Callable[[str], int]
POLICY = RetryPolicy(max_attempts=5, initial_backoff_seconds=1.0, max_backoff_seconds=8.0)


def page_statuses(account: NetSuiteAccount) -> list[int]:
    return [call.status for call in account.calls if call.action == "page"]


def assert_full_jitter(sleeps: list[float], policy: RetryPolicy) -> None:
    """Each wait is anywhere from 0 up to the exponential ceiling of its attempt (AWS's "full jitter")."""
    for attempt, seconds in enumerate(sleeps, start=1):
        ceiling = min(policy.max_backoff_seconds, policy.initial_backoff_seconds * 2 ** (attempt - 1))
        assert 0 <= seconds <= ceiling, (attempt, seconds, ceiling)


@pytest.mark.parametrize(
    ("inject", "statuses"),
    [
        (lambda account: account.throttle_next(2), [400, 400, 200]),  # SSS_REQUEST_LIMIT_EXCEEDED
        (lambda account: account.too_many_requests_next(2), [429, 429, 200]),
    ],
    ids=["concurrency-limit-400", "429"],
)
def test_throttling_is_retried_counted_and_then_succeeds(
    *,
    account: NetSuiteAccount,
    make_client: ClientFactory,
    sleeps: list[float],
    metric_count: MetricCount,
    inject: Callable[[NetSuiteAccount], None],
    statuses: list[int],
) -> None:
    generate_refunds(account, 3)
    inject(account)

    page = make_client(retry=POLICY).page()

    assert page.paging.count == 3
    assert page_statuses(account) == statuses
    assert len(sleeps) == 2
    assert_full_jitter(sleeps, POLICY)
    counted = [metric_count(name) for name in ("NetSuiteCalls", "NetSuiteRetries", "NetSuiteThrottles")]
    assert counted == [3, 2, 2]


def test_server_errors_are_retried_but_are_not_throttles(
    account: NetSuiteAccount, make_client: ClientFactory, sleeps: list[float], metric_count: MetricCount
) -> None:
    account.fail_next(2, status=503)
    make_client(NetSuiteAuthMethod.OAUTH2_M2M, retry=POLICY).page()
    assert page_statuses(account) == [503, 503, 200]
    assert (metric_count("NetSuiteRetries"), metric_count("NetSuiteThrottles")) == (2, 0)


def test_timeouts_are_retried(
    account: NetSuiteAccount, make_client: ClientFactory, sleeps: list[float], metric_count: MetricCount
) -> None:
    # Given NetSuite takes 3 s on the next two calls, and the client waits 0.2 s for an answer
    account.delay_next(2, 3.0)
    client = make_client(retry=POLICY, netsuite_timeout_seconds=0.2)

    # When paging, then the third call answers
    assert client.page().paging.count == 0
    assert len(sleeps) == 2
    assert metric_count("NetSuiteCalls") == 3


def test_a_dropped_connection_is_retried_until_the_attempts_run_out(
    server: RunningServer, make_client: ClientFactory, sleeps: list[float]
) -> None:
    client = make_client(retry=POLICY)
    server.stop()  # nothing listens any more
    with pytest.raises(NetSuiteTransientError) as raised:
        client.page()
    assert raised.value.code == "CONNECTION_ERROR"
    assert len(sleeps) == POLICY.max_attempts - 1


def test_throttling_that_never_ends_fails_after_the_last_attempt(
    account: NetSuiteAccount, make_client: ClientFactory, sleeps: list[float]
) -> None:
    account.throttle_next(100)
    with pytest.raises(NetSuiteThrottledError) as raised:
        make_client(retry=POLICY).page()
    assert (raised.value.code, raised.value.status) == ("SSS_REQUEST_LIMIT_EXCEEDED", 400)
    assert "Concurrent request limit exceeded" in raised.value.message
    assert len(page_statuses(account)) == 5
    assert len(sleeps) == 4


def test_retries_stop_before_the_callers_deadline(
    account: NetSuiteAccount, make_client: ClientFactory, sleeps: list[float]
) -> None:
    # Given NetSuite throttles every call, and the caller (a Lambda) has 20 s left, which the waits use up
    account.throttle_next(10_000)
    policy = RetryPolicy(max_attempts=1000, initial_backoff_seconds=2.0, max_backoff_seconds=30.0)

    def seconds_left() -> float:
        return 20.0 - sum(sleeps)

    # When paging
    with pytest.raises(NetSuiteDeadlineError) as raised:
        make_client(retry=policy).page(deadline=seconds_left)

    # Then no wait ran past the deadline (minus the time an attempt needs), and the last error is named
    assert sum(sleeps) <= 20.0 - policy.min_attempt_seconds
    assert len(page_statuses(account)) == len(sleeps) + 1
    assert "last error SSS_REQUEST_LIMIT_EXCEEDED" in raised.value.message


def test_no_call_is_made_without_time_for_it(account: NetSuiteAccount, make_client: ClientFactory) -> None:
    with pytest.raises(NetSuiteDeadlineError, match="not calling NetSuite"):
        make_client().page(deadline=lambda: 1.0)
    assert account.calls == []


def test_the_deadline_also_bounds_how_long_one_call_may_take(
    account: NetSuiteAccount, make_client: ClientFactory, sleeps: list[float]
) -> None:
    # Given a slow NetSuite, a 60 s client timeout, and 0.5 s left before the deadline
    account.delay_next(1, 5.0)
    policy = RetryPolicy(min_attempt_seconds=0.1)
    client = make_client(retry=policy, netsuite_timeout_seconds=60.0)
    ends_at = time.monotonic() + 0.5
    with pytest.raises(NetSuiteDeadlineError):
        client.page(deadline=lambda: ends_at - time.monotonic())
    assert time.monotonic() - ends_at < 1.0  # it gave up at the deadline, not after NetSuite's 5 s
    assert sleeps == []  # the timeout came at the deadline, and no time was left to try again


def test_a_non_retryable_error_surfaces_the_scripts_message_at_once(
    account: NetSuiteAccount, make_client: ClientFactory, sleeps: list[float], metric_count: MetricCount
) -> None:
    client = make_client(netsuite_saved_search_id="customsearch_deleted")
    with pytest.raises(NetSuiteError) as raised:
        client.page()
    assert raised.value.code == "SEARCH_NOT_FOUND"
    assert raised.value.status == 200  # the script's caught errors come with HTTP 200
    assert raised.value.details is not None
    assert raised.value.details["searchId"] == "customsearch_deleted"
    assert "Saved search customsearch_deleted could not be loaded" in raised.value.message
    assert not isinstance(raised.value, NetSuiteTransientError)
    assert (sleeps, metric_count("NetSuiteCalls")) == ([], 1)


def test_running_out_of_governance_units_is_a_script_bug_not_a_retry(
    account: NetSuiteAccount, make_client: ClientFactory, sleeps: list[float]
) -> None:
    account.usage_limit_next(1)
    with pytest.raises(NetSuiteError) as raised:
        make_client().page()
    assert raised.value.code == "SSS_USAGE_LIMIT_EXCEEDED"
    assert "truncatedByGovernance" in raised.value.message
    assert sleeps == []


def test_the_process_never_has_more_calls_in_flight_than_allowed(
    account: NetSuiteAccount, make_client: ClientFactory, metric_count: MetricCount
) -> None:
    # Given an account that takes one request at a time, slow answers, and a client allowed one call
    account.set_concurrency_limit(1)
    account.delay_next(4, 0.1)
    client = make_client(netsuite_max_concurrency=1)
    start = threading.Barrier(4)
    failures: list[BaseException] = []

    def poll() -> None:
        start.wait()
        try:
            client.page()
        except BaseException as error:
            failures.append(error)

    # When four threads page at once
    threads = [threading.Thread(target=poll) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    # Then they took turns: nothing was throttled
    assert failures == []
    assert account.max_in_flight == 1
    assert metric_count("NetSuiteThrottles") == 0
    assert page_statuses(account) == [200] * 4
