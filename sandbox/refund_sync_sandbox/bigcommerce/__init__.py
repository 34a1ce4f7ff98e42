"""A local BigCommerce store: the v2 order and v3 refund endpoints refund-sync talks to, made stateful.

store = BigCommerceStore(sample_orders())
with start_bigcommerce_server(store) as server:
    ...  # point the client at server.url with server.access_token and server.store_hash
"""

from refund_sync_sandbox.bigcommerce.clock import ManualClock
from refund_sync_sandbox.bigcommerce.models import (
    Address,
    AppliedDiscount,
    CallRecord,
    DropRule,
    FaultRule,
    Fee,
    Order,
    ProductLine,
    RefundRecord,
    ShippingAddress,
    Tender,
)
from refund_sync_sandbox.bigcommerce.readback import ReadBack, ReasonEcho
from refund_sync_sandbox.bigcommerce.samples import sample_orders
from refund_sync_sandbox.bigcommerce.server import (
    DEFAULT_ACCESS_TOKEN,
    DEFAULT_STORE_HASH,
    RunningServer,
    start_bigcommerce_server,
)
from refund_sync_sandbox.bigcommerce.store import BigCommerceStore, OrderSnapshot, RefundQuote

__all__ = [
    "DEFAULT_ACCESS_TOKEN",
    "DEFAULT_STORE_HASH",
    "Address",
    "AppliedDiscount",
    "BigCommerceStore",
    "CallRecord",
    "DropRule",
    "FaultRule",
    "Fee",
    "ManualClock",
    "Order",
    "OrderSnapshot",
    "ProductLine",
    "ReadBack",
    "ReasonEcho",
    "RefundQuote",
    "RefundRecord",
    "RunningServer",
    "ShippingAddress",
    "Tender",
    "sample_orders",
    "start_bigcommerce_server",
]
