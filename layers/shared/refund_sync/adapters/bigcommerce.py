"""BigCommerce REST client: the order (v2) and its refunds (v3), behind one requests.Session.

Retries are deliberate. Reads and quotes (no side effects) retry on timeouts, 5xx and 429. A refund
create retries only when BigCommerce provably did not process it (429, or no connection was ever
made); any other failure of a create is *uncertain* and surfaces as UncertainRefundCreate, for the
engine to settle by reading the order's refunds. The store's API quota is shared with its other apps,
so every response's rate-limit headers pace the next request, and a 429 waits out the window.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import Annotated, Any, TypeVar

import requests
import simplejson
from aws_lambda_powertools.utilities import parameters
from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    TypeAdapter,
    ValidationError,
)
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_any,
    wait_random_exponential,
)
from tenacity.stop import stop_base

from refund_sync.config import Settings
from refund_sync.domain.bigcommerce import (
    BigCommerceOrder,
    Consignment,
    CreatedRefund,
    Fee,
    OrderLine,
    Payment,
    PaymentOption,
    RefundedItem,
    RefundItem,
    RefundItemType,
    RefundPayment,
    RefundQuote,
    TaxBasis,
)
from refund_sync.domain.mapping import RefundedSoFar
from refund_sync.domain.money import ZERO, Money, to_cents, total
from refund_sync.observability import Metric, count, logger

JSON = dict[str, Any]
USER_AGENT = "refund-sync/0.1"
SECRET_MAX_AGE_SECONDS = 300
# Refund ids per bulk lookup: well inside BigCommerce's page limit (250) and any URL length limit.
REFUNDS_PER_LOOKUP = 50


class BigCommerceError(Exception):
    """An error answer from BigCommerce, whichever of its error shapes it came in."""

    def __init__(
        self, status: int, message: str, *, method: str, path: str, reset_ms: int | None = None
    ) -> None:
        super().__init__(f"BigCommerce {status} on {method} {path}: {message}")
        self.status = status
        self.message = message
        self.method = method
        self.path = path
        self.reset_ms = reset_ms

    @property
    def transient(self) -> bool:
        """Worth trying again later: throttled, unavailable, or another refund of the order in progress."""
        return self.status in (409, 429) or self.status >= 500


class UnreadableAnswer(BigCommerceError):
    """A success status whose body is not what the API promises (an HTML page from a proxy, a changed
    shape). Worth trying again later; the message names the fields only, never their values, which may
    be a shopper's name or address."""

    @property
    def transient(self) -> bool:
        return True


class UncertainRefundCreate(Exception):
    """The create was sent but its outcome is unknown (timeout, dropped connection, 5xx)."""


def error_message(body: object) -> str:
    """The human message from any of BigCommerce's error shapes (v3 top-level, v3 data[], v2 list)."""
    if isinstance(body, dict):
        if isinstance(body.get("data"), list):
            return "; ".join(error_message(entry) for entry in body["data"]) or "no message"
        parts = [str(body[key]) for key in ("title", "error", "message", "detail") if body.get(key)]
        errors = body.get("errors")
        if isinstance(errors, dict):
            parts += [f"{field}: {text}" for field, text in errors.items()]
        return " - ".join(parts) or "no message"
    if isinstance(body, list):
        return "; ".join(error_message(entry) for entry in body) or "no message"
    return str(body)


