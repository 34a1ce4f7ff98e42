"""BigCommerce (or a proxy in front of it) answering the order read, the quote or the refund create with
something unexpected: an HTML error page, an empty body, JSON of another shape. Through the real consumer
handler, with a good refund of another order in the same batch:

- an error answer of any shape is retried when it may pass (5xx, 429) and then recorded as an interruption
  for the queue to redeliver, or recorded at once with its reason when it cannot pass (4xx);
- nothing is created after a failed order read or quote, and a failed create is never blindly repeated;
- the other refund of the batch syncs regardless.

A *success* status with a body that is not what BigCommerce sends is treated as transient: recorded, and
retried by the queue. So is an error body nested deeper than a JSON parser recurses."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from refund_sync.adapters.bigcommerce import BigCommerceClient, read_access_token
from refund_sync.config import Settings
from refund_sync.domain.netsuite import NetSuiteRefund
from refund_sync.domain.reasons import Reason
from refund_sync.domain.state import RefundState, SyncStatus
from refund_sync.services import consume_refunds
from refund_sync_sandbox.scenarios import TEE
from tests.bad_input.strategies import html_error_pages, json_values
from tests.bad_input.support import (
    Answer,
    Interceptor,
    Outgoing,
    Pipeline,
    budget,
    fresh_order_id,
    one_tee_order,
)
from tests.integration.consumer.support import netsuite_refund

ATTEMPTS = 5  # the BigCommerce client's attempts at a read
ENDPOINTS = {
    "order read": ("GET", r"/stores/[^/]+/v2/orders/{order}"),
    "quote": ("POST", r"/stores/[^/]+/v3/orders/{order}/payment_actions/refund_quotes"),
    "create": ("POST", r"/stores/[^/]+/v3/orders/{order}/payment_actions/refunds"),
}
ENVOY_RESET = (
    b"upstream connect error or disconnect/reset before headers. reset reason: connection termination"
)


@dataclass
class BigCommerceInFront:
    interceptor: Interceptor
    sleeps: list[float]

    def answer(self, endpoint: str, order_id: int, answer: Answer, *, forward: bool = False) -> None:
        method, path = ENDPOINTS[endpoint]
        self.interceptor.answer(method, path.format(order=order_id), answer, forward=forward)

    def answered(self, endpoint: str, order_id: int) -> int:
        """How many requests to this step for this order the interceptor answered."""
        method, path = ENDPOINTS[endpoint]
        pattern = re.compile(path.format(order=order_id))
        return sum(1 for a in self.interceptor.answered if a.method == method and pattern.fullmatch(a.path))


@pytest.fixture
def bigcommerce(monkeypatch: pytest.MonkeyPatch) -> BigCommerceInFront:
    """The consumer's BigCommerce client, built as the handler builds it, with the interceptor on its
    session and its retry waits recorded instead of slept."""
    front = BigCommerceInFront(Interceptor(), [])

    def client(settings: Settings) -> BigCommerceClient:
        built = BigCommerceClient(
            settings.bigcommerce_base_url,
            lambda: read_access_token(settings.bigcommerce_secret_name),
            timeout_seconds=settings.bigcommerce_timeout_seconds,
            quota_reserve=settings.bigcommerce_quota_reserve,
            sleep=front.sleeps.append,
        )
        built.session.mount("http://", front.interceptor)
        return built

    monkeypatch.setattr(consume_refunds, "bigcommerce_client_from_settings", client)
    return front


def a_refund_of_a_fresh_order(pipeline: Pipeline) -> tuple[NetSuiteRefund, int]:
    order_id = fresh_order_id()
    pipeline.sandbox.store.seed([one_tee_order(order_id)])
    return netsuite_refund(
        pipeline.sandbox, order_id, [TEE.refund_line(1, 1)], tran_id=f"CM-{order_id}"
    ), order_id


ERROR_STATUSES = [400, 403, 404, 409, 422, 429, 500, 502, 503, 504]


@st.composite
def error_answers(draw: st.DrawFn) -> Answer:
    """An error status with a body of any shape: not BigCommerce's error JSON."""
    kind = draw(st.sampled_from(["html", "empty", "json", "text"]))
    event(f"error body: {kind}")
    if kind == "html":
        status, html = draw(html_error_pages())
        return Answer(status, html, "text/html")
    status = draw(st.sampled_from(ERROR_STATUSES))
    if kind == "empty":
        return Answer(status, b"")
    if kind == "json":
        return Answer(status, json.dumps(draw(json_values)).encode())
    return Answer(status, ENVOY_RESET, "text/plain")


