"""A bad page mid-sweep, through the real poller handler: the run fails with a NetSuiteError (counted for the
alarm, logged), what was queued before the bad page stays queued, the checkpoint stands after it, and the
next run, once NetSuite answers properly again, queues the rest: nothing lost, nothing sent twice.

What the product does with a page mixing good refunds and one outside the contract: it refuses the page
whole (the client validates the page as one contract message), enqueues none of it and keeps the
checkpoint before it, so the good refunds of that page go out once the script is fixed. A refund that
keeps the contract but is wrong in substance (no order id, odd amounts) *is* queued, and fails with its
reason in the consumer (test_refund_content)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
import requests
from hypothesis import event, given
from hypothesis import strategies as st

from refund_sync.adapters.netsuite.auth import build_auth, load_credentials
from refund_sync.adapters.netsuite.client import NetSuiteClient
from refund_sync.adapters.netsuite.errors import NetSuiteError
from refund_sync.adapters.state_store import CHECKPOINT_KEY, StateStore
from refund_sync.config import Settings
from refund_sync.domain.netsuite import NetSuiteRefund
from refund_sync.domain.state import SyncStatus
from refund_sync.observability import metrics
from refund_sync.services import poll_refunds
from refund_sync_sandbox.netsuite import generate_refunds
from refund_sync_sandbox.sandbox import Sandbox
from refund_sync_sandbox.scenarios import TEE
from tests.bad_input.strategies import bent_refunds, html_error_pages, json_values, truncations
from tests.bad_input.support import Answer, Interceptor, budget, page_json
from tests.integration.consumer.support import netsuite_refund
from tests.integration.poller.support import checkpoint, metric_total, page_calls, peek_queue, refund_state

PAGE_SIZE = 5


@dataclass
class RestletInFront:
    """What stands between the poller's client and the NetSuite simulator."""

    interceptor: Interceptor
    path: str
    sleeps: list[float]