def _header_int(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


class RateLimiter:
    """Paces requests by BigCommerce's rate-limit headers, shared by every thread of the process."""

    def __init__(self, reserve: int, *, clock: Callable[[], float], sleep: Callable[[float], None]) -> None:
        self.reserve = reserve
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._pause_until = 0.0

    def observe(self, headers: Mapping[str, str]) -> None:
        left = _header_int(headers, "X-Rate-Limit-Requests-Left")
        reset_ms = _header_int(headers, "X-Rate-Limit-Time-Reset-Ms")
        if left is not None and reset_ms is not None and left <= self.reserve:
            with self._lock:
                self._pause_until = max(self._pause_until, self._clock() + reset_ms / 1000)

    def wait_turn(self) -> None:
        with self._lock:
            delay = self._pause_until - self._clock()
        if delay > 0:
            logger.info(
                "BigCommerce quota nearly spent; pausing until the window resets", extra={"seconds": delay}
            )
            count(Metric.BIGCOMMERCE_THROTTLES)
            self._sleep(delay)


# -- wire models: BigCommerce's JSON, parsed as it comes ------------------------------------------------
class _Wire(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="ignore")


class _Discount(_Wire):
    amount: Money = ZERO


class _Product(_Wire):
    id: int
    product_id: int = 0
    variant_id: int | None = None
    sku: str | None = ""
    name: str = ""
    quantity: int
    quantity_refunded: Decimal = Decimal(0)
    price_ex_tax: Money
    price_inc_tax: Money
    total_ex_tax: Money
    total_inc_tax: Money
    applied_discounts: list[_Discount] = Field(default_factory=list)
    discounted_total_inc_tax: Money | None = None
    order_address_id: int = 0
    wrapping_id: int | None = 0
    wrapping_name: str | None = ""
    wrapping_cost_ex_tax: Money = ZERO  # the line's wrapping: the unit cost times the quantity
    wrapping_cost_inc_tax: Money = ZERO

    def to_domain(self) -> OrderLine:
        wrapped = bool(self.wrapping_id) or self.wrapping_cost_inc_tax > 0
        return OrderLine(
            id=self.id,
            product_id=self.product_id,
            variant_id=self.variant_id,
            sku=self.sku or "",
            name=self.name,
            quantity=self.quantity,
            quantity_refunded=int(self.quantity_refunded),
            price_ex_tax=self.price_ex_tax,
            price_inc_tax=self.price_inc_tax,
            total_ex_tax=self.total_ex_tax,
            total_inc_tax=self.total_inc_tax,
            discount=total(d.amount for d in self.applied_discounts),
            discounted_total_inc_tax=self.discounted_total_inc_tax,
            order_address_id=self.order_address_id,
            wrapping_name=(self.wrapping_name or "gift wrapping") if wrapped else "",
            wrapping_cost_ex_tax=self.wrapping_cost_ex_tax if wrapped else ZERO,
            wrapping_cost_inc_tax=self.wrapping_cost_inc_tax if wrapped else ZERO,
        )


class _Lines(_Wire):
    line_items: list[_Product] = Field(default_factory=list)


class _ShippingConsignment(_Lines):
    id: int
    cost_ex_tax: Money | None = None
    cost_inc_tax: Money = ZERO
    handling_cost_ex_tax: Money | None = None
    handling_cost_inc_tax: Money = ZERO


class _Fee(_Wire):
    id: int
    display_name_merchant: str | None = ""
    display_name_customer: str | None = ""
    cost_ex_tax: Money | None = None
    cost_exc_tax: Money | None = None  # the spec's own example spells it so
    cost_inc_tax: Money = ZERO

    def to_domain(self) -> Fee:
        ex_tax = self.cost_ex_tax if self.cost_ex_tax is not None else self.cost_exc_tax
        return Fee(
            id=self.id,
            name=self.display_name_merchant or self.display_name_customer or "",
            cost_ex_tax=ex_tax if ex_tax is not None else self.cost_inc_tax,
            cost_inc_tax=self.cost_inc_tax,
        )


class _Email(_Wire):
    gift_certificates: list[_Lines] = Field(default_factory=list)


class _Consignments(_Wire):
    shipping: list[_ShippingConsignment] = Field(default_factory=list)
    pickups: list[_Lines] = Field(default_factory=list)
    downloads: list[_Lines] = Field(default_factory=list)
    email: _Email = _Email()


class _Order(_Wire):
    id: int
    status_id: int
    customer_id: int = 0
    currency_code: str = ""  # the display currency
    currency_exchange_rate: Decimal = Decimal(1)
    default_currency_code: str = ""  # the transactional currency
    store_default_currency_code: str = ""
    store_default_to_transactional_exchange_rate: Decimal = Decimal(1)
    is_tax_inclusive_pricing: bool | None = None
    total_inc_tax: Money
    total_tax: Money = ZERO
    payment_method: str = ""
    store_credit_amount: Money = ZERO
    gift_certificate_amount: Money = ZERO
    consignments: _Consignments = _Consignments()
    fees: list[_Fee] | None = None  # present with include=fees

    def to_domain(self) -> BigCommerceOrder:
        groups: list[_Lines] = [
            *self.consignments.shipping,
            *self.consignments.pickups,
            *self.consignments.downloads,
        ]
        groups += self.consignments.email.gift_certificates
        lines = {product.id: product.to_domain() for group in groups for product in group.line_items}
        # default_currency_code is the order's transactional currency; currency_code its display one
        # (BigCommerce's currencies guide, "Orders"): the shopper paid, and is refunded, in the former.
        transactional = self.default_currency_code or self.currency_code
        # Without the flag (it is always there in BigCommerce's answers) the basis is the one refund-sync
        # assumed before it read it; a wrong guess shows as a quote that differs, and is held.
        inclusive = self.is_tax_inclusive_pricing is not False
        return BigCommerceOrder(
            id=self.id,
            status_id=self.status_id,
            customer_id=self.customer_id,
            currency_code=transactional,
            store_default_currency_code=self.store_default_currency_code or transactional,
            store_default_to_transactional_exchange_rate=self.store_default_to_transactional_exchange_rate,
            display_currency_code=self.currency_code or transactional,
            display_exchange_rate=self.currency_exchange_rate,
            tax_basis=TaxBasis.INCLUSIVE if inclusive else TaxBasis.EXCLUSIVE,
            total_inc_tax=self.total_inc_tax,
            total_tax=self.total_tax,
            payment_method=self.payment_method,
            store_credit_amount=self.store_credit_amount,
            gift_certificate_amount=self.gift_certificate_amount,
            lines=tuple(sorted(lines.values(), key=lambda line: line.id)),
            consignments=tuple(
                Consignment(
                    address_id=c.id,
                    shipping_ex_tax=c.cost_ex_tax,
                    shipping_inc_tax=c.cost_inc_tax,
                    handling_ex_tax=c.handling_cost_ex_tax,
                    handling_inc_tax=c.handling_cost_inc_tax,
                )
                for c in self.consignments.shipping
            ),
            fees=tuple(fee.to_domain() for fee in self.fees or ()),
        )


class _Quote(_Wire):
    order_id: int
    total_refund_amount: Money
    total_refund_tax_amount: Money = ZERO
    order_level_refund_amount: Money = ZERO
    rounding: Money = ZERO
    adjustment: Money = ZERO
    tax_inclusive: bool | None = None
    is_tax_included: bool | None = None  # the refunds guide's name for tax_inclusive
    refund_methods: list[list[PaymentOption]] = Field(default_factory=list)

    def to_domain(self) -> RefundQuote:
        return RefundQuote(
            order_id=self.order_id,
            total_refund_amount=self.total_refund_amount,
            total_refund_tax_amount=self.total_refund_tax_amount,
            order_level_refund_amount=self.order_level_refund_amount,
            rounding=self.rounding,
            adjustment=self.adjustment,
            # Neither name given: read as tax-inclusive (what the field's absence meant before); the
            # comparison with the quoted methods' amounts catches a wrong reading.
            tax_inclusive=next(
                (flag for flag in (self.tax_inclusive, self.is_tax_included) if flag is not None), True
            ),
            refund_methods=tuple(tuple(method) for method in self.refund_methods),
        )


class _RefundItem(_Wire):
    item_type: str
    item_id: int
    quantity: int | None = None
    requested_amount: Money | None = None
    reason: str | None = ""


class _RefundPayment(_Wire):
    id: int | None = None
    provider_id: str
    amount: Money
    offline: bool = False
    is_declined: bool = False
    declined_message: str | None = ""


def _instant_or_none(value: object) -> object:
    """A refund's `created`, when it reads as a time with a zone; otherwise unknown (never an error)."""
    try:
        return TypeAdapter(AwareDatetime).validate_python(value)
    except ValidationError:
        return None


class _Refund(_Wire):
    id: int
    order_id: int
    created: Annotated[AwareDatetime | None, BeforeValidator(_instant_or_none)] = None
    reason: str | None = ""
    total_amount: Money
    total_tax: Money = ZERO
    items: list[_RefundItem] = Field(default_factory=list)
    payments: list[_RefundPayment] = Field(default_factory=list)

    def to_domain(self) -> CreatedRefund:
        return CreatedRefund(
            id=self.id,
            order_id=self.order_id,
            created=self.created,
            reason=self.reason or "",
            total_amount=self.total_amount,
            total_tax=self.total_tax,
            items=tuple(
                RefundedItem(
                    item_type=item.item_type,
                    item_id=item.item_id,
                    quantity=item.quantity,
                    requested_amount=item.requested_amount,
                    reason=item.reason or "",
                )
                for item in self.items
            ),
            payments=tuple(
                RefundPayment(
                    id=payment.id,
                    provider_id=payment.provider_id,
                    amount=payment.amount,
                    offline=payment.offline,
                    is_declined=payment.is_declined,
                    declined_message=payment.declined_message or "",
                )
                for payment in self.payments
            ),
        )


class _QuoteEnvelope(_Wire):
    data: _Quote


class _RefundEnvelope(_Wire):
    data: _Refund


class _RefundListEnvelope(_Wire):
    data: list[_Refund] = Field(default_factory=list)


_WireT = TypeVar("_WireT", bound=_Wire)


def _parse(model: type[_WireT], response: requests.Response, *, method: str, path: str) -> _WireT:
    try:
        return model.model_validate_json(response.content)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}"
            for e in error.errors(include_input=False, include_url=False)[:5]
        )
        kind = response.headers.get("Content-Type", "no content type")
        # `from None`: the validation error quotes the body, and a traceback would carry it into the logs
        raise UnreadableAnswer(
            response.status_code, f"unexpected answer ({kind}): {problems}", method=method, path=path
        ) from None