def assert_recorded(state: RefundState | None, *, retried: bool) -> None:
    """What became of the refund is in its state item: a reason, or the error it will be retried after."""
    assert state is not None, "nothing recorded"
    if retried:
        assert state.status in (SyncStatus.PENDING, SyncStatus.SUBMITTING), state.status
        assert (state.reason_detail or "").startswith("last error (will retry): "), state.reason_detail
    else:
        assert state.status in (SyncStatus.FAILED, SyncStatus.HELD), state.status
        reason = Reason[state.reason_code or ""]
        assert state.status is SyncStatus(reason.outcome.value) and state.reason_detail


@budget(5, sandbox=True)
@given(endpoint=st.sampled_from(sorted(ENDPOINTS)), answer=error_answers())
def test_an_error_answer_of_any_shape_is_retried_or_recorded_and_never_followed_by_a_create(
    pipeline: Pipeline, bigcommerce: BigCommerceInFront, endpoint: str, answer: Answer
) -> None:
    # Given two refunds of two orders, and BigCommerce answering one step for the first one badly
    refund, order_id = a_refund_of_a_fresh_order(pipeline)
    other, _ = a_refund_of_a_fresh_order(pipeline)
    bigcommerce.answer(endpoint, order_id, answer)
    event(f"{endpoint} -> {answer.status}")

    # When the consumer handler gets both in one batch
    delivery = pipeline.deliver([Outgoing.refund(refund), Outgoing.refund(other)])

    # Then the other refund synced
    assert (state := pipeline.recorded(other.id)) is not None and state.status is SyncStatus.SYNCED
    # And the first is recorded: the error it will be retried after (and the queue retries it), or a reason
    transient = answer.status in (409, 429) or answer.status >= 500
    assert_recorded(pipeline.recorded(refund.id), retried=transient)
    assert delivery.failed_bodies() == ({Outgoing.refund(refund).body} if transient else set())
    # And a read is retried while it may pass; a create only when BigCommerce provably did not process it
    asked = bigcommerce.answered(endpoint, order_id)
    if endpoint == "create":
        assert asked == (ATTEMPTS if answer.status == 429 else 1)
    else:
        assert asked == (ATTEMPTS if answer.status == 429 or answer.status >= 500 else 1)
        assert bigcommerce.answered("create", order_id) == 0, "nothing is created after a failed read"
    # And BigCommerce holds no refund of the order
    assert pipeline.refund_creates(order_id) == []
    assert pipeline.sandbox.store.list_refunds(order_ids=[order_id]) == []
    pipeline.discard_failed(delivery)
    pipeline.take_dead_letters()


GOOD_BODIES = {
    "order read": {
        "id": 1,
        "status_id": 11,
        "total_inc_tax": "60.50",
        "currency_code": "USD",
        "consignments": {},
    },
    "quote": {"data": {"order_id": 1, "total_refund_amount": "27.50", "refund_methods": []}},
    "create": {"data": {"id": 9, "order_id": 1, "total_amount": "27.50", "items": [], "payments": []}},
}

REQUIRED = {  # fields BigCommerce always sends, which the client cannot do without
    "order read": ["id", "status_id", "total_inc_tax"],
    "quote": ["order_id", "total_refund_amount"],
    "create": ["id", "order_id", "total_amount"],
}


@st.composite
def malformed_successes(draw: st.DrawFn, endpoint: str) -> Answer:
    """A 200 whose body is not what BigCommerce sends for `endpoint`: a proxy's page, nothing, a cut-off
    body, another shape, a missing field, a string where a number goes."""
    good = GOOD_BODIES[endpoint]
    kind = draw(st.sampled_from(["html", "empty", "truncated", "json", "missing field", "string for number"]))
    event(f"200 body: {kind}")
    if kind == "html":
        return Answer(200, draw(html_error_pages())[1], "text/html")
    if kind == "empty":
        return Answer(200, b"")
    if kind == "truncated":
        text = json.dumps(good).encode()
        return Answer(200, text[: draw(st.integers(1, len(text) - 1))])
    if kind == "json":
        return Answer(200, json.dumps(draw(json_values)).encode())
    document = json.loads(json.dumps(good))
    record = document.get("data", document)
    if kind == "missing field":
        del record[draw(st.sampled_from(REQUIRED[endpoint]))]
    else:
        record[
            draw(st.sampled_from(sorted(key for key in record if key.endswith(("id", "amount", "tax")))))
        ] = "n/a"
    return Answer(200, json.dumps(document).encode())


