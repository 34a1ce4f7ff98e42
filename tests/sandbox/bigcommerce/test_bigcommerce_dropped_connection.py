"""A dropped connection: the simulator closes the socket without answering, before or after doing the work.

The dangerous case for exactly-once is the second one: the refund is made, but the client learns nothing.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
import requests

from refund_sync_sandbox.bigcommerce import BigCommerceStore

from .support import StoreApi, payment, product

REFUNDS = "/v3/orders/{}/payment_actions/refunds"


def towel_refund() -> dict[str, object]:
    return {"items": [product(1001, 1)], "payments": [payment("braintree", "22.00")]}


def test_a_create_dropped_after_commit_leaves_the_refund_made_and_the_client_unanswered(
    api: StoreApi, store: BigCommerceStore
) -> None:
    # Given the next refund create on order 100 is processed, then its connection closed unanswered
    store.drop_connection_next("POST", "/v3/orders/100/payment_actions/refunds")

    # When the client sends it, it gets no HTTP answer at all
    with pytest.raises(requests.ConnectionError):
        api.post(REFUNDS.format(100), towel_refund())

    # Then the refund exists all the same, and the call log says the client received nothing (status 0)
    assert [refund.total_amount for refund in store.refunds_for_order(100)] == [Decimal("22.00")]
    assert [(call.method, call.status) for call in store.calls()] == [("POST", 0)]
    # And the rule is spent: the next request is answered normally
    assert api.get("/v2/orders/100").status_code == 200


def test_a_request_dropped_before_processing_changes_nothing(api: StoreApi, store: BigCommerceStore) -> None:
    store.drop_connection_next("POST", "/v3/orders/*/payment_actions/refunds", after_commit=False)

    with pytest.raises(requests.ConnectionError):
        api.post(REFUNDS.format(100), towel_refund())

    assert store.refunds_for_order(100) == []
    assert api.post(REFUNDS.format(100), towel_refund()).status_code == 201


def test_the_control_api_injects_a_dropped_connection(api: StoreApi, store: BigCommerceStore) -> None:
    added = api.control(
        "POST", "/faults/drop-connection", {"method": "GET", "path": "/v2/orders/*", "count": 2}
    )
    assert added.status_code == 201
    assert added.json()["drops"] == [
        {"method": "GET", "path": "/v2/orders/*", "count": 2, "after_commit": True}
    ]

    for _ in range(2):
        with pytest.raises(requests.ConnectionError):
            api.get("/v2/orders/100")
    assert api.get("/v2/orders/100").status_code == 200

    api.control("POST", "/faults/drop-connection", {"path": "*"})
    assert api.control("DELETE", "/faults").status_code == 204
    assert api.control("GET", "/faults").json()["drops"] == []
