"""Looking refunds up (with the RESTlet's reasons for misses) and writing the BigCommerce outcome back."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import requests

from refund_sync.adapters.netsuite.client import NetSuiteClient
from refund_sync.adapters.netsuite.contract import WriteBackRequest
from refund_sync.adapters.netsuite.errors import NetSuiteError
from refund_sync.config import NetSuiteAuthMethod
from refund_sync.domain.netsuite import RecordType
from refund_sync_sandbox.netsuite import BillingType, NetSuiteAccount, generate_refunds, product_line

ClientFactory = Callable[..., NetSuiteClient]


def test_find_returns_the_refunds_and_says_why_the_others_are_missing(
    account: NetSuiteAccount, make_client: ClientFactory
) -> None:
    # Given one refunded order in the search, one refund outside it, and one order never refunded
    line = product_line(1, "202", "Enamel Mug", 2, Decimal("12.50"))
    order = account.add_sales_order(bigcommerce_order_id="900")
    refund = account.create_refund(account.add_billing(order, BillingType.CASH_SALE), [line])
    hidden = account.create_refund(
        account.add_billing(account.add_sales_order(bigcommerce_order_id="901")),
        [line],
        in_saved_search=False,
    )
    account.add_billing(account.add_sales_order(bigcommerce_order_id="902"))

    # When the operator looks them up
    found = make_client(NetSuiteAuthMethod.OAUTH2_M2M).find(
        ids=[hidden.id], tran_ids=[refund.tran_id, "CR-0"], order_ids=["900", "902", "903"]
    )

    # Then
    assert [match.id for match in found.refunds] == [refund.id]
    assert found.refunds[0].total == Decimal("25.00")
    assert {(miss.kind, miss.value, miss.reasons[0].code) for miss in found.not_found} == {
        ("id", hidden.id, "OUTSIDE_SAVED_SEARCH"),
        ("tranId", "CR-0", "NO_SUCH_TRANSACTION"),
        ("orderId", "902", "NO_REFUND_FOR_ORDER"),
        ("orderId", "903", "ORDER_NOT_SYNCED"),
    }
    assert all(miss.reasons[0].message for miss in found.not_found)


def test_find_needs_something_to_look_for(make_client: ClientFactory) -> None:
    with pytest.raises(ValueError, match="at least one of ids, tran_ids or order_ids"):
        make_client().find()


def test_write_back_round_trip(account: NetSuiteAccount, make_client: ClientFactory) -> None:
    # Given a refund the poller has seen
    (refund,) = generate_refunds(account, 1, start=datetime(2025, 2, 1, tzinfo=UTC))
    client = make_client()
    request = WriteBackRequest(
        id=refund.id,
        record_type=refund.record_type,
        bigcommerce_refund_id="5150",
        status="synced",
        message="Refunded 25.98 USD to the original payment",
        synced_at=datetime(2025, 2, 1, 12, 0, tzinfo=UTC),
    )

    # When its BigCommerce outcome is written back, twice (a retried consumer)
    first = client.write_back(request)
    second = client.write_back(request)

    # Then NetSuite keeps the fields, saves once, and the refund's lastModified moved on
    assert (first.id, first.updated, second.updated) == (refund.id, True, False)
    sync = account.sync_fields(refund.id)
    assert sync is not None
    assert (sync.bigcommerce_refund_id, sync.status, sync.message) == ("5150", "synced", request.message)
    modified = account.refund(refund.id).last_modified
    assert modified > refund.last_modified
    # so a poller asking for changes since before the write-back sees this refund again
    again = client.page(modified_since=refund.last_modified + timedelta(minutes=1))
    assert [(match.id, match.last_modified) for match in again.refunds] == [(refund.id, modified)]


def test_write_back_to_a_refund_that_is_not_there_names_it(
    account: NetSuiteAccount, make_client: ClientFactory
) -> None:
    request = WriteBackRequest(
        id="31337", record_type=RecordType.CREDIT_MEMO, status="synced", synced_at=datetime.now(UTC)
    )
    with pytest.raises(NetSuiteError) as raised:
        make_client().write_back(request)
    assert raised.value.code == "RECORD_NOT_FOUND"
    assert "No Credit Memo has internal id 31337" in raised.value.message
    assert [(call.method, call.action, call.status) for call in account.calls] == [("PUT", "writeBack", 200)]


def test_a_failure_is_written_back_with_its_reason_and_what_to_do(
    account: NetSuiteAccount, make_client: ClientFactory
) -> None:
    (refund,) = generate_refunds(account, 1)
    answer = make_client(NetSuiteAuthMethod.OAUTH2_M2M).write_back(
        WriteBackRequest(
            id=refund.id,
            record_type=refund.record_type,
            status="HELD",
            reason_code="AMOUNT_MISMATCH",
            message="NetSuite total 2598 USD, BigCommerce quote 2600",
            what_to_do="Compare the two figures.",
            synced_at=datetime(2025, 2, 1, 12, 0, tzinfo=UTC),
        )
    )
    assert answer.updated is True
    sync = account.sync_fields(refund.id)
    assert sync is not None
    assert (sync.status, sync.reason_code, sync.what_to_do) == (
        "HELD",
        "AMOUNT_MISMATCH",
        "Compare the two figures.",
    )


def test_empty_optional_fields_are_left_out_so_an_older_script_still_accepts_the_request(
    account: NetSuiteAccount, make_client: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    (refund,) = generate_refunds(account, 1)
    client = make_client()
    sent: list[dict[str, object]] = []
    send = client._session.request  # to see the body on the wire

    def spy(method: str, url: str, **options: object) -> requests.Response:
        assert isinstance(options["data"], bytes)
        sent.append(json.loads(options["data"]))
        return send(method, url, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(client._session, "request", spy)
    client.write_back(
        WriteBackRequest(
            id=refund.id, record_type=refund.record_type, status="SYNCED", synced_at=datetime.now(UTC)
        )
    )
    assert set(sent[0]) == {"action", "version", "id", "recordType", "status", "syncedAt"}


def test_a_closed_period_is_its_own_error_code(account: NetSuiteAccount, make_client: ClientFactory) -> None:
    (refund,) = generate_refunds(account, 1)
    account.close_period(refund.id)
    with pytest.raises(NetSuiteError) as raised:
        make_client().write_back(
            WriteBackRequest(
                id=refund.id, record_type=refund.record_type, status="FAILED", synced_at=datetime.now(UTC)
            )
        )
    assert raised.value.code == "PERIOD_CLOSED"
    assert "accounting period is closed" in raised.value.message
    # a refusal, not a fault: asked once, never retried
    assert [(call.action, call.status) for call in account.calls] == [("writeBack", 200)]
