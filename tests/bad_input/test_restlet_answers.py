"""Whatever the RESTlet (or whatever stands in front of it) answers a page call, the NetSuite client returns a
page that keeps the contract, or raises a NetSuiteError that says what is wrong: never another exception,
never a page it could not vouch for. Transient answers are retried; the rest are not."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from hypothesis import event, example, given
from hypothesis import strategies as st

from refund_sync.adapters.netsuite.auth import TbaAuth, TbaCredentials
from refund_sync.adapters.netsuite.client import NetSuiteClient, RetryPolicy
from refund_sync.adapters.netsuite.contract import PageResponse
from refund_sync.adapters.netsuite.errors import (
    NetSuiteAuthError,
    NetSuiteContractError,
    NetSuiteError,
    NetSuiteTransientError,
)
from refund_sync.config import Settings
from refund_sync.domain.netsuite import NetSuiteRefund
from tests.bad_input.strategies import bent_refunds, html_error_pages, json_values, truncations
from tests.bad_input.support import Answer, Interceptor, budget, page_json
from tests.factories import line, refund

ATTEMPTS = RetryPolicy().max_attempts
DEEPLY_NESTED = b"[" * 5_000 + b"]" * 5_000  # deeper than Python's json module recurses


def client_answering(answer: Answer) -> tuple[NetSuiteClient, Interceptor]:
    """A client of a RESTlet that answers every call with `answer` (retries are not slept)."""
    interceptor = Interceptor()
    interceptor.answer("POST", r".*", answer)
    session = requests.Session()
    session.mount("https://", interceptor)
    settings = Settings(netsuite_account_id="1234567_SB1", netsuite_saved_search_id="customsearch_rs_refunds")
    credentials = TbaCredentials.model_validate(
        {"consumer_key": "ck", "consumer_secret": "cs", "token_id": "ti", "token_secret": "ts"}
    )
    auth = TbaAuth(credentials, realm=settings.netsuite_realm)
    return NetSuiteClient(settings, auth, session=session, sleep=lambda _: None), interceptor


def refunds_in_a_page(count: int) -> list[NetSuiteRefund]:
    """`count` good refunds with internal ids 10, 20, 30, ..."""
    return [
        refund(
            line(1, "TEE", 1, "25.00", tax="2.50"),
            netsuite_id=str(10 * (index + 1)),
            tran_id=f"CM-{index}",
            order_id=str(500 + index),
            last_modified=datetime(2026, 11, 20, 10, index, tzinfo=UTC),
        )
        for index in range(count)
    ]


def ask_for_a_page(client: NetSuiteClient) -> PageResponse | NetSuiteError:
    """The page, or the NetSuiteError the client raised; any other exception fails the property."""
    try:
        return client.page()
    except NetSuiteError as error:
        assert error.code and error.message, "an error says what it is"
        return error


@st.composite
def restlet_bodies(draw: st.DrawFn) -> bytes:
    """Anything a page call might come back with, short of a good page."""
    good = json.dumps(page_json(refunds_in_a_page(draw(st.integers(1, 3))))).encode()
    kind = draw(
        st.sampled_from(["bytes", "json", "html", "truncated page", "bent refund", "bent paging", "empty"])
    )
    event(f"body: {kind}")
    if kind == "bytes":
        return draw(st.binary(max_size=200))
    if kind == "json":
        return json.dumps(draw(json_values)).encode()
    if kind == "html":
        return draw(html_error_pages())[1]
    if kind == "truncated page":
        return draw(truncations(good))
    if kind == "bent refund":
        document = json.loads(good)
        document["refunds"][0], _ = draw(bent_refunds(document["refunds"][0]))
        return json.dumps(document).encode()
    if kind == "bent paging":
        document = json.loads(good)
        field = draw(st.sampled_from(sorted(document["paging"])))
        document["paging"][field] = draw(st.sampled_from([None, "yes", -1, [], {"n": 1}]))
        return json.dumps(document).encode()
    return b""


@budget(100, sandbox=False)
@given(
    status=st.sampled_from([200, 200, 200, 400, 401, 403, 404, 429, 500, 502, 503]) | st.integers(200, 599),
    body=restlet_bodies(),
)
@example(status=400, body=DEEPLY_NESTED)
@example(status=200, body=DEEPLY_NESTED)
def test_any_answer_to_a_page_call_is_a_valid_page_or_a_netsuite_error(status: int, body: bytes) -> None:
    client, netsuite = client_answering(Answer(status, body))

    outcome = ask_for_a_page(client)

    if isinstance(outcome, PageResponse):
        assert status == 200, "only a 200 carries a page"
        return
    event(type(outcome).__name__)
    calls = len(netsuite.answered)
    if isinstance(outcome, NetSuiteTransientError):
        assert calls == ATTEMPTS, "a transient failure is retried until the attempts are spent"
    elif isinstance(outcome, NetSuiteAuthError):
        assert calls == 2, "a refused login is signed afresh once, then reported"
    else:
        assert calls == 1, "what retrying cannot cure is not retried"
    if status == 200:
        assert isinstance(outcome, NetSuiteContractError) or outcome.code not in ("", "HTTP_200")


@budget(80, sandbox=False)
@given(data=st.data(), count=st.integers(1, 5))
def test_a_page_with_one_refund_outside_the_contract_is_refused_whole_naming_that_refund(
    data: st.DataObject, count: int
) -> None:
    # Given a page of good refunds but one, bent out of the contract
    document = page_json(refunds_in_a_page(count), has_more=True)
    index = data.draw(st.integers(0, count - 1), label="bent refund")
    document["refunds"][index], bent_how = data.draw(bent_refunds(document["refunds"][index]))
    event(bent_how.split(".")[0].split(":")[0])
    with pytest.raises(ValueError, match="validation error"):
        NetSuiteRefund.model_validate(document["refunds"][index])
    client, netsuite = client_answering(Answer(200, json.dumps(document).encode()))

    # When the poller's client asks for the page
    with pytest.raises(NetSuiteContractError) as refused:
        client.page()

    # Then none of it is handed on (the good refunds come again once the script is fixed), the bent
    # refund is named by its place in the page, and the call is not repeated: a script defect
    assert refused.value.code == "CONTRACT_VIOLATION"
    assert f"refunds.{index}" in refused.value.message
    assert "is the deployed script the version this code expects?" in refused.value.message
    assert len(netsuite.answered) == 1


@budget(30, sandbox=False)
@given(page=html_error_pages(), claimed=st.sampled_from(["same", "200"]))
def test_an_html_error_page_is_a_netsuite_error_by_its_status_retried_only_when_transient(
    page: tuple[int, bytes], claimed: str
) -> None:
    status, html = page
    status = status if claimed == "same" else 200  # a maintenance page served with 200
    client, netsuite = client_answering(Answer(status, html, content_type="text/html"))

    outcome = ask_for_a_page(client)

    assert isinstance(outcome, NetSuiteError)
    if status == 200:
        assert isinstance(outcome, NetSuiteContractError)
        assert "does not match contract v1" in outcome.message
    elif status == 429 or status >= 500:
        assert isinstance(outcome, NetSuiteTransientError)
        assert (outcome.status, outcome.code, len(netsuite.answered)) == (status, f"HTTP_{status}", ATTEMPTS)
    else:
        assert not isinstance(outcome, NetSuiteTransientError)
        assert (outcome.status, outcome.code, len(netsuite.answered)) == (status, f"HTTP_{status}", 1)


@st.composite
def contradicting_pagings(draw: st.DrawFn) -> tuple[dict[str, Any], str, str]:
    """A page of valid refunds whose paging block contradicts them or the request; how; the afterId asked."""
    refunds = refunds_in_a_page(draw(st.integers(0, 4)))
    document = page_json(refunds, has_more=draw(st.booleans()))
    paging = document["paging"]
    ids = [int(entry["id"]) for entry in document["refunds"]]
    options = ["after id not echoed"]
    if refunds:
        options += ["count", "last id behind its refunds", "last id missing", "refunds not after afterId"]
    if len(refunds) > 1:
        options += ["refunds out of order"]
    if not refunds:
        options += ["more promised without progress"]
    how = draw(st.sampled_from(options))
    if how == "after id not echoed":
        paging["afterId"] = str(draw(st.integers(1, 10**6)))
    elif how == "count":
        paging["count"] = draw(st.integers(0, 10).filter(lambda n: n != len(refunds)))
    elif how == "last id behind its refunds":
        paging["lastId"] = str(draw(st.integers(0, ids[-1] - 1)))
    elif how == "last id missing":
        paging["lastId"] = None
    elif how == "refunds not after afterId":
        paging["afterId"] = str(draw(st.integers(ids[0], ids[0] + 10)))
    elif how == "refunds out of order":
        document["refunds"] = list(reversed(document["refunds"]))
    else:
        paging["hasMore"] = True
    asked = "0" if how == "after id not echoed" else paging["afterId"]
    return document, how, asked


@budget(60, sandbox=False)
@given(bad=contradicting_pagings())
def test_a_page_whose_paging_contradicts_its_refunds_is_refused(bad: tuple[dict[str, Any], str, str]) -> None:
    """The poller moves its checkpoint by lastId and keeps paging while hasMore: a lastId behind the page
    would sweep the same refunds again and again; hasMore without a lastId would ask for the same page
    until the function times out."""
    document, how, asked = bad
    event(how)
    client, netsuite = client_answering(Answer(200, json.dumps(document).encode()))

    with pytest.raises(NetSuiteContractError) as refused:
        client.page(after_id=asked)

    assert refused.value.code == "CONTRACT_VIOLATION"
    assert "paging contradicts itself" in refused.value.message
    assert len(netsuite.answered) == 1