def items_body(items: Iterable[RefundItem]) -> list[JSON]:
    """Refund items as BigCommerce's ItemsRefund: quantity for PRODUCT, amount for the others."""
    body: list[JSON] = []
    for item in items:
        entry: JSON = {"item_type": item.item_type.value, "item_id": item.item_id}
        if item.item_type.quantity_bound:
            entry["quantity"] = item.quantity
            if item.adjustment and item.item_type is RefundItemType.PRODUCT:
                entry["adjustments"] = [
                    {"amount": to_cents(item.adjustment), "description": "Kept by the customer"}
                ]
        else:
            entry["amount"] = to_cents(item.amount or ZERO)
        if item.reason:
            entry["reason"] = item.reason
        body.append(entry)
    return body


def _transient_read_failure(error: BaseException) -> bool:
    if isinstance(error, BigCommerceError):
        return error.status == 429 or error.status >= 500
    return isinstance(error, requests.Timeout | requests.ConnectionError)


def _create_never_reached(error: BaseException) -> bool:
    """Safe to send the create again: BigCommerce certainly did not process the first one."""
    if isinstance(error, BigCommerceError):
        return error.status == 429
    return isinstance(error, requests.ConnectTimeout)


class _StopWhenOutOfTime(stop_base):
    """Stop retrying when the wait ahead and one more request would not fit in the time left."""

    def __init__(self, client: BigCommerceClient) -> None:
        self.client = client

    def __call__(self, retry_state: RetryCallState) -> bool:
        needed = (retry_state.upcoming_sleep or 0.0) + self.client.timeout
        return self.client.seconds_left() < needed