@st.composite
def lost_create_answers(draw: st.DrawFn) -> Answer:
    """What comes back from a create BigCommerce committed, when the answer is lost on the way."""
    if draw(st.booleans()):
        status, html = draw(html_error_pages().filter(lambda page: page[0] >= 500))
        return Answer(status, draw(st.sampled_from([html, b"", ENVOY_RESET])), "text/html")
    return draw(malformed_successes("create"))


@budget(4, sandbox=True)
@given(answer=lost_create_answers())
def test_a_create_whose_answer_is_lost_or_mangled_is_found_again_and_never_repeated(
    pipeline: Pipeline, bigcommerce: BigCommerceInFront, answer: Answer
) -> None:
    # Given BigCommerce commits the create, but what comes back is not its answer
    refund, order_id = a_refund_of_a_fresh_order(pipeline)
    other, _ = a_refund_of_a_fresh_order(pipeline)
    bigcommerce.answer("create", order_id, answer, forward=True)

    # When the consumer handles the refund, and the queue redelivers it while it is not synced
    delivery = pipeline.deliver([Outgoing.refund(refund), Outgoing.refund(other)])
    bigcommerce.interceptor.clear()
    for _ in range(3):
        if not delivery.failed:
            break
        delivery = pipeline.redeliver_failed(delivery)

    # Then it is synced, as the one refund BigCommerce holds for the order: created once, never again
    (created,) = pipeline.sandbox.store.list_refunds(order_ids=[order_id])
    state = pipeline.recorded(refund.id)
    assert state is not None and (state.status, state.bigcommerce_refund_id) == (
        SyncStatus.SYNCED,
        created.id,
    )
    assert len(pipeline.refund_creates(order_id)) == 1
    pipeline.discard_failed(delivery)


@budget(4, sandbox=True)
@given(data=st.data(), endpoint=st.sampled_from(sorted(ENDPOINTS)))
def test_a_success_answer_of_the_wrong_shape_is_recorded_retried_later_and_never_followed_by_a_create(
    pipeline: Pipeline, bigcommerce: BigCommerceInFront, data: st.DataObject, endpoint: str
) -> None:
    # Given BigCommerce (or a proxy) answering one step for the first refund with a 200 of the wrong shape
    answer = data.draw(malformed_successes(endpoint), label="answer")
    refund, order_id = a_refund_of_a_fresh_order(pipeline)
    other, _ = a_refund_of_a_fresh_order(pipeline)
    bigcommerce.answer(endpoint, order_id, answer)

    # When the consumer handler gets both refunds in one batch
    delivery = pipeline.deliver([Outgoing.refund(refund), Outgoing.refund(other)])

    # Then the other one synced, and the first is recorded with the error it will be retried after
    assert (state := pipeline.recorded(other.id)) is not None and state.status is SyncStatus.SYNCED
    assert_recorded(pipeline.recorded(refund.id), retried=True)
    assert delivery.failed_bodies() == {Outgoing.refund(refund).body}
    # And nothing was created: not after an unreadable order or quote, nor by an unreadable create
    if endpoint != "create":
        assert bigcommerce.answered("create", order_id) == 0
    assert pipeline.sandbox.store.list_refunds(order_ids=[order_id]) == []
    pipeline.discard_failed(delivery)


def test_an_error_body_nested_deeper_than_the_parser_recurses_is_still_an_error_answer(
    pipeline: Pipeline, bigcommerce: BigCommerceInFront
) -> None:
    refund, order_id = a_refund_of_a_fresh_order(pipeline)
    other, _ = a_refund_of_a_fresh_order(pipeline)
    bigcommerce.answer("order read", order_id, Answer(502, b"[" * 5_000 + b"]" * 5_000))

    delivery = pipeline.deliver([Outgoing.refund(refund), Outgoing.refund(other)])

    assert_recorded(pipeline.recorded(refund.id), retried=True)
    assert delivery.failed_bodies() == {Outgoing.refund(refund).body}
