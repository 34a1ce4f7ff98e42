"""The BigCommerce simulator speaks BigCommerce's API as its OpenAPI files describe it.

Every exchange with the simulator (request and response) is validated against orders.v2.oas2.yml and
orders.v3.yml, for the happy path and each error of every endpoint the sandbox serves. The last tests
check the harness itself: it must catch what does not match, or passing it would mean nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import requests
from openapi_core import OpenAPI

from refund_sync_sandbox.bigcommerce import (
    BigCommerceStore,
    RunningServer,
    sample_orders,
    start_bigcommerce_server,
)
from refund_sync_sandbox.bigcommerce.money import dumps
from refund_sync_sandbox.bigcommerce.readings import StoreReadings, TaxPricing, every_reading

from .bigcommerce_spec import (
    V3_FILE,
    BigCommerceSpecs,
    ExchangeInvalid,
    ExchangeRecorder,
    exchange_problems,
    read_yaml,
    relax_v3,
    spec_dir,
    specs_or_skip,
    validate_exchange,
)

pytestmark = pytest.mark.contract

QUOTES = "/v3/orders/{}/payment_actions/refund_quotes"
REFUNDS = "/v3/orders/{}/payment_actions/refunds"
JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def specs() -> BigCommerceSpecs:
    return specs_or_skip()


@pytest.fixture
def store() -> BigCommerceStore:
    return BigCommerceStore(sample_orders())


@pytest.fixture
def server(store: BigCommerceStore) -> Iterator[RunningServer]:
    running = start_bigcommerce_server(store, store_hash="abc123")
    yield running
    running.stop()


class Client:
    """Calls the simulator the way BigCommerce's docs say to call BigCommerce, recording each exchange."""

    def __init__(self, server: RunningServer, recorder: ExchangeRecorder) -> None:
        self.server = server
        self.session = recorder.attach(requests.Session())
        self.session.headers.update({"X-Auth-Token": server.access_token, "Accept": "application/json"})

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.session.get(f"{self.server.api_url}{path}", params=params or None, timeout=10)

    def post(self, path: str, body: Any) -> requests.Response:
        return self.session.post(f"{self.server.api_url}{path}", data=dumps(body), headers=JSON, timeout=10)

    def put(self, path: str, body: Any) -> requests.Response:
        return self.session.put(f"{self.server.api_url}{path}", data=dumps(body), headers=JSON, timeout=10)


@pytest.fixture
def recorder(specs: BigCommerceSpecs) -> Iterator[ExchangeRecorder]:
    recorder = ExchangeRecorder()
    yield recorder
    recorder.assert_unchecked_valid(specs)  # whatever a test made and did not check itself


@pytest.fixture
def client(server: RunningServer, recorder: ExchangeRecorder) -> Client:
    return Client(server, recorder)


def statuses(recorder: ExchangeRecorder) -> list[int]:
    return [exchange.response.status_code for exchange in recorder.exchanges]


def towel(quantity: int = 1) -> dict[str, Any]:
    return {"item_type": "PRODUCT", "item_id": 1001, "quantity": quantity, "reason": "Damaged in transit"}


# ---- v2 orders ------------------------------------------------------------------------------


def test_get_order_in_every_documented_form(
    client: Client, recorder: ExchangeRecorder, specs: BigCommerceSpecs
) -> None:
    client.get("/v2/orders/100")
    client.get("/v2/orders/100", include="consignments.line_items,fees", consignment_structure="object")
    client.get("/v2/orders/103", include="consignments", consignment_structure="object")
    client.get("/v2/orders/102", include="fees")
    client.get("/v2/orders/999")
    assert statuses(recorder) == [200, 200, 200, 200, 404]
    recorder.assert_all_valid(specs)


def test_update_order_status(client: Client, recorder: ExchangeRecorder, specs: BigCommerceSpecs) -> None:
    client.put("/v2/orders/100", {"status_id": 11})
    client.put("/v2/orders/100", {"status_id": 99})
    client.put("/v2/orders/999", {"status_id": 11})
    assert statuses(recorder) == [200, 400, 404]
    recorder.assert_all_valid(specs)


def test_order_products_addresses_fees_and_statuses(
    client: Client, recorder: ExchangeRecorder, specs: BigCommerceSpecs
) -> None:
    client.post(REFUNDS.format(100), {"items": [towel()], "payments": [_card("22.00")]})
    client.get("/v2/orders/100/products")
    client.get("/v2/orders/100/products", page=2, limit=1)
    client.get("/v2/orders/103/products", limit=250)
    client.get("/v2/orders/100/shipping_addresses")
    client.get("/v2/orders/100/fees")
    client.get("/v2/order_statuses")
    for path in ("/products", "/shipping_addresses", "/fees"):
        client.get(f"/v2/orders/999{path}")
    assert statuses(recorder) == [201, 200, 200, 200, 200, 200, 200, 404, 404, 404]
    recorder.assert_all_valid(specs)


