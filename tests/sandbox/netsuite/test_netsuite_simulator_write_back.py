"""The simulated RESTlet records every outcome on the refund as the script does: SYNCED, and FAILED or HELD
with the reason code and what to do; it saves only a changed outcome, never touches the refund's own
content, and a closed accounting period refuses the write with its own error code."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import requests

from refund_sync.domain.netsuite import RecordType
from refund_sync_sandbox.netsuite import BillingType, NetSuiteAccount, generate_refunds, product_line

Restlet = Callable[..., requests.Response]
Validate = Callable[[object, str], None]


def write_back(refund_id: str, record_type: str, **fields: Any) -> dict[str, Any]:
    return {
        "action": "writeBack",
        "version": "1",
        "id": refund_id,
        "recordType": record_type,
        "status": "FAILED",
        "reasonCode": "ORDER_NOT_FOUND",
        "message": "BigCommerce has no order 100",
        "whatToDo": "Check the order id on the NetSuite sales order against BigCommerce.",
        "syncedAt": "2025-06-01T12:00:00Z",
        **fields,
    }


@pytest.mark.parametrize("status", ["FAILED", "HELD"])
def test_a_failed_or_held_refund_shows_its_reason_and_what_to_do(
    account: NetSuiteAccount, restlet: Restlet, contract: Validate, status: str
) -> None:
    (refund,) = generate_refunds(account, 1)
    answer = restlet(write_back(refund.id, refund.record_type.value, status=status), method="PUT")
    contract(answer.json(), "WriteBackResponse")
    sync = account.sync_fields(refund.id)
    assert sync is not None
    assert (sync.status, sync.reason_code, sync.bigcommerce_refund_id) == (status, "ORDER_NOT_FOUND", None)
    assert sync.what_to_do == "Check the order id on the NetSuite sales order against BigCommerce."


def test_the_same_outcome_reworded_is_not_saved_so_the_refund_is_not_sent_round_again(
    account: NetSuiteAccount, restlet: Restlet
) -> None:
    (refund,) = generate_refunds(account, 1, start=datetime(2025, 1, 1, tzinfo=UTC))
    kind = refund.record_type.value
    assert restlet(write_back(refund.id, kind), method="PUT").json()["updated"] is True
    written = account.refund(refund.id).last_modified

    reworded = restlet(
        write_back(refund.id, kind, message="BigCommerce has no order 100 (try 2)"), method="PUT"
    )
    assert reworded.json()["updated"] is False
    assert account.refund(refund.id).last_modified == written
    # A new reason is a new outcome: saved, and the refund's lastModified moves once more.
    assert restlet(write_back(refund.id, kind, reasonCode="RETRIES_EXHAUSTED"), method="PUT").json()[
        "updated"
    ]
    assert account.refund(refund.id).last_modified > written


def test_a_write_back_changes_nothing_of_the_refund_but_its_last_modified(
    account: NetSuiteAccount, restlet: Restlet
) -> None:
    (refund,) = generate_refunds(account, 1)
    before = account.refund(refund.id).model_dump(mode="json")
    restlet(write_back(refund.id, refund.record_type.value), method="PUT")
    after = account.refund(refund.id).model_dump(mode="json")
    assert after.pop("lastModified") > before.pop("lastModified")
    assert after == before
    # and the delivered shape has no room for the write-back fields at all
    assert not {"status", "reasonCode", "whatToDo", "syncedAt"} & set(after)


@pytest.mark.parametrize("allow_non_gl_changes", [False, True])
def test_a_refund_in_a_closed_period_refuses_the_write_unless_non_gl_changes_are_allowed(
    account: NetSuiteAccount, restlet: Restlet, contract: Validate, *, allow_non_gl_changes: bool
) -> None:
    (refund,) = generate_refunds(account, 1)
    account.close_period(refund.id, allow_non_gl_changes=allow_non_gl_changes)
    answer = restlet(write_back(refund.id, refund.record_type.value), method="PUT")
    if allow_non_gl_changes:
        contract(answer.json(), "WriteBackResponse")
        assert answer.json()["updated"] is True
        return
    assert answer.status_code == 200  # a caught error: the contract's ErrorResponse
    contract(answer.json(), "ErrorResponse")
    error = answer.json()["error"]
    assert error["code"] == "PERIOD_CLOSED"
    assert error["details"] == {
        "id": refund.id,
        "recordType": refund.record_type.value,
        "netsuiteError": "ACCOUNTING_PERIOD_CLOSED",
    }
    assert "Allow non-G/L changes" in error["message"]
    assert account.sync_fields(refund.id) is None


def test_a_return_authorization_of_an_invoice_leads_from_the_order_to_its_refunds(
    account: NetSuiteAccount, restlet: Restlet
) -> None:
    line = product_line(1, "202", "Enamel Mug", 1, Decimal("12.50"))
    order = account.add_sales_order(bigcommerce_order_id="950")
    invoice = account.add_billing(order, BillingType.INVOICE)
    cash_sale = account.add_billing(order, BillingType.CASH_SALE)
    from_invoice = account.add_billing(invoice, BillingType.RETURN_AUTHORIZATION)
    from_cash_sale = account.add_billing(cash_sale, BillingType.RETURN_AUTHORIZATION)
    credit_memo = account.create_refund(from_invoice, [line])
    cash_refund = account.create_refund(from_cash_sale, [line], record_type=RecordType.CASH_REFUND)

    found = restlet({"action": "find", "orderIds": ["950"]}).json()
    assert [refund["id"] for refund in found["refunds"]] == [credit_memo.id, cash_refund.id]
    assert credit_memo.created_from is not None
    assert (credit_memo.created_from.type, credit_memo.bigcommerce_order_id) == ("returnauthorization", "950")
    assert from_invoice.created_from_id == invoice.id
    with pytest.raises(ValueError, match="only a return authorization"):
        account.add_billing(invoice, BillingType.CASH_SALE)
    with pytest.raises(ValueError, match="cannot be created from"):
        account.create_refund(invoice, [line], record_type=RecordType.CASH_REFUND)


def test_the_control_api_closes_a_period_and_shows_the_written_fields(
    account: NetSuiteAccount, restlet: Restlet, server: Any
) -> None:
    (refund,) = generate_refunds(account, 1)
    base = server.restlet_url.split("/app/")[0]
    closed = requests.patch(
        f"{base}/__sandbox/refunds/{refund.id}", data=json.dumps({"closePeriod": True}), timeout=10
    )
    assert closed.status_code == 200
    assert restlet(write_back(refund.id, refund.record_type.value), method="PUT").json()["error"]["code"] == (
        "PERIOD_CLOSED"
    )
    requests.patch(
        f"{base}/__sandbox/refunds/{refund.id}",
        data=json.dumps({"closePeriod": True, "allowNonGlChanges": True}),
        timeout=10,
    )
    restlet(write_back(refund.id, refund.record_type.value), method="PUT")
    shown = requests.get(f"{base}/__sandbox/refunds/{refund.id}", timeout=10).json()["sync"]
    assert (shown["status"], shown["reasonCode"]) == ("FAILED", "ORDER_NOT_FOUND")
    assert shown["whatToDo"].startswith("Check the order id")
