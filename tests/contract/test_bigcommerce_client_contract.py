"""Every request refund-sync's BigCommerce client sends, and every answer it reads, is what BigCommerce's
OpenAPI files describe: the engine is driven through each shape of refund it builds (products, shipping
over consignments, handling, custom amounts, product adjustments, record-only payments) and every
exchange is validated against orders.v2.oas2.yml / orders.v3.yml.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import boto3
import pytest
from moto import mock_aws

from refund_sync.adapters.bigcommerce import BigCommerceClient, BigCommerceError
from refund_sync.adapters.state_store import StateStore
from refund_sync.config import Settings
from refund_sync.domain.netsuite import NetSuiteRefund, RefundLine
from refund_sync.domain.policy import PartialLineRule, RefundMethodPolicy
from refund_sync.services.refund_state import RefundLedger
from refund_sync.services.sync_refund import RefundEngine
from refund_sync_sandbox.aws import load_template
from refund_sync_sandbox.bigcommerce import BigCommerceStore, RunningServer, Tender, start_bigcommerce_server
from refund_sync_sandbox.scenarios import CAP, MUG, TEE, US_TAX, address, fee, order, other_line, wrap
from tests.factories import refund

from .bigcommerce_spec import BigCommerceSpecs, ExchangeRecorder

pytestmark = pytest.mark.contract
D = Decimal


@pytest.fixture
def store_server() -> Iterator[RunningServer]:
    store = BigCommerceStore(
        [
            order(
                7001,
                [TEE.order_line(1, 2, 31), MUG.order_line(2, 1, 32)],
                [address(31, D("6.00")), address(32, D("4.00"), handling=D("2.00"))],
            ),
            order(7002, [CAP.order_line(3, 1, 33)], [address(33, D("5.00"))]),
            # A US store's order (prices before tax) with gift wrapping and a fee
            order(
                7003,
                [MUG.order_line(4, 2, 34, tax=US_TAX, wrapping=wrap(D("3.00"), tax=US_TAX))],
                [address(34, D("6.00"), tax=US_TAX)],
                fees=[fee(5, "Shipping Insurance", D("2.50"), tax=US_TAX)],
                prices_include_tax=False,
            ),
            # Paid partly by gift certificate, shown in another currency than it was paid in
            order(
                7004,
                [TEE.order_line(5, 1, 35)],
                [address(35, D("5.00"))],
                tenders=[Tender(provider_id="giftcertificate", amount=D("10.00"))],
            ).model_copy(update={"display_currency_code": "AUD", "display_exchange_rate": D("1.384615")}),
        ]
    )
    with start_bigcommerce_server(store) as server:
        yield server


@pytest.fixture
def recorded_client(
    store_server: RunningServer, bigcommerce_specs: BigCommerceSpecs
) -> Iterator[BigCommerceClient]:
    recorder = ExchangeRecorder()
    client = BigCommerceClient(store_server.api_url, store_server.access_token)
    recorder.attach(client.session)
    yield client
    assert recorder.exchanges, "the test made no BigCommerce call to check"
    recorder.assert_all_valid(bigcommerce_specs)


@pytest.fixture
def state_table() -> Iterator[str]:
    """The stack's state table, on moto in-process (the engine records every step in it)."""
    with mock_aws():
        props = load_template()["Resources"]["StateTable"]["Properties"]
        boto3.client("dynamodb", region_name="us-east-1").create_table(
            TableName="contract-state",
            BillingMode=props["BillingMode"],
            AttributeDefinitions=props["AttributeDefinitions"],
            KeySchema=props["KeySchema"],
            GlobalSecondaryIndexes=props["GlobalSecondaryIndexes"],
        )
        yield "contract-state"


def sync(client: BigCommerceClient, table: str, refund_: NetSuiteRefund, **settings: Any) -> str:
    engine = RefundEngine(Settings(**settings), RefundLedger(StateStore(table)), client)
    return engine.sync(refund_).state.status.value


def ns(order_id: int, *lines: RefundLine, **kwargs: Any) -> NetSuiteRefund:
    return refund(*lines, order_id=str(order_id), **kwargs)


def test_a_product_and_split_shipping_refund_speaks_bigcommerces_language(
    recorded_client: BigCommerceClient, state_table: str
) -> None:
    # order, refund history (two consignments), quote, create
    refund_ = ns(7001, TEE.refund_line(1, 1), shipping="8.00", shipping_tax="0.80")
    status = sync(recorded_client, state_table, refund_)
    assert status == "SYNCED"
    # and the payout check's bulk lookup of that refund
    (created,) = recorded_client.list_order_refunds(7001)
    assert list(recorded_client.refunds_by_id([created.id])) == [created.id]


def test_handling_and_custom_amounts_and_record_only_payments_do_too(
    recorded_client: BigCommerceClient, state_table: str
) -> None:
    refund_ = ns(
        7001, other_line(1, "Handling Fee", D("2.00"), tax=D("0.20")), other_line(2, "Goodwill", D("3.00"))
    )
    status = sync(
        recorded_client,
        state_table,
        refund_,
        handling_items=["Handling Fee"],
        custom_amount_items=["Goodwill"],
        refund_method_policy=RefundMethodPolicy.RECORD_ONLY,
    )
    assert status == "SYNCED"


def test_a_product_adjustment_does_too(recorded_client: BigCommerceClient, state_table: str) -> None:
    partial = CAP.refund_line(1, 1).model_copy(update={"amount": D("10.00"), "tax_amount": D("1.00")})
    refund_ = ns(7002, partial)
    status = sync(recorded_client, state_table, refund_, partial_line_rule=PartialLineRule.PRODUCT_ADJUSTMENT)
    assert status == "SYNCED"


def test_shipping_before_tax_fees_and_gift_wrapping_do_too(
    recorded_client: BigCommerceClient, state_table: str
) -> None:
    refund_ = ns(
        7003,
        MUG.refund_line(1, 1, tax_rate=US_TAX),
        other_line(2, "Shipping Insurance", D("2.50"), tax=D("0.21")),
        other_line(3, "Gift Wrap", D("3.00"), tax=D("0.25")).model_copy(update={"quantity": D(1)}),
        shipping="6.00",
        shipping_tax="0.50",
    )
    status = sync(
        recorded_client,
        state_table,
        refund_,
        fee_items=["Shipping Insurance"],
        gift_wrapping_items=["Gift Wrap"],
    )
    assert status == "SYNCED"


def test_a_gift_certificate_and_card_refund_does_too(
    recorded_client: BigCommerceClient, state_table: str
) -> None:
    assert sync(recorded_client, state_table, ns(7004, TEE.refund_line(1, 1))) == "SYNCED"


def test_reading_refunds_back_and_an_unknown_order_are_valid_exchanges(
    recorded_client: BigCommerceClient,
) -> None:
    assert recorded_client.list_order_refunds(7002) == []
    assert recorded_client.refunds_by_id([424242, 424243]) == {}  # the payout check's bulk lookup
    with pytest.raises(BigCommerceError) as missing:
        recorded_client.get_order(424242)
    assert missing.value.status == 404
