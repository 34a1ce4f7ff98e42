"""The simulated RESTlet answers page, find and writeBack exactly as the contract says, and every answer
validates against the committed JSON Schema (the file the RESTlet's Jest tests use too)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import requests

from refund_sync.adapters.netsuite.contract import FindResponse
from refund_sync.domain.netsuite import NetSuiteRefund, RecordType
from refund_sync_sandbox.netsuite import (
    DEFAULT_SAVED_SEARCH_ID as SEARCH_ID,
)
from refund_sync_sandbox.netsuite import (
    BillingType,
    NetSuiteAccount,
    generate_refunds,
    product_line,
)

Restlet = Callable[..., requests.Response]
Validate = Callable[[object, str], None]


def page_body(after_id: str = "0", page_size: int = 5, **extra: object) -> dict[str, object]:
    return {
        "action": "page",
        "version": "1",
        "searchId": SEARCH_ID,
        "afterId": after_id,
        "pageSize": page_size,
        **extra,
    }


def test_pages_follow_internal_id_after_the_last_id_until_has_more_is_false(
    account: NetSuiteAccount, restlet: Restlet, contract: Validate
) -> None:
    # Given 12 refunds in the saved search
    created = generate_refunds(account, 12)

    # When the pages are walked with afterId = the previous lastId
    seen: list[str] = []
    after_id, pages = "0", 0
    while True:
        answer = restlet(page_body(after_id, page_size=5))
        assert answer.status_code == 200
        contract(answer.json(), "PageResponse")
        paging = answer.json()["paging"]
        pages += 1
        seen += [refund["id"] for refund in answer.json()["refunds"]]
        assert paging["count"] == len(answer.json()["refunds"])
        if not paging["hasMore"]:
            break
        after_id = paging["lastId"]

    # Then every refund came once, in internal-id order, in ceil(12 / 5) pages
    assert seen == [refund.id for refund in created]
    assert seen == sorted(seen, key=int)
    assert pages == 3
    assert [call.after_id for call in account.calls if call.action == "page"] == ["0", seen[4], seen[9]]


def test_a_page_exactly_at_the_end_reports_no_more(account: NetSuiteAccount, restlet: Restlet) -> None:
    generate_refunds(account, 10)
    first = restlet(page_body(page_size=5)).json()["paging"]
    second = restlet(page_body(first["lastId"], page_size=5)).json()["paging"]
    assert (first["hasMore"], second["hasMore"], second["count"]) == (True, False, 5)
    empty = restlet(page_body(second["lastId"], page_size=5)).json()["paging"]
    assert empty == {
        "afterId": second["lastId"],
        "lastId": None,
        "pageSize": 5,
        "count": 0,
        "hasMore": False,
        "truncatedByGovernance": False,
    }


def test_modified_since_and_the_saved_search_criteria_filter_pages(
    account: NetSuiteAccount, restlet: Restlet, contract: Validate
) -> None:
    # Given 9 refunds a minute apart, every third one outside the search's criteria
    start = datetime(2025, 3, 1, tzinfo=UTC)
    created = generate_refunds(
        account, 9, start=start, step=timedelta(minutes=1), outside_saved_search_every=3
    )

    # When asking for those modified at or after minute 4
    answer = restlet(page_body(page_size=100, modifiedSince=(start + timedelta(minutes=4)).isoformat()))

    # Then minutes 4, 6 and 7 come back (5 and 8 are outside the search)
    contract(answer.json(), "PageResponse")
    assert [refund["id"] for refund in answer.json()["refunds"]] == [created[i].id for i in (4, 6, 7)]


def test_modified_since_includes_the_whole_starting_minute(
    account: NetSuiteAccount, restlet: Restlet
) -> None:
    # NetSuite compares lastModified to the minute: asking from 10:01:45 includes 10:01:00
    start = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)
    created = generate_refunds(account, 3, start=start, step=timedelta(minutes=1))
    answer = restlet(page_body(page_size=10, modifiedSince="2025-03-01T10:01:45Z"))
    assert [refund["id"] for refund in answer.json()["refunds"]] == [created[1].id, created[2].id]


def test_money_travels_as_exact_decimal_strings(account: NetSuiteAccount, restlet: Restlet) -> None:
    order = account.add_sales_order(bigcommerce_order_id="310")
    invoice = account.add_billing(order, BillingType.INVOICE)
    line = product_line(1, "201", "Canvas Tote", 3, Decimal("0.10"), tax_rate=Decimal("0.0825"))
    account.create_refund(invoice, [line], shipping_amount=Decimal("0.20"))

    refund = NetSuiteRefund.model_validate(restlet(page_body()).json()["refunds"][0])

    assert refund.subtotal == Decimal("0.30")
    assert refund.total == Decimal("0.30") + Decimal("0.02") + Decimal("0.20")
    assert refund.record_type is RecordType.CREDIT_MEMO


@pytest.mark.parametrize("page_size", [4, 1001])
def test_page_size_outside_5_to_1000_is_an_invalid_request(
    account: NetSuiteAccount, restlet: Restlet, contract: Validate, page_size: int
) -> None:
    answer = restlet(page_body(page_size=page_size))
    assert answer.status_code == 200  # a RESTlet cannot set the status of a body it returns
    contract(answer.json(), "ErrorResponse")
    assert answer.json()["error"]["code"] == "INVALID_REQUEST"
    assert answer.json()["error"]["details"]["problems"][0]["field"] == "pageSize"


def test_ten_thousand_refunds_page_quickly_in_ten_calls(account: NetSuiteAccount, restlet: Restlet) -> None:
    generate_refunds(account, 10_000)
    started = time.perf_counter()
    after_id, total = "0", 0
    while True:
        paging = restlet(page_body(after_id, page_size=1000)).json()["paging"]
        total += paging["count"]
        if not paging["hasMore"]:
            break
        after_id = paging["lastId"]
    elapsed = time.perf_counter() - started
    assert total == 10_000
    assert len([call for call in account.calls if call.action == "page"]) == 10
    assert elapsed < 10, f"paging 10,000 refunds took {elapsed:.1f}s"


def test_requests_the_script_refuses_get_the_contracts_error_response(
    account: NetSuiteAccount, restlet: Restlet, contract: Validate
) -> None:
    answers = {
        "version": restlet({**page_body(), "version": "2"}),
        "action": restlet({"action": "export", "version": "1"}),
        "write-as-post": restlet({"action": "writeBack", "version": "1"}),
        "unknown-field": restlet({**page_body(), "cursor": "abc"}),
        "empty-find": restlet({"action": "find"}),
        "not-an-object": restlet(["page"]),
    }
    for answer in answers.values():
        assert answer.status_code == 200
        contract(answer.json(), "ErrorResponse")
    errors = {name: answer.json()["error"] for name, answer in answers.items()}
    assert {name: error["code"] for name, error in errors.items()} == {
        "version": "UNSUPPORTED_VERSION",
        "action": "INVALID_REQUEST",
        "write-as-post": "INVALID_REQUEST",
        "unknown-field": "INVALID_REQUEST",
        "empty-find": "INVALID_REQUEST",
        "not-an-object": "INVALID_REQUEST",
    }
    assert errors["version"]["details"] == {"supportedVersions": ["1"], "requestedVersion": "2"}
    assert errors["unknown-field"]["details"]["problems"] == [
        {"field": "cursor", "problem": "is not a field of this request"}
    ]
    assert "give at least one value to look up" in errors["empty-find"]["message"]
    assert [call.action for call in account.calls] == ["page", "export", "writeBack", "page", "find", "page"]


def test_action_and_search_default_to_the_deployments(account: NetSuiteAccount, restlet: Restlet) -> None:
    generate_refunds(account, 2)
    answer = restlet({"pageSize": 5})  # POST means page; no searchId means the deployment's search
    assert [refund["id"] for refund in answer.json()["refunds"]] == account.refund_ids()


def test_a_page_cut_short_for_governance_says_so_and_where_to_go_on(
    account: NetSuiteAccount, restlet: Restlet, contract: Validate
) -> None:
    # Given 6 refunds, and a script that runs short of units on the next two pages after 2 refunds
    created = generate_refunds(account, 6)
    account.truncate_next_pages(2, keep=2)

    # When paging 5 at a time from the lastId of each answer
    pages = []
    after_id = "0"
    for _ in range(3):
        answer = restlet(page_body(after_id, page_size=5)).json()
        contract(answer, "PageResponse")
        pages.append(answer["paging"])
        after_id = answer["paging"]["lastId"]

    # Then the short pages say so, and nothing is skipped
    fields = ("count", "lastId", "hasMore", "truncatedByGovernance")
    summary = [tuple(page[field] for field in fields) for page in pages]
    assert summary == [
        (2, created[1].id, True, True),
        (2, created[3].id, True, True),
        (2, created[5].id, False, False),
    ]


def test_unknown_saved_search_and_a_search_of_other_records_are_named(
    account: NetSuiteAccount, restlet: Restlet, contract: Validate
) -> None:
    account.add_saved_search("customsearch_open_invoices", ["invoice"])
    missing = restlet({**page_body(), "searchId": "customsearch_nope"})
    invoices = restlet({**page_body(), "searchId": "customsearch_open_invoices"})
    contract(missing.json(), "ErrorResponse")
    contract(invoices.json(), "ErrorResponse")
    assert missing.json()["error"]["code"] == "SEARCH_NOT_FOUND"
    assert missing.json()["error"]["details"]["searchId"] == "customsearch_nope"
    assert invoices.json()["error"]["code"] == "SEARCH_NOT_REFUNDS"
    assert invoices.json()["error"]["details"]["searchType"] == "invoice"


def test_a_wrong_script_or_deployment_is_netsuites_own_error(
    account: NetSuiteAccount, restlet: Restlet
) -> None:
    answer = restlet(page_body(), params={"script": "customscript_other", "deploy": account.deploy_id})
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "SSS_INVALID_SCRIPTLET_ID"


def test_find_explains_every_miss_in_words_an_admin_can_act_on(
    account: NetSuiteAccount, restlet: Restlet, contract: Validate
) -> None:
    # Given: an order refunded in the search, one refunded outside it, one not refunded, and a refund
    # that a saved search limited to credit memos does not return
    line = product_line(1, "201", "Canvas Tote", 1, Decimal("24.00"))
    refunded = account.add_sales_order(bigcommerce_order_id="500", customer_name="Ada Byron")
    invoice = account.add_billing(refunded, BillingType.INVOICE)
    in_search = account.create_refund(invoice, [line])
    hidden_order = account.add_sales_order(bigcommerce_order_id="501")
    hidden = account.create_refund(account.add_billing(hidden_order), [line], in_saved_search=False)
    unrefunded = account.add_sales_order(bigcommerce_order_id="502")
    account.add_billing(unrefunded, BillingType.CASH_SALE)
    cash_order = account.add_sales_order(bigcommerce_order_id="503")
    cash_refund = account.create_refund(account.add_billing(cash_order, BillingType.CASH_SALE), [line])
    account.add_saved_search("customsearch_credit_memos", [RecordType.CREDIT_MEMO.value])

    # When looking them up by every kind of key
    answer = restlet(
        {
            "action": "find",
            "version": "1",
            "searchId": SEARCH_ID,
            "ids": [in_search.id, invoice.id, "999999", hidden.id],
            "tranIds": [in_search.tran_id.lower(), "CM-NOPE"],  # NetSuite matches numbers in any case
            "orderIds": ["500", "501", "502", "777"],
        }
    )
    narrowed = restlet(
        {"action": "find", "version": "1", "searchId": "customsearch_credit_memos", "ids": [cash_refund.id]}
    )

    # Then the refund in the search is found once, and each miss says why
    contract(answer.json(), "FindResponse")
    contract(narrowed.json(), "FindResponse")
    found = FindResponse.model_validate(answer.json())
    assert [refund.id for refund in found.refunds] == [in_search.id]
    reasons = {(miss.kind, miss.value): miss.reasons[0] for miss in found.not_found}
    assert {key: reason.code for key, reason in reasons.items()} == {
        ("id", invoice.id): "NOT_A_REFUND",
        ("id", "999999"): "NO_SUCH_TRANSACTION",
        ("id", hidden.id): "OUTSIDE_SAVED_SEARCH",
        ("tranId", "CM-NOPE"): "NO_SUCH_TRANSACTION",
        ("orderId", "501"): "OUTSIDE_SAVED_SEARCH",
        ("orderId", "502"): "NO_REFUND_FOR_ORDER",
        ("orderId", "777"): "ORDER_NOT_SYNCED",
    }
    assert f"belongs to Invoice {invoice.tran_id}" in reasons[("id", invoice.id)].message
    assert "Cash Sale" in reasons[("orderId", "502")].message
    assert "criteria" in reasons[("id", hidden.id)].message
    (outside_type,) = FindResponse.model_validate(narrowed.json()).not_found[0].reasons
    assert outside_type.code == "OUTSIDE_SAVED_SEARCH"
    assert "customsearch_credit_memos excludes it" in outside_type.message


def test_write_back_keeps_the_sync_fields_and_bumps_last_modified_once(
    account: NetSuiteAccount, restlet: Restlet, contract: Validate
) -> None:
    (refund,) = generate_refunds(account, 1, start=datetime(2025, 1, 1, tzinfo=UTC))
    body = {
        "action": "writeBack",
        "version": "1",
        "id": refund.id,
        "recordType": refund.record_type.value,
        "bigcommerceRefundId": "77",
        "status": "synced",
        "message": None,
        "syncedAt": "2025-06-01T12:00:00Z",
    }

    first = restlet(body, method="PUT")
    after_first = account.refund(refund.id).last_modified
    again = restlet(body, method="PUT")

    contract(first.json(), "WriteBackResponse")
    assert first.json() == {"action": "writeBack", "version": "1", "id": refund.id, "updated": True}
    assert again.json()["updated"] is False  # nothing changed, so NetSuite saves nothing
    sync = account.sync_fields(refund.id)
    assert sync is not None
    assert (sync.bigcommerce_refund_id, sync.status) == ("77", "synced")
    assert after_first > refund.last_modified
    assert account.refund(refund.id).last_modified == after_first


def test_write_back_to_a_missing_refund_or_the_wrong_type_is_record_not_found(
    account: NetSuiteAccount, restlet: Restlet, contract: Validate
) -> None:
    (refund,) = generate_refunds(account, 1)
    other_type = "creditmemo" if refund.record_type is RecordType.CASH_REFUND else "cashrefund"
    for refund_id, record_type in ((refund.id, other_type), ("424242", "creditmemo")):
        answer = restlet(
            {
                "action": "writeBack",
                "id": refund_id,
                "recordType": record_type,
                "status": "synced",
                "syncedAt": "2025-06-01T12:00:00Z",
            },
            method="PUT",
        )
        assert answer.status_code == 200
        contract(answer.json(), "ErrorResponse")
        assert answer.json()["error"]["code"] == "RECORD_NOT_FOUND"