class BigCommerceClient:
    def __init__(
        self,
        base_url: str,
        access_token: str | Callable[[], str],
        *,
        timeout_seconds: float = 30.0,
        quota_reserve: int = 10,
        max_attempts: int = 5,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout_seconds
        self.max_attempts = max_attempts
        self._sleep = sleep
        self.rate_limiter = RateLimiter(quota_reserve, clock=clock, sleep=sleep)
        # A callable is asked on every request (cheaply: it reads a cache), so a rotated token is picked
        # up without restarting the function.
        self._token = access_token if callable(access_token) else (lambda: access_token)
        self.seconds_left: Callable[[], float] = lambda: float("inf")
        self.session = session or requests.Session()
        self.session.headers.update(
            {
                "Accept": "application/json",
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
            }
        )

    # -- public operations ----------------------------------------------------------------------
    def get_order(self, order_id: int) -> BigCommerceOrder:
        """The order with its line items, shipping consignments and fees, in one call."""
        params = {"include": "consignments.line_items,fees", "consignment_structure": "object"}
        path = f"/v2/orders/{order_id}"
        return _parse(_Order, self._read("GET", path, params=params), method="GET", path=path).to_domain()

    def quote(self, order_id: int, items: Iterable[RefundItem]) -> RefundQuote:
        body = {"items": items_body(items)}
        path = f"/v3/orders/{order_id}/payment_actions/refund_quotes"
        response = self._read("POST", path, body=body)
        return _parse(_QuoteEnvelope, response, method="POST", path=path).data.to_domain()

    def create_refund(
        self,
        order_id: int,
        items: Iterable[RefundItem],
        payments: Iterable[Payment],
        *,
        before_send: Callable[[], None] = lambda: None,
    ) -> CreatedRefund:
        """Create the refund. Raises UncertainRefundCreate when BigCommerce may or may not have it.

        `before_send` runs just before each request goes out (after any pause for the quota): the engine
        stamps the send there, or refuses to send when too little time is left."""
        body = {
            "items": items_body(items),
            "payments": [
                {"provider_id": p.provider_id, "amount": to_cents(p.amount), "offline": p.offline}
                for p in payments
            ],
        }
        path = f"/v3/orders/{order_id}/payment_actions/refunds"
        try:
            response = self._call(
                "POST", path, body=body, retry_when=_create_never_reached, before_send=before_send
            )
        except BigCommerceError as error:
            if error.status >= 500:
                raise UncertainRefundCreate(str(error)) from error
            raise
        except (requests.Timeout, requests.ConnectionError) as error:
            raise UncertainRefundCreate(
                f"no answer to the refund create for order {order_id}: {error}"
            ) from error
        try:
            return _parse(_RefundEnvelope, response, method="POST", path=path).data.to_domain()
        except UnreadableAnswer as error:
            raise UncertainRefundCreate(
                f"the refund create for order {order_id} was answered {error}"
            ) from None

    def list_order_refunds(self, order_id: int) -> list[CreatedRefund]:
        path = f"/v3/orders/{order_id}/payment_actions/refunds"
        response = self._read("GET", path)
        if response.status_code == 204 or not response.content:
            return []
        return [
            refund.to_domain()
            for refund in _parse(_RefundListEnvelope, response, method="GET", path=path).data
        ]

    def get_refund(self, refund_id: int) -> CreatedRefund | None:
        """One refund by its id (None when BigCommerce has no such refund)."""
        path = f"/v3/orders/payment_actions/refunds/{refund_id}"
        try:
            response = self._read("GET", path)
        except BigCommerceError as error:
            if error.status == 404:
                return None
            raise
        return _parse(_RefundEnvelope, response, method="GET", path=path).data.to_domain()

    def refunds_by_id(self, refund_ids: Sequence[int]) -> dict[int, CreatedRefund]:
        """Many refunds in one call (up to REFUNDS_PER_LOOKUP ids): how payouts are checked in bulk."""
        if len(refund_ids) > REFUNDS_PER_LOOKUP:
            raise ValueError(f"at most {REFUNDS_PER_LOOKUP} refund ids per lookup")
        if not refund_ids:
            return {}
        params = {"id:in": ",".join(str(i) for i in refund_ids), "limit": str(REFUNDS_PER_LOOKUP)}
        path = "/v3/orders/payment_actions/refunds"
        response = self._read("GET", path, params=params)
        if response.status_code == 204 or not response.content:
            return {}
        refunds = _parse(_RefundListEnvelope, response, method="GET", path=path).data
        return {refund.id: refund.to_domain() for refund in refunds}

    # -- plumbing -----------------------------------------------------------------------------------
    def _read(
        self, method: str, path: str, *, params: Mapping[str, str] | None = None, body: JSON | None = None
    ) -> requests.Response:
        return self._call(method, path, params=params, body=body, retry_when=_transient_read_failure)

    @contextmanager
    def time_limit(self, seconds_left: Callable[[], float]) -> Iterator[None]:
        """Within it, no retry waits past the time left (a Lambda invocation's): the last error stands."""
        previous, self.seconds_left = self.seconds_left, seconds_left
        try:
            yield
        finally:
            self.seconds_left = previous

    def _call(
        self,
        method: str,
        path: str,
        *,
        retry_when: Callable[[BaseException], bool],
        params: Mapping[str, str] | None = None,
        body: JSON | None = None,
        before_send: Callable[[], None] = lambda: None,
    ) -> requests.Response:
        retrying = Retrying(
            retry=retry_if_exception(retry_when),
            stop=stop_any(stop_after_attempt(self.max_attempts), _StopWhenOutOfTime(self)),
            wait=self._wait,
            sleep=self._sleep,
            before_sleep=self._note_retry,
            reraise=True,
        )
        data = simplejson.dumps(body, use_decimal=True) if body is not None else None
        return retrying(self._send, method, path, params, data, before_send)

    def _send(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None,
        data: str | None,
        before_send: Callable[[], None],
    ) -> requests.Response:
        self.rate_limiter.wait_turn()
        before_send()
        count(Metric.BIGCOMMERCE_CALLS)
        response = self.session.request(
            method,
            self.base_url + path,
            params=params,
            data=data,
            headers={"X-Auth-Token": self._token()},
            timeout=self.timeout,
        )
        self.rate_limiter.observe(response.headers)
        if response.status_code >= 400:
            try:
                message = error_message(simplejson.loads(response.content or b"null"))
            except (ValueError, RecursionError):  # not JSON, or nested deeper than any error body
                message = response.text[:300] or response.reason
            raise BigCommerceError(
                response.status_code,
                message,
                method=method,
                path=path,
                reset_ms=_header_int(response.headers, "X-Rate-Limit-Time-Reset-Ms"),
            )
        return response

    def _wait(self, retry_state: RetryCallState) -> float:
        error = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(error, BigCommerceError) and error.status == 429:
            count(Metric.BIGCOMMERCE_THROTTLES)
            if error.reset_ms is not None:
                return error.reset_ms / 1000 + 0.05
        # Without the header a 429 means platform-wide load; 5xx and timeouts likewise back off.
        return float(wait_random_exponential(multiplier=0.5, max=20)(retry_state))

    def _note_retry(self, retry_state: RetryCallState) -> None:
        count(Metric.BIGCOMMERCE_RETRIES)
        error = retry_state.outcome.exception() if retry_state.outcome else None
        logger.warning(
            "Retrying a BigCommerce call", extra={"attempt": retry_state.attempt_number, "error": str(error)}
        )


def refunded_so_far(refunds: Iterable[CreatedRefund]) -> RefundedSoFar:
    """What the order's non-declined refunds gave back: shipping and handling per shipping address and
    fees per fee (as requested), and gift-wrapped units per order line."""
    amounts: dict[str, dict[int, Decimal]] = {kind.value: {} for kind in _AMOUNT_HISTORY}
    wrapping: dict[int, int] = {}
    for refund in refunds:
        if refund.fully_declined:
            continue
        for item in refund.items:
            if item.item_type in amounts:
                per_id = amounts[item.item_type]
                per_id[item.item_id] = per_id.get(item.item_id, ZERO) + (item.requested_amount or ZERO)
            elif item.item_type == RefundItemType.GIFT_WRAPPING.value:
                wrapping[item.item_id] = wrapping.get(item.item_id, 0) + (item.quantity or 0)
    return RefundedSoFar(
        shipping=amounts[RefundItemType.SHIPPING.value],
        handling=amounts[RefundItemType.HANDLING.value],
        fees=amounts[RefundItemType.FEE.value],
        wrapping=wrapping,
    )


_AMOUNT_HISTORY = (RefundItemType.SHIPPING, RefundItemType.HANDLING, RefundItemType.FEE)


class BigCommerceCredentials(BaseModel):
    """The BigCommerce secret: {"access_token": "..."} of a store-level API account."""

    model_config = ConfigDict(defer_build=True, extra="ignore")
    access_token: SecretStr = Field(min_length=1)


def read_access_token(secret_name: str) -> str:
    """The token from Secrets Manager, cached five minutes by Powertools Parameters."""
    raw = parameters.get_secret(secret_name, transform="json", max_age=SECRET_MAX_AGE_SECONDS)
    try:
        return BigCommerceCredentials.model_validate(raw).access_token.get_secret_value()
    except ValidationError:
        raise ValueError(f"secret {secret_name!r} must be JSON with a non-empty access_token") from None


def order_from_json(body: bytes | str) -> BigCommerceOrder:
    """A v2 order answer (with consignments and fees included) as the engine sees it."""
    return _Order.model_validate_json(body).to_domain()


def bigcommerce_client_from_settings(settings: Settings) -> BigCommerceClient:
    read_access_token(settings.bigcommerce_secret_name)  # fail now, clearly, if the secret is unusable
    return BigCommerceClient(
        settings.bigcommerce_base_url,
        lambda: read_access_token(settings.bigcommerce_secret_name),
        timeout_seconds=settings.bigcommerce_timeout_seconds,
        quota_reserve=settings.bigcommerce_quota_reserve,
    )