def test_orders_of_a_store_that_prices_before_tax_in_every_documented_form(
    client: Client, recorder: ExchangeRecorder, specs: BigCommerceSpecs
) -> None:
    # 104: gift wrapping and a fee, shipped to two addresses; 105: gift certificate + card; 106: shown in AUD
    for order_id in (104, 105, 106):
        client.get(
            f"/v2/orders/{order_id}", include="consignments.line_items,fees", consignment_structure="object"
        )
        client.get(f"/v2/orders/{order_id}/products")
        client.get(f"/v2/orders/{order_id}/fees")
    assert set(statuses(recorder)) == {200}
    recorder.assert_all_valid(specs)


@pytest.mark.parametrize("readings", every_reading(TaxPricing.EXCLUSIVE), ids=StoreReadings.label)
def test_quotes_and_refunds_under_every_reading_are_valid(
    client: Client,
    recorder: ExchangeRecorder,
    specs: BigCommerceSpecs,
    store: BigCommerceStore,
    readings: StoreReadings,
) -> None:
    store.use_readings(readings)
    items = [
        {"item_type": "PRODUCT", "item_id": 1041, "quantity": 1},
        {"item_type": "GIFT_WRAPPING", "item_id": 1042, "quantity": 1},
        {"item_type": "SHIPPING", "item_id": 541, "amount": Decimal("7.00")},
        {"item_type": "FEE", "item_id": 2, "amount": Decimal("2.50")},
    ]
    quote = client.post(QUOTES.format(104), {"items": items})
    methods = quote.json(parse_float=Decimal)["data"]["refund_methods"]
    client.post(REFUNDS.format(104), {"items": items, "payments": methods[0]})
    gift = [{"item_type": "PRODUCT", "item_id": 1051, "quantity": 1}]
    gift_quote = client.post(QUOTES.format(105), {"items": gift})
    client.post(
        REFUNDS.format(105),
        {"items": gift, "payments": gift_quote.json(parse_float=Decimal)["data"]["refund_methods"][0]},
    )
    assert statuses(recorder) == [201, 201, 201, 201]
    recorder.assert_all_valid(specs)


# ---- v3 refund quotes -----------------------------------------------------------------------


def test_quote_every_item_type(client: Client, recorder: ExchangeRecorder, specs: BigCommerceSpecs) -> None:
    items = [
        {
            **towel(),
            "amount": 1,
            "adjustments": [{"amount": Decimal("-2.50"), "description": "Restocking fee"}],
        },
        {"item_type": "SHIPPING", "item_id": 501, "amount": Decimal("20.00")},  # more than remains: capped
        {"item_type": "HANDLING", "item_id": 501, "amount": Decimal("2.20")},
        {"item_type": "ORDER", "item_id": 100, "amount": Decimal("1.00"), "reason": "Overcharged"},
        {"item_type": "FEE", "item_id": 1, "amount": Decimal("3.30")},
    ]
    quote = client.post(QUOTES.format(100), {"items": items})
    assert quote.status_code == 201
    assert quote.json()["data"]["adjustment"] == -9.0
    client.post(QUOTES.format(103), {"items": [{"item_type": "PRODUCT", "item_id": 1031, "quantity": 2}]})
    client.post(QUOTES.format(101), {"items": [{"item_type": "PRODUCT", "item_id": 1011, "quantity": 1}]})
    client.post(QUOTES.format(102), {"items": [{"item_type": "PRODUCT", "item_id": 1021, "quantity": 1}]})
    recorder.assert_all_valid(specs)


def test_quote_errors(
    client: Client, recorder: ExchangeRecorder, specs: BigCommerceSpecs, store: BigCommerceStore
) -> None:
    client.post(QUOTES.format(100), {"items": [towel(4)]})
    client.post(QUOTES.format(100), {"tax_adjustment_amount": Decimal("1.99")})
    client.post(QUOTES.format(999), {"items": [towel()]})
    store.fail_next("POST", QUOTES.format(100), 502)
    client.post(QUOTES.format(100), {"items": [towel()]})
    assert statuses(recorder) == [422, 422, 404, 502]
    recorder.assert_all_valid(specs)


# ---- v3 refunds -----------------------------------------------------------------------------


def _card(amount: str) -> dict[str, Any]:
    return {"provider_id": "braintree", "amount": Decimal(amount), "offline": False}


