"""A sandbox whose every credential is a planted, recognisable value, and the refunds to run through it."""

from __future__ import annotations

import dataclasses
import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

from flask import Flask, Response

from refund_sync.config import NetSuiteAuthMethod
from refund_sync.domain.netsuite import NetSuiteRefund
from refund_sync_sandbox.aws import create_stack_resources, put_secret
from refund_sync_sandbox.bigcommerce import Address, BigCommerceStore, Order, start_bigcommerce_server
from refund_sync_sandbox.http_server import HttpServer, serve
from refund_sync_sandbox.netsuite import (
    BillingType,
    M2MKeys,
    NetSuiteAccount,
    SandboxCredentials,
    TbaKeys,
    start_netsuite_server,
)
from refund_sync_sandbox.netsuite.credentials import KeyType
from refund_sync_sandbox.sandbox import SANDBOX_ACCOUNT_ID, Sandbox
from refund_sync_sandbox.scenarios import Item, address, order

D = Decimal


def planted(kind: str) -> str:
    """A value no code or fixture would produce by chance, and that still looks like a credential."""
    return f"PLANTED{kind}{secrets.token_hex(16)}"


@dataclass(frozen=True)
class PlantedSecrets:
    credentials: SandboxCredentials
    bigcommerce_token: str

    @classmethod
    def generate(cls, key_type: KeyType = "rsa") -> PlantedSecrets:
        tba = TbaKeys(
            consumer_key=planted("ConsumerKey"),
            consumer_secret=planted("ConsumerSecret"),
            token_id=planted("TokenId"),
            token_secret=planted("TokenSecret"),
        )
        m2m = dataclasses.replace(M2MKeys.generate(key_type), client_id=planted("ClientId"))
        return cls(SandboxCredentials(SANDBOX_ACCOUNT_ID, tba=tba, m2m=m2m), planted("BigCommerceToken"))

    def values(self) -> list[str]:
        """Every secret value (the M2M certificate id is no secret: it is the JWT's public `kid`)."""
        tba, m2m = self.credentials.tba, self.credentials.m2m
        assert tba is not None and m2m is not None
        return [*tba.secret().values(), m2m.client_id, self.bigcommerce_token]

    @property
    def private_key_pem(self) -> str:
        assert self.credentials.m2m is not None
        return self.credentials.m2m.private_key_pem


@contextmanager
def planted_sandbox(
    moto_endpoint: str, planted_secrets: PlantedSecrets, auth_method: NetSuiteAuthMethod
) -> Iterator[Sandbox]:
    """`running_sandbox`, with the planted credentials in Secrets Manager and in the simulators."""
    aws = create_stack_resources(moto_endpoint)
    put_secret(aws, aws.netsuite_secret_name, planted_secrets.credentials.secret_for(auth_method))
    put_secret(aws, aws.bigcommerce_secret_name, {"access_token": planted_secrets.bigcommerce_token})
    bigcommerce = start_bigcommerce_server(BigCommerceStore(), access_token=planted_secrets.bigcommerce_token)
    netsuite = start_netsuite_server(NetSuiteAccount(planted_secrets.credentials))
    try:
        yield Sandbox(aws, bigcommerce, netsuite, planted_secrets.credentials, auth_method)
    finally:
        netsuite.stop()
        bigcommerce.stop()


def make_refund(sandbox: Sandbox, order_id: int, item: Item, *, tran_id: str) -> NetSuiteRefund:
    """A refund of one `item`, made in NetSuite from the invoice of BigCommerce order `order_id`."""
    sales_order = sandbox.account.add_sales_order(bigcommerce_order_id=str(order_id))
    billing = sandbox.account.add_billing(sales_order, BillingType.INVOICE)
    return sandbox.account.create_refund(billing, [item.refund_line(1, 1)], tran_id=tran_id)


def an_order(order_id: int, item: Item, *, declines: bool = False, shopper: Address | None = None) -> Order:
    """A BigCommerce order of one `item`, paid by card, shipped to one address."""
    made = order(order_id, [item.order_line(1, 1, 11)], [address(11, D("5.00"))], declines=declines)
    return made.model_copy(update={"billing_address": shopper}) if shopper else made


def forbidding_bigcommerce() -> HttpServer:
    """A store whose API account lacks the scopes: BigCommerce answers every call 403."""
    app = Flask("forbidding-bigcommerce")

    @app.route("/stores/<path:_rest>", methods=["GET", "POST", "PUT"])
    def forbidden(_rest: str) -> Response:
        body = {
            "status": 403,
            "title": "You don't have a required scope to access the endpoint",
            "errors": {},
        }
        return Response(json.dumps(body), status=403, mimetype="application/json")

    return serve(app, name="forbidding-bigcommerce", host="127.0.0.1", port=0, log_requests=False)
