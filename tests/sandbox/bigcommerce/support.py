"""Helpers for the simulator's behaviour tests: order builders and a thin HTTP caller."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import requests

from refund_sync_sandbox.bigcommerce import AppliedDiscount, Order, ProductLine, RunningServer, Tender
from refund_sync_sandbox.bigcommerce.money import dumps

_JSON = {"Content-Type": "application/json"}


def money(text: str) -> Decimal:
    return Decimal(text)


def three_for_ten(order_id: int = 200, *, customer_id: int = 5, tenders: list[Tender] | None = None) -> Order:
    """One digital line of three units that cost 10.00 together: a unit is worth 3.333..."""
    return Order(
        id=order_id,
        customer_id=customer_id,
        products=[
            ProductLine(
                id=order_id * 10 + 1,
                product_id=1,
                sku="GUIDE",
                name="Guide",
                type="digital",
                quantity=3,
                price_ex_tax=money("5.00"),
                price_inc_tax=money("5.00"),
                applied_discounts=[AppliedDiscount(amount=money("5.00"))],
            )
        ],
        tenders=tenders
        or [
            Tender(provider_id="braintree", description="Braintree (Visa ending 1111)", amount=money("10.00"))
        ],
    )


def product(line_id: int, quantity: int, **extra: Any) -> dict[str, Any]:
    return {"item_type": "PRODUCT", "item_id": line_id, "quantity": quantity, **extra}


def amount_item(item_type: str, item_id: int, amount: str, **extra: Any) -> dict[str, Any]:
    return {"item_type": item_type, "item_id": item_id, "amount": Decimal(amount), **extra}


def payment(provider_id: str, amount: str, *, offline: bool = False) -> dict[str, Any]:
    return {"provider_id": provider_id, "amount": Decimal(amount), "offline": offline}


class StoreApi:
    """The simulator over HTTP, called the way a BigCommerce client calls BigCommerce."""

    def __init__(self, server: RunningServer) -> None:
        self.server = server
        self.session = requests.Session()
        self.session.headers.update({"X-Auth-Token": server.access_token, "Accept": "application/json"})

    def url(self, path: str) -> str:
        return f"{self.server.api_url}{path}"

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.session.get(self.url(path), params=params or None, timeout=10)

    def post(self, path: str, body: Any, *, timeout: float = 10) -> requests.Response:
        return self.session.post(self.url(path), data=dumps(body), headers=_JSON, timeout=timeout)

    def put(self, path: str, body: Any) -> requests.Response:
        return self.session.put(self.url(path), data=dumps(body), headers=_JSON, timeout=10)

    def control(self, method: str, path: str, body: Any = None) -> requests.Response:
        return requests.request(method, f"{self.server.url}/__sandbox{path}", json=body, timeout=10)


def exact(response: requests.Response) -> Any:
    """The response's JSON with every non-integer number as an exact Decimal."""
    return response.json(parse_float=Decimal)