@pytest.fixture
def restlet(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> RestletInFront:
    """The poller's NetSuite client, built as the handler builds it, with the interceptor on its session and
    its retry waits recorded instead of slept. Built once and kept, as a warm Lambda container keeps it
    (loading the signing key and the secret is most of a cold start)."""
    front = RestletInFront(Interceptor(), urlsplit(sandbox.netsuite.restlet_url).path, [])

    built: list[NetSuiteClient] = []

    def client(settings: Settings) -> NetSuiteClient:
        if not built:
            session = requests.Session()
            session.mount("http://", front.interceptor)
            auth = build_auth(settings, load_credentials(settings))
            built.append(NetSuiteClient(settings, auth, sleep=front.sleeps.append, session=session))
        return built[0]

    monkeypatch.setattr(poll_refunds, "netsuite_client_from_settings", client)
    sandbox.configure(netsuite_page_size=str(PAGE_SIZE))
    return front


def start_afresh(sandbox: Sandbox) -> None:
    """Each example alone: earlier refunds leave the saved search, the queue empties, the checkpoint goes."""
    for refund_id in sandbox.account.refund_ids():
        sandbox.account.set_in_saved_search(refund_id, False)
    sqs, url = sandbox.aws.sqs(), sandbox.aws.refund_queue_url
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in batch:  # (PurgeQueue is allowed once a minute)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    with sandbox.active():
        StateStore(sandbox.aws.table_name).table.delete_item(Key={"pk": CHECKPOINT_KEY})


@st.composite
def bad_answers(draw: st.DrawFn, page_refunds: list[NetSuiteRefund]) -> Answer:
    """A bad answer to the call for the page that should hold `page_refunds`."""
    good = json.dumps(page_json(page_refunds, has_more=True)).encode()
    kind = draw(st.sampled_from(["html", "truncated", "one refund bent", "any json", "netsuite error"]))
    event(kind)
    if kind == "html":
        status, html = draw(html_error_pages())
        return Answer(status, html, content_type="text/html")
    if kind == "truncated":
        return Answer(200, draw(truncations(good)))
    if kind == "one refund bent":
        document = json.loads(good)
        index = draw(st.integers(0, len(page_refunds) - 1))
        document["refunds"][index], _ = draw(bent_refunds(document["refunds"][index]))
        return Answer(200, json.dumps(document).encode())
    if kind == "any json":
        return Answer(draw(st.sampled_from([200, 400])), json.dumps(draw(json_values)).encode())
    unhandled = {"error": {"code": "UNEXPECTED_ERROR", "message": "TypeError: Cannot read property 'id'"}}
    return Answer(400, json.dumps(unhandled).encode())


@budget(4, sandbox=True)
@given(data=st.data(), count=st.integers(PAGE_SIZE + 1, 3 * PAGE_SIZE))
def test_a_bad_page_mid_sweep_fails_the_run_and_the_next_run_loses_nothing(
    sandbox: Sandbox,
    restlet: RestletInFront,
    capsys: pytest.CaptureFixture[str],
    data: st.DataObject,
    count: int,
) -> None:
    # Given refunds for a few pages, and NetSuite answering the call for page `bad` (and its retries) badly
    start_afresh(sandbox)
    refunds = generate_refunds(sandbox.account, count)
    pages = math.ceil(count / PAGE_SIZE)
    bad = data.draw(st.integers(0, pages - 1), label="bad page")
    answer = data.draw(bad_answers(refunds[bad * PAGE_SIZE : (bad + 1) * PAGE_SIZE]), label="answer")
    restlet.interceptor.answer("POST", restlet.path, answer, pass_first=bad)
    metrics.clear_metrics()
    capsys.readouterr()

    # When the poller runs, it fails with a NetSuiteError (never anything else)
    with pytest.raises(NetSuiteError) as failure:
        sandbox.run_poller()
    event(f"{type(failure.value).__name__} {failure.value.code}")

    # Then the failure is counted for the alarm, and the error names the trouble
    assert metric_total(capsys.readouterr().out, "PollerFailures") == 1
    assert failure.value.code and failure.value.message.startswith("page: ")

    # And exactly the pages before the bad one are queued, the checkpoint standing after the last of them
    before = refunds[: bad * PAGE_SIZE]
    assert sorted(item.netsuite_id for item in peek_queue(sandbox)) == [refund.id for refund in before]
    assert checkpoint(sandbox).after_id == (before[-1].id if before else "0")

    # When NetSuite answers properly again and the next run comes
    restlet.interceptor.clear()
    report = sandbox.run_poller()

    # Then the sweep completes from the bad page on: every refund queued once
    assert report["sweep_completed"] and report["enqueued"] == count - len(before)
    assert sorted(item.netsuite_id for item in peek_queue(sandbox)) == [refund.id for refund in refunds]


def test_pages_that_never_get_past_governance_stop_the_run_instead_of_asking_until_the_timeout(
    sandbox: Sandbox, restlet: RestletInFront, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a RESTlet that cuts every page short before a single refund (hasMore, lastId null)
    refunds = generate_refunds(sandbox.account, 7)
    sandbox.account.truncate_next_pages(100, keep=0)
    metrics.clear_metrics()
    capsys.readouterr()

    # When the poller runs, it asks a few times (each call has fresh units), then gives up, saying why
    with pytest.raises(NetSuiteError) as failure:
        sandbox.run_poller()
    assert failure.value.code == "USAGE_LIMIT"
    assert "lower NETSUITE_PAGE_SIZE" in failure.value.message
    assert len(page_calls(sandbox)) == poll_refunds.MAX_PAGES_WITHOUT_PROGRESS
    assert metric_total(capsys.readouterr().out, "PollerFailures") == 1
    assert peek_queue(sandbox) == []

    # When the script recovers, the next run sends everything
    sandbox.account.reset_faults()
    report = sandbox.run_poller()
    assert report["enqueued"] == len(refunds)


def test_a_refund_too_large_for_a_queue_message_is_recorded_failed_and_the_sweep_goes_on(
    sandbox: Sandbox,
) -> None:
    # Given a credit memo of 4,000 lines (past SQS's 1 MiB per message) and an ordinary one after it
    big = netsuite_refund(sandbox, 901, [TEE.refund_line(n, 1) for n in range(1, 4_001)], tran_id="CM-BIG")
    small = netsuite_refund(sandbox, 902, [TEE.refund_line(1, 1)], tran_id="CM-SMALL")

    # When the poller runs
    report = sandbox.run_poller()

    # Then the sweep completes: the ordinary refund is queued, the big one recorded FAILED with its reason
    assert report["sweep_completed"]
    assert [item.netsuite_id for item in peek_queue(sandbox)] == [small.id]
    state = refund_state(sandbox, big.id)
    assert state is not None and state.status is SyncStatus.FAILED and state.reason_code
    assert "4000 lines" in (state.reason_detail or "")