def test_create_refunds_the_ways_bigcommerce_takes_them(
    client: Client, recorder: ExchangeRecorder, specs: BigCommerceSpecs, store: BigCommerceStore
) -> None:
    client.post(REFUNDS.format(100), {"items": [towel()], "payments": [_card("22.00")]})
    client.post(
        REFUNDS.format(100),
        {
            "items": [towel()],
            "payments": [_card("20.00")],
            "merchant_calculated_override": {"total_amount": Decimal("20.00"), "total_tax": Decimal("1.50")},
        },
    )
    split = client.post(
        QUOTES.format(103),
        {
            "items": [
                {"item_type": "PRODUCT", "item_id": 1031, "quantity": 2},
                {"item_type": "PRODUCT", "item_id": 1032, "quantity": 1},
                {"item_type": "SHIPPING", "item_id": 531, "amount": Decimal("8.80")},
            ]
        },
    )
    store.set_tender(103, "braintree", declines_refunds=True)
    client.post(
        REFUNDS.format(103),
        {
            "items": [
                {"item_type": "PRODUCT", "item_id": 1031, "quantity": 2},
                {"item_type": "PRODUCT", "item_id": 1032, "quantity": 1},
                {"item_type": "SHIPPING", "item_id": 531, "amount": Decimal("8.80")},
            ],
            "payments": split.json(parse_float=Decimal)["data"]["refund_methods"][0],
        },
    )
    client.post(
        REFUNDS.format(101),
        {
            "items": [{"item_type": "PRODUCT", "item_id": 1011, "quantity": 1}],
            "payments": [{"provider_id": "bankdeposit", "amount": Decimal("16.50"), "offline": True}],
        },
    )
    assert statuses(recorder) == [201, 201, 201, 201, 201]
    recorder.assert_all_valid(specs)


def test_create_errors(
    client: Client, recorder: ExchangeRecorder, specs: BigCommerceSpecs, store: BigCommerceStore
) -> None:
    guest_store_credit = {
        "items": [{"item_type": "PRODUCT", "item_id": 1011, "quantity": 1}],
        "payments": [{"provider_id": "storecredit", "amount": Decimal("16.50"), "offline": False}],
    }
    client.post(REFUNDS.format(101), guest_store_credit)
    client.post(
        REFUNDS.format(100),
        {
            "items": [{"item_type": "SHIPPING", "item_id": 501, "amount": Decimal("12.00")}],
            "payments": [_card("12.00")],
        },
    )
    client.post(REFUNDS.format(100), {"items": [towel()], "payments": [_card("21.00")]})
    client.post(REFUNDS.format(999), {"items": [towel()], "payments": [_card("22.00")]})
    store.fail_next("POST", REFUNDS.format(100), 503, message="Tax service gone away")
    client.post(REFUNDS.format(100), {"items": [towel()], "payments": [_card("22.00")]})
    store.fail_next("POST", REFUNDS.format(100), 500)
    client.post(REFUNDS.format(100), {"items": [towel()], "payments": [_card("22.00")]})
    assert statuses(recorder) == [422, 422, 422, 404, 503, 500]
    recorder.assert_all_valid(specs)


def test_a_concurrent_refund_is_a_conflict(
    client: Client, recorder: ExchangeRecorder, specs: BigCommerceSpecs, store: BigCommerceStore
) -> None:
    store.commit_then_stall(30, order_id=100)
    worker = threading.Thread(
        target=lambda: client.post(REFUNDS.format(100), {"items": [towel()], "payments": [_card("22.00")]})
    )
    worker.start()
    assert store.wait_until_stalled(timeout=5)
    client.post(REFUNDS.format(100), {"items": [towel()], "payments": [_card("22.00")]})
    client.post(QUOTES.format(100), {"items": [towel()]})
    store.release_stalls()
    worker.join(timeout=5)
    assert sorted(statuses(recorder)) == [201, 409, 409]
    recorder.assert_all_valid(specs)


def test_read_refunds_back(
    client: Client, recorder: ExchangeRecorder, specs: BigCommerceSpecs, store: BigCommerceStore
) -> None:
    store.set_tender(100, "braintree", declines_refunds=True)
    client.post(REFUNDS.format(100), {"items": [towel()], "payments": [_card("22.00")]})
    client.post(
        REFUNDS.format(100),
        {
            "items": [{"item_type": "FEE", "item_id": 1, "amount": Decimal("3.30")}],
            "payments": [_card("3.30")],
        },
    )
    client.get(REFUNDS.format(100))
    client.get(REFUNDS.format(100), transaction_id="1")
    client.get(REFUNDS.format(999))
    client.get("/v3/orders/payment_actions/refunds/1")
    client.get("/v3/orders/payment_actions/refunds/99")
    client.get("/v3/orders/payment_actions/refunds")
    client.get(
        "/v3/orders/payment_actions/refunds",
        **{
            "order_id:in": "100,101",
            "id:in": "1,2",
            "created:min": "2020-01-15T01:02:34+01:00",
            "page": 1,
            "limit": 5,
        },
    )
    assert statuses(recorder) == [201, 201, 200, 200, 404, 200, 404, 200, 200]
    recorder.assert_all_valid(specs)


