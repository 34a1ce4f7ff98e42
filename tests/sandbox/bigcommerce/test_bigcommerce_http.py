"""The simulator over HTTP: BigCommerce's gateway (auth, quota), injected faults, concurrency, control API."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

import pytest
import requests

from refund_sync_sandbox.bigcommerce import BigCommerceStore, ManualClock

from .support import StoreApi, amount_item, exact, payment, product, three_for_ten

REFUNDS = "/v3/orders/{}/payment_actions/refunds"
QUOTES = "/v3/orders/{}/payment_actions/refund_quotes"
RATE_HEADERS = (
    "X-Rate-Limit-Time-Window-Ms",
    "X-Rate-Limit-Time-Reset-Ms",
    "X-Rate-Limit-Requests-Quota",
    "X-Rate-Limit-Requests-Left",
)


def towel_refund(amount: str = "22.00") -> dict[str, Any]:
    return {"items": [product(1001, 1)], "payments": [payment("braintree", amount)]}


# ---- the gateway ----------------------------------------------------------------------------


def test_requests_without_the_right_token_are_unauthorized(api: StoreApi) -> None:
    for headers in ({}, {"X-Auth-Token": "not-the-token"}):
        response = requests.get(api.url("/v2/orders/100"), headers=headers, timeout=10)
        assert response.status_code == 401
        assert response.json()["status"] == 401
        assert all(name in response.headers for name in RATE_HEADERS)


def test_another_store_hash_is_not_found(api: StoreApi) -> None:
    response = api.session.get(f"{api.server.url}/stores/other-store/v2/orders/100", timeout=10)
    assert response.status_code == 404


def test_every_response_carries_the_quota_headers_and_spends_one_request(api: StoreApi) -> None:
    first = api.get("/v2/orders/100")
    second = api.get("/v2/orders/999")
    assert first.headers["X-Rate-Limit-Requests-Quota"] == "150"
    assert first.headers["X-Rate-Limit-Time-Window-Ms"] == "30000"
    assert (first.headers["X-Rate-Limit-Requests-Left"], second.headers["X-Rate-Limit-Requests-Left"]) == (
        "149",
        "148",
    )


def test_a_spent_quota_answers_429_until_the_window_resets(
    api: StoreApi, store: BigCommerceStore, clock: ManualClock
) -> None:
    # Given a quota of 2 requests per 1,000 ms
    store.set_rate_limit(quota=2, window_ms=1000)
    assert api.get("/v2/orders/100").status_code == 200
    clock.advance(0.4)
    assert api.get("/v2/orders/100").headers["X-Rate-Limit-Requests-Left"] == "0"

    # When a third request comes within the window, it is refused with the time left to wait
    refused = api.get("/v2/orders/100")
    assert refused.status_code == 429
    assert refused.json()["status"] == 429
    assert refused.headers["X-Rate-Limit-Time-Reset-Ms"] == "600"

    # Then, once the window has passed, the quota is back
    clock.advance(0.6)
    again = api.get("/v2/orders/100")
    assert again.status_code == 200
    assert again.headers["X-Rate-Limit-Requests-Left"] == "1"


def test_a_forced_429_hits_the_next_requests_only(api: StoreApi, store: BigCommerceStore) -> None:
    store.force_rate_limit(2)
    assert [api.get("/v2/orders/100").status_code for _ in range(3)] == [429, 429, 200]


def test_malformed_json_and_a_missing_content_type_are_refused(api: StoreApi) -> None:
    malformed = api.session.post(
        api.url(QUOTES.format(100)),
        data=b"{not json",
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert malformed.status_code == 400
    form = api.session.post(api.url(QUOTES.format(100)), data={"items": "1"}, timeout=10)
    assert form.status_code == 415


# ---- v2 orders ------------------------------------------------------------------------------


def test_unknown_orders_are_not_found_in_the_v2_error_shape(api: StoreApi) -> None:
    for path in ("/v2/orders/999", "/v2/orders/999/products", "/v2/orders/999/shipping_addresses"):
        response = api.get(path)
        assert response.status_code == 404
        assert response.json() == [{"status": 404, "message": "Order 999 not found."}]


def test_v2_money_is_a_four_place_string(api: StoreApi) -> None:
    order = api.get("/v2/orders/100").json()
    assert (order["total_inc_tax"], order["total_tax"], order["refunded_amount"]) == (
        "93.5000",
        "8.5000",
        "0.0000",
    )
    assert (order["default_currency_code"], order["store_default_currency_code"]) == ("USD", "USD")


def test_products_page_by_limit(api: StoreApi) -> None:
    assert [row["id"] for row in api.get("/v2/orders/100/products").json()] == [1001, 1002]
    assert [row["id"] for row in api.get("/v2/orders/100/products", limit=1, page=2).json()] == [1002]
    assert api.get("/v2/orders/100/products", limit=1, page=3).json() == []
    assert api.get("/v2/orders/100/products", limit=0).status_code == 400


def test_products_show_what_was_refunded(api: StoreApi) -> None:
    api.post(REFUNDS.format(100), towel_refund())
    towel = api.get("/v2/orders/100/products").json()[0]
    assert (towel["quantity_refunded"], towel["is_refunded"], towel["refund_amount"]) == (1, False, "0.0000")
    order = api.get("/v2/orders/100").json()
    assert (order["status_id"], order["status"], order["payment_status"]) == (
        14,
        "Partially Refunded",
        "partially refunded",
    )


def test_consignments_come_as_an_object_only_when_asked_for(api: StoreApi) -> None:
    with_objects = api.get(
        "/v2/orders/100", include="consignments.line_items,fees", consignment_structure="object"
    ).json()
    shipping = with_objects["consignments"]["shipping"]
    assert [(c["id"], c["cost_inc_tax"], c["handling_cost_inc_tax"]) for c in shipping] == [(501, 11.0, 2.2)]
    assert [line["id"] for line in shipping[0]["line_items"]] == [1001, 1002]
    assert [fee["id"] for fee in with_objects["fees"]] == [1]

    links_only = api.get("/v2/orders/100", include="consignments", consignment_structure="object").json()
    assert (
        links_only["consignments"]["shipping"][0]["line_items"][0]["resource"] == "/orders/100/products/1001"
    )

    older_form = api.get("/v2/orders/100", include="consignments").json()
    assert isinstance(older_form["consignments"], list)
    assert set(api.get("/v2/orders/100").json()["consignments"]) == {"url", "resource"}


def test_a_digital_line_ships_as_a_download(api: StoreApi) -> None:
    order = api.get(
        "/v2/orders/103", include="consignments.line_items", consignment_structure="object"
    ).json()
    downloads = order["consignments"]["downloads"]
    assert [line["id"] for line in downloads[0]["line_items"]] == [1032]


def test_shipping_addresses_and_fees_carry_the_ids_refunds_use(api: StoreApi) -> None:
    address = api.get("/v2/orders/100/shipping_addresses").json()[0]
    assert (address["id"], address["cost_inc_tax"], address["handling_cost_inc_tax"]) == (
        501,
        "11.0000",
        "2.2000",
    )
    fees = api.get("/v2/orders/100/fees").json()["fees"]
    assert [(fee["id"], fee["cost_inc_tax"]) for fee in fees] == [(1, "3.3000")]


def test_the_status_can_be_set_by_hand(api: StoreApi) -> None:
    updated = api.put("/v2/orders/100", {"status_id": 5})
    assert (updated.status_code, updated.json()["status"]) == (200, "Cancelled")
    assert api.put("/v2/orders/100", {"status_id": 15}).status_code == 400
    assert api.put("/v2/orders/999", {"status_id": 5}).status_code == 404


# ---- v3 refunds -----------------------------------------------------------------------------


def test_v3_amounts_are_exact_two_place_numbers(api: StoreApi) -> None:
    # Given three units worth 10.00 together
    api.control("POST", "/orders", three_for_ten(200).model_dump(mode="json"))
    quoted = api.post(QUOTES.format(200), {"items": [product(2001, 1)]})
    assert '"total_refund_amount":3.33' in quoted.text
    assert exact(quoted)["data"]["total_refund_amount"] == Decimal("3.33")


def test_a_decline_shows_only_when_the_refund_is_read_back(api: StoreApi, store: BigCommerceStore) -> None:
    # Given a gateway that declines refunds
    store.set_tender(100, "braintree", declines_refunds=True, decline_message="Do not honour")

    # When the refund is created, BigCommerce has only scheduled the payment
    created = api.post(REFUNDS.format(100), towel_refund())
    assert created.status_code == 201
    assert created.json()["data"]["payments"][0]["is_declined"] is False

    # Then reading it back shows the decline, and the money is refundable again
    refund_id = created.json()["data"]["id"]
    for read in (
        api.get(f"/v3/orders/payment_actions/refunds/{refund_id}").json()["data"],
        api.get(REFUNDS.format(100)).json()["data"][0],
    ):
        assert (read["payments"][0]["is_declined"], read["payments"][0]["declined_message"]) == (
            True,
            "Do not honour",
        )
    assert api.post(REFUNDS.format(100), towel_refund()).status_code == 201


def test_the_create_422_comes_wrapped_in_data_and_the_quote_422_carries_errors(api: StoreApi) -> None:
    create = api.post(
        REFUNDS.format(101), {"items": [product(1011, 1)], "payments": [payment("storecredit", "16.50")]}
    )
    assert create.status_code == 422
    assert create.json() == {
        "data": [
            {
                "status": 422,
                "title": "Unable to provide store credit for a guest customer.",
                "type": "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes",
            }
        ]
    }
    quote = api.post(QUOTES.format(100), {"items": [product(1001, 4)]})
    assert quote.status_code == 422
    assert quote.json()["errors"] == {"items.0.quantity": quote.json()["title"]}


def test_refund_lists_filter_and_page(api: StoreApi) -> None:
    for order_id, item in ((100, product(1001, 1)), (101, product(1011, 1)), (100, product(1002, 1))):
        method = api.post(QUOTES.format(order_id), {"items": [item]}).json()["data"]["refund_methods"][0]
        assert api.post(REFUNDS.format(order_id), {"items": [item], "payments": method}).status_code == 201

    def ids(**params: Any) -> list[int]:
        return [
            refund["id"] for refund in api.get("/v3/orders/payment_actions/refunds", **params).json()["data"]
        ]

    assert ids() == [1, 2, 3]
    assert ids(**{"order_id:in": "100"}) == [1, 3]
    assert ids(**{"id:in": "2,3"}) == [2, 3]
    assert ids(limit=2, page=2) == [3]
    assert ids(**{"created:min": "2030-01-01T00:00:00+00:00"}) == []
    assert api.get("/v3/orders/payment_actions/refunds/99").status_code == 404
    assert api.get(REFUNDS.format(999)).status_code == 404


# ---- injected faults ------------------------------------------------------------------------


def test_an_injected_503_on_create_commits_nothing(api: StoreApi, store: BigCommerceStore) -> None:
    store.fail_next("POST", "/v3/orders/*/payment_actions/refunds", 503, message="Tax service gone away")
    failed = api.post(REFUNDS.format(100), towel_refund())
    assert (failed.status_code, failed.json()) == (
        503,
        {"data": [{"order_id": 100, "status": 503, "error": "Tax service gone away"}], "meta": {}},
    )
    assert store.refunds_for_order(100) == []
    assert api.post(REFUNDS.format(100), towel_refund()).status_code == 201


def test_faults_match_method_and_path_and_count_down(api: StoreApi, store: BigCommerceStore) -> None:
    store.fail_next("GET", "/v2/orders/10?", 502, count=2)
    assert api.get("/v2/orders/100/products").status_code == 200  # another path
    assert [api.get("/v2/orders/101").status_code for _ in range(3)] == [502, 502, 200]


def test_an_error_after_commit_leaves_the_refund_made(api: StoreApi, store: BigCommerceStore) -> None:
    store.fail_next("POST", "/v3/orders/100/payment_actions/refunds", 504, after_commit=True)
    assert api.post(REFUNDS.format(100), towel_refund()).status_code == 504
    assert [refund.total_amount for refund in store.refunds_for_order(100)] == [Decimal("22.00")]


def test_a_stalled_create_times_the_client_out_but_commits(api: StoreApi, store: BigCommerceStore) -> None:
    # Given the next create commits, then answers only after 30 s
    store.commit_then_stall(30, order_id=100)

    # When the client gives up after a short timeout
    with pytest.raises(requests.Timeout):
        api.post(REFUNDS.format(100), towel_refund(), timeout=0.3)

    # Then the refund exists all the same: a blind retry would refund twice
    store.release_stalls()
    assert [refund["total_amount"] for refund in api.get(REFUNDS.format(100)).json()["data"]] == [22.0]


def test_a_second_refund_on_an_order_being_refunded_is_a_conflict(
    api: StoreApi, store: BigCommerceStore
) -> None:
    # Given a create on order 100 that is still being processed
    store.commit_then_stall(30, order_id=100)
    first: list[requests.Response] = []
    worker = threading.Thread(target=lambda: first.append(api.post(REFUNDS.format(100), towel_refund())))
    worker.start()
    assert store.wait_until_stalled(timeout=5)

    # When another create (or a quote) arrives for the same order, it is refused
    second = api.post(REFUNDS.format(100), towel_refund())
    quote = api.post(QUOTES.format(100), {"items": [product(1001, 1)]})
    assert (second.status_code, quote.status_code) == (409, 409)
    assert second.json()["title"] == "A refund is already being processed for this order"

    # But other orders are not held up
    assert (
        api.post(
            REFUNDS.format(101),
            {"items": [product(1011, 1)], "payments": [payment("bankdeposit", "16.50", offline=True)]},
        ).status_code
        == 201
    )

    # And once the first finishes, the order takes refunds again
    store.release_stalls()
    worker.join(timeout=5)
    assert first[0].status_code == 201
    assert api.post(REFUNDS.format(100), towel_refund()).status_code == 201


# ---- the control API ------------------------------------------------------------------------


def test_the_control_api_seeds_resets_and_reads_the_call_log(api: StoreApi) -> None:
    # Replace every order with one new order
    seeded = api.control("PUT", "/orders", [three_for_ten(300).model_dump(mode="json")])
    assert seeded.status_code == 200
    assert [order["id"] for order in api.control("GET", "/orders").json()] == [300]
    assert api.get("/v2/orders/100").status_code == 404

    # The call log shows the API calls (not the control calls), then clears
    api.get("/v2/orders/300")
    calls = api.control("GET", "/calls").json()
    assert [(call["method"], call["path"], call["status"]) for call in calls] == [
        ("GET", "/stores/sandbox/v2/orders/100", 404),
        ("GET", "/stores/sandbox/v2/orders/300", 200),
    ]
    assert calls[0]["timestamp"].startswith("2026-03-02T09:00:00")
    assert api.control("DELETE", "/calls").status_code == 204
    assert api.control("GET", "/calls").json() == []

    # Reset empties the store
    api.control("POST", "/reset")
    assert api.control("GET", "/orders").json() == []


def test_the_control_api_refuses_an_inconsistent_order(api: StoreApi) -> None:
    order = three_for_ten(300).model_dump(mode="json")
    order["tenders"][0]["amount"] = "1.00"
    response = api.control("POST", "/orders", order)
    assert response.status_code == 400
    assert "tenders add up to 1.00" in response.text


def test_the_control_api_injects_faults_and_quota_changes(api: StoreApi) -> None:
    api.control("POST", "/faults", {"method": "GET", "path": "/v2/orders/*", "status": 500})
    assert api.control("GET", "/faults").json()["faults"][0]["status"] == 500
    assert api.get("/v2/orders/100").status_code == 500

    api.control("POST", "/faults/rate-limit", {"count": 1})
    assert api.get("/v2/orders/100").status_code == 429

    assert api.control("PUT", "/rate-limit", {"quota": 450}).json() == {"quota": 450, "window_ms": 30000}
    assert api.get("/v2/orders/100").headers["X-Rate-Limit-Requests-Quota"] == "450"

    api.control("POST", "/faults", {"path": "*", "status": 503, "count": 5})
    assert api.control("DELETE", "/faults").status_code == 204
    assert api.get("/v2/orders/100").status_code == 200
    assert api.control("POST", "/faults", {"path": "*", "status": 418}).status_code == 400


def test_the_control_api_settles_tenders_and_makes_them_decline(api: StoreApi) -> None:
    tenders = api.control("PATCH", "/orders/102/tenders/stripev3", {"settled": True}).json()
    assert tenders[0]["settled"] is True
    assert (
        api.post(
            REFUNDS.format(102), {"items": [product(1021, 1)], "payments": [payment("stripev3", "96.00")]}
        ).status_code
        == 201
    )

    api.control("PATCH", "/orders/100/tenders/braintree", {"declines_refunds": True})
    refund_id = api.post(REFUNDS.format(100), towel_refund()).json()["data"]["id"]
    assert api.get(f"/v3/orders/payment_actions/refunds/{refund_id}").json()["data"]["payments"][0][
        "is_declined"
    ]
    assert api.control("PATCH", "/orders/100/tenders/nope", {"settled": True}).status_code == 404


def test_the_control_api_stalls_and_releases_a_create(api: StoreApi, store: BigCommerceStore) -> None:
    api.control("POST", "/faults/commit-then-stall", {"seconds": 30})
    worker = threading.Thread(target=lambda: api.post(REFUNDS.format(100), towel_refund()))
    worker.start()
    assert store.wait_until_stalled(timeout=5)
    assert api.control("POST", "/faults/release-stalls").status_code == 204
    worker.join(timeout=5)
    assert not worker.is_alive()
    assert len(store.refunds_for_order(100)) == 1


def test_quote_amounts_are_capped_over_http_too(api: StoreApi) -> None:
    quoted = exact(api.post(QUOTES.format(100), {"items": [amount_item("SHIPPING", 501, "20.00")]}))["data"]
    assert (quoted["total_refund_amount"], quoted["adjustment"]) == (Decimal("11.00"), Decimal("-9.00"))