# ---- the gateway's errors, on both APIs -----------------------------------------------------


def test_quota_and_upstream_errors(
    client: Client, recorder: ExchangeRecorder, specs: BigCommerceSpecs, store: BigCommerceStore
) -> None:
    store.force_rate_limit(2)
    client.get("/v2/orders/100")
    client.get("/v3/orders/payment_actions/refunds")
    for status in (500, 502, 503, 504):
        store.fail_next("GET", "*", status)
        client.get("/v2/orders/100/products")
        store.fail_next("GET", "*", status)
        client.get("/v3/orders/100/payment_actions/refunds")
    assert statuses(recorder) == [429, 429, 500, 500, 502, 502, 503, 503, 504, 504]
    recorder.assert_all_valid(specs)


def test_requests_the_spec_forbids_still_get_well_formed_errors(
    server: RunningServer, specs: BigCommerceSpecs
) -> None:
    # No token (the spec requires X-Auth-Token), another store, and a body that is not JSON:
    # the requests are invalid on purpose, so only the responses are checked.
    unauthorized = requests.get(
        f"{server.api_url}/v2/orders/100", headers={"Accept": "application/json"}, timeout=10
    )
    other_store = requests.get(
        f"{server.url}/stores/other/v3/orders/payment_actions/refunds",
        headers={"X-Auth-Token": server.access_token, "Accept": "application/json"},
        timeout=10,
    )
    not_json = requests.post(
        f"{server.api_url}{QUOTES.format(100)}",
        data="items=1",
        headers={
            "X-Auth-Token": server.access_token,
            "Accept": "application/json",
            "Content-Type": "text/plain",
        },
        timeout=10,
    )
    assert [unauthorized.status_code, other_store.status_code, not_json.status_code] == [401, 404, 415]
    for response in (unauthorized, other_store, not_json):
        validate_exchange(specs, response.request, response, check_request=False)


# ---- the harness catches what does not match --------------------------------------------------


def _fake_response(request: requests.PreparedRequest, status: int, body: str) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = body.encode()
    response.headers["Content-Type"] = "application/json"
    response.request = request
    return response


def test_the_harness_reports_a_response_that_breaks_the_schema(
    client: Client, specs: BigCommerceSpecs
) -> None:
    real = client.post(REFUNDS.format(100), {"items": [towel()], "payments": [_card("22.00")]})
    validate_exchange(specs, real.request, real)
    broken = real.text.replace('"total_amount":22.00', '"total_amount":"22.00"')
    assert broken != real.text
    with pytest.raises(ExchangeInvalid, match=r"response: .*total_amount"):
        validate_exchange(specs, real.request, _fake_response(real.request, 201, broken))


def test_the_harness_reports_a_request_that_breaks_the_schema(
    server: RunningServer, specs: BigCommerceSpecs
) -> None:
    response = requests.post(
        f"{server.api_url}{QUOTES.format(100)}",
        json={"items": [{"item_type": "PRODUCT", "item_id": 1001, "quantity": "one"}]},
        headers={"X-Auth-Token": server.access_token, "Accept": "application/json"},
        timeout=10,
    )
    assert response.status_code == 422
    problems = exchange_problems(specs, response.request, response)
    assert len(problems) == 1
    assert "request:" in problems[0]


def test_the_harness_needs_at_least_one_exchange(specs: BigCommerceSpecs) -> None:
    with pytest.raises(ExchangeInvalid, match="no BigCommerce exchange was recorded"):
        ExchangeRecorder().assert_all_valid(specs)


def test_an_order_item_needs_the_one_of_relaxation(server: RunningServer, specs: BigCommerceSpecs) -> None:
    # The spec's own "Tax Exempt (Order Level)" example fails the file as written (notes, section 11).
    response = requests.post(
        f"{server.api_url}{QUOTES.format(100)}",
        json={"items": [{"item_type": "ORDER", "item_id": 100, "amount": 1, "reason": "Overcharged $1.00"}]},
        headers={"X-Auth-Token": server.access_token, "Accept": "application/json"},
        timeout=10,
    )
    validate_exchange(specs, response.request, response)
    raw = relax_v3(read_yaml(spec_dir() / V3_FILE))
    raw["components"]["schemas"]["ItemsRefund"]["oneOf"] = raw["components"]["schemas"]["ItemsRefund"].pop(
        "anyOf"
    )
    unrelaxed = BigCommerceSpecs(v2=specs.v2, v3=OpenAPI.from_dict(raw))
    with pytest.raises(ExchangeInvalid, match="request"):
        validate_exchange(unrelaxed, response.request, response)
