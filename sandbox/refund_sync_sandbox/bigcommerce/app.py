"""The HTTP face of the simulated store: BigCommerce's v2/v3 order and refund endpoints, plus /__sandbox.

Every API request passes the same gates BigCommerce's gateway applies, in this order: the store hash
(404), the X-Auth-Token (401), the store's quota (429), then any injected fault: a dropped connection
(no answer at all, before or after the request is processed) or an error status (instead of, or after,
processing). Every API response carries the rate-limit headers; every API call is logged for the
rehearsal to inspect, a dropped one with status 0 (what the client received: nothing).
"""

from __future__ import annotations

import hmac
import socket
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from flask import Flask, Response, g, request
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import HTTPException

from refund_sync_sandbox.bigcommerce import render
from refund_sync_sandbox.bigcommerce.errors import STATUS_CODES_URL, BadRequest, NotFound, StoreError
from refund_sync_sandbox.bigcommerce.models import (
    DropRule,
    FaultRule,
    ForcedRateLimit,
    LateCommitRule,
    Order,
    OrderUpdateRequest,
    RateLimitSettings,
    ReadBackSettings,
    RefundRecord,
    StallRule,
    TenderUpdate,
)
from refund_sync_sandbox.bigcommerce.money import dumps, loads
from refund_sync_sandbox.bigcommerce.readback import ReadBack
from refund_sync_sandbox.bigcommerce.store import BigCommerceStore

DEFAULT_PAGE_LIMIT = 50
MAX_PAGE_LIMIT = 250
_API_PREFIX = "/stores/"
_CONTROL_PREFIX = "/__sandbox"
_FAULT_TITLES = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
DROPPED_STATUS = 0  # how the call log records a request whose connection was closed unanswered
_CREATE_REFUND = "create_refund"
_QUOTE_REFUND = "quote_refund"

_ModelT = TypeVar("_ModelT", bound=BaseModel)


class UnsupportedMediaType(StoreError):
    status = 415


def json_response(payload: Any, status: int = 200) -> Response:
    return Response(dumps(payload), status=status, mimetype="application/json")


def create_app(store: BigCommerceStore, *, access_token: str, store_hash: str) -> Flask:
    app = Flask("refund_sync_sandbox.bigcommerce")
    _register_gateway(app, store, access_token=access_token, store_hash=store_hash)
    _register_v2(app, store)
    _register_v3(app, store)
    _register_control(app, store)
    return app


# ---- the gateway: store hash, auth, quota, faults, logging ----------------------------------


def _is_api_request() -> bool:
    return request.path.startswith(_API_PREFIX)


def _api_path() -> str:
    """The path after /stores/{store_hash}, e.g. /v3/orders/100/payment_actions/refunds."""
    parts = request.path.split("/", 3)
    return "/" + parts[3] if len(parts) > 3 else "/"


def _register_gateway(app: Flask, store: BigCommerceStore, *, access_token: str, store_hash: str) -> None:
    @app.before_request
    def gate() -> Response | None:
        if not _is_api_request():
            return None
        g.rate_headers = None
        g.after_commit_fault = None
        g.drop_connection = False
        if request.path.split("/")[2] != store_hash:
            return json_response(render.v3_error(404, "Store not found."), 404)
        token = request.headers.get("X-Auth-Token", "")
        if not hmac.compare_digest(token.encode(), access_token.encode()):
            return json_response(render.v3_error(401, "Unauthorized: missing or invalid X-Auth-Token."), 401)
        decision = store.rate_limiter.admit()
        g.rate_headers = decision.headers
        if not decision.allowed:
            return json_response(
                render.v3_error(429, "Too many requests: the store's request quota is spent."), 429
            )
        drop = store.faults.take_drop(request.method, _api_path())
        if drop is not None:
            g.drop_connection = True
            # Unprocessed: this placeholder never reaches the client (the connection closes instead).
            return None if drop.after_commit else Response(status=204)
        fault = store.faults.take(request.method, _api_path())
        if fault is None:
            return None
        if fault.after_commit:
            g.after_commit_fault = fault
            return None
        return _fault_response(fault)

    @app.after_request
    def finish(response: Response) -> Response:
        if not _is_api_request():
            return response
        if g.get("drop_connection"):
            store.record_call(
                request.method, request.path, request.query_string.decode(), DROPPED_STATUS, _logged_body()
            )
            _close_connection_unanswered()
            return response
        fault: FaultRule | None = g.get("after_commit_fault")
        if fault is not None and response.status_code < 400:
            response = _fault_response(fault)
        headers: dict[str, str] | None = g.get("rate_headers")
        response.headers.update(headers if headers is not None else store.rate_limiter.peek())
        store.record_call(
            request.method, request.path, request.query_string.decode(), response.status_code, _logged_body()
        )
        return response

    @app.errorhandler(StoreError)
    def store_error(error: StoreError) -> Response:
        if not _is_api_request():
            return json_response({"error": error.title, "details": error.errors}, error.status)
        if _api_path().startswith("/v2/"):
            return json_response(render.v2_error(error.status, error.title), error.status)
        if request.endpoint == _CREATE_REFUND and error.status == 422:
            # The create endpoint wraps its 422 in a data array (the spec's own example).
            body = {"data": [{"status": 422, "title": error.title, "type": STATUS_CODES_URL}]}
            return json_response(body, 422)
        return json_response(render.v3_error(error.status, error.title, error.errors), error.status)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        status = error.code or 500
        title = error.name if status != 404 else "The requested resource was not found."
        if _is_api_request() and _api_path().startswith("/v2/"):
            return json_response(render.v2_error(status, title), status)
        return json_response(render.v3_error(status, title), status)

    @app.errorhandler(ValidationError)
    def control_validation_error(error: ValidationError) -> Response:
        details = [{"loc": list(issue["loc"]), "msg": issue["msg"]} for issue in error.errors()]
        return json_response({"error": "Invalid request body.", "details": details}, 400)


def _close_connection_unanswered() -> None:
    """Shut the client's socket before werkzeug writes the response: the client reads end-of-stream where
    the status line should be (requests raises ConnectionError), and werkzeug's write fails quietly."""
    connection = request.environ.get("werkzeug.socket")
    if not isinstance(connection, socket.socket):
        raise RuntimeError("dropping a connection needs the simulator served by werkzeug (start_*_server)")
    connection.shutdown(socket.SHUT_RDWR)


def _fault_response(fault: FaultRule) -> Response:
    title = fault.message or _FAULT_TITLES[fault.status]
    if fault.status == 503 and request.endpoint == _CREATE_REFUND:
        order_id = (request.view_args or {}).get("order_id", 0)
        body: dict[str, Any] = {"data": [{"order_id": order_id, "status": 503, "error": title}], "meta": {}}
    else:
        body = render.v3_error(fault.status, title)
    return json_response(body, fault.status)


def _logged_body() -> Any:
    if not request.content_length:
        return None
    try:
        return loads(request.get_data(cache=True))
    except ValueError:
        return request.get_data(cache=True, as_text=True)


def _json_body() -> Any:
    """The request's JSON, numbers as exact Decimals; 415 without a JSON Content-Type, 400 if malformed."""
    if request.mimetype != "application/json":
        raise UnsupportedMediaType("The request must have Content-Type: application/json.")
    try:
        return loads(request.get_data(cache=True))
    except ValueError as error:
        raise BadRequest("Input is invalid.", {"body": "malformed JSON"}) from error


def _links_base() -> str:
    """Where this store lives, for the url fields of v2 sub-resources."""
    return request.host_url.rstrip("/") + "/".join(request.path.split("/")[:3])


def _query_int(name: str, default: int, *, minimum: int = 1) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(Decimal(raw))
    except ArithmeticError as error:
        raise BadRequest(f"The query parameter {name!r} must be a number.") from error
    if value < minimum:
        raise BadRequest(f"The query parameter {name!r} must be at least {minimum}.")
    return value


def _page(rows: list[Any]) -> list[Any]:
    page = _query_int("page", 1)
    limit = min(_query_int("limit", DEFAULT_PAGE_LIMIT), MAX_PAGE_LIMIT)
    return rows[(page - 1) * limit : page * limit]


def _csv_ints(name: str) -> list[int] | None:
    raw = request.args.get(name)
    if raw is None:
        return None
    try:
        return [int(part) for part in raw.split(",") if part.strip()]
    except ValueError as error:
        raise BadRequest(
            f"The query parameter {name!r} must be a comma-separated list of integers."
        ) from error


def _query_datetime(name: str) -> datetime | None:
    raw = request.args.get(name)
    if raw is None:
        return None
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError as error:
        raise BadRequest(f"The query parameter {name!r} must be an RFC 3339 date-time.") from error
    if parsed.tzinfo is None:
        raise BadRequest(f"The query parameter {name!r} must carry a time zone offset.")
    return parsed


# ---- v2 -------------------------------------------------------------------------------------


def _register_v2(app: Flask, store: BigCommerceStore) -> None:
    base = "/stores/<store_hash>/v2"

    def order_body(order_id: int) -> dict[str, Any]:
        snapshot = store.snapshot(order_id)
        includes = frozenset(
            part.strip()
            for value in request.args.getlist("include")
            for part in value.split(",")
            if part.strip()
        )
        return render.order_json(
            snapshot.order,
            snapshot.ledger,
            links_base=_links_base(),
            includes=includes,
            consignments_as_object=request.args.get("consignment_structure") == "object",
        )

    @app.get(f"{base}/orders/<int:order_id>", endpoint="get_order")
    def get_order(store_hash: str, order_id: int) -> Response:
        return json_response(order_body(order_id))

    @app.put(f"{base}/orders/<int:order_id>", endpoint="update_order")
    def update_order(store_hash: str, order_id: int) -> Response:
        body = _json_body()
        try:
            update = OrderUpdateRequest.model_validate(body)
        except ValidationError as error:
            raise BadRequest("The field 'status_id' is invalid.") from error
        if update.status_id is not None:
            store.update_order_status(order_id, update.status_id)
        else:
            store.snapshot(order_id)  # 404 for an unknown order, even with nothing to change
        return json_response(order_body(order_id))

    @app.get(f"{base}/orders/<int:order_id>/products", endpoint="get_order_products")
    def get_order_products(store_hash: str, order_id: int) -> Response:
        snapshot = store.snapshot(order_id)
        rows = [
            render.product_json(snapshot.order, line, snapshot.ledger) for line in snapshot.order.products
        ]
        return json_response(_page(rows))

    @app.get(f"{base}/orders/<int:order_id>/shipping_addresses", endpoint="get_order_shipping_addresses")
    def get_order_shipping_addresses(store_hash: str, order_id: int) -> Response:
        order = store.snapshot(order_id).order
        rows = [
            render.shipping_address_json(order, address, links_base=_links_base())
            for address in order.shipping_addresses
        ]
        return json_response(_page(rows))

    @app.get(f"{base}/orders/<int:order_id>/fees", endpoint="get_order_fees")
    def get_order_fees(store_hash: str, order_id: int) -> Response:
        # The spec's example wraps the list in {"fees": [...]}; its schema is a (single) fee object.
        order = store.snapshot(order_id).order
        return json_response({"fees": [render.fee_json(fee) for fee in order.fees]})

    @app.get(f"{base}/order_statuses", endpoint="get_order_statuses")
    def get_order_statuses(store_hash: str) -> Response:
        return json_response(render.order_statuses_json())


# ---- v3 -------------------------------------------------------------------------------------


def _register_v3(app: Flask, store: BigCommerceStore) -> None:
    base = "/stores/<store_hash>/v3/orders"

    def read_back(refund: RefundRecord) -> dict[str, Any]:
        return render.refund_json(
            refund, echo=store.read_back.reason_echo, amounts=store.read_back.amounts_echoed
        )

    @app.post(f"{base}/<int:order_id>/payment_actions/refund_quotes", endpoint=_QUOTE_REFUND)
    def quote_refund(store_hash: str, order_id: int) -> Response:
        quote = store.quote_refund(order_id, _json_body())
        return json_response({"data": quote.to_json(), "meta": {}}, 201)

    @app.post(f"{base}/<int:order_id>/payment_actions/refunds", endpoint=_CREATE_REFUND)
    def create_refund(store_hash: str, order_id: int) -> Response:
        refund = store.create_refund(order_id, _json_body())
        rendered = render.refund_json(
            refund,
            as_submitted=True,
            echo=store.read_back.reason_echo,
            amounts=store.read_back.amounts_echoed,
        )
        return json_response({"data": rendered, "meta": {}}, 201)

    @app.get(f"{base}/<int:order_id>/payment_actions/refunds", endpoint="get_order_refunds")
    def get_order_refunds(store_hash: str, order_id: int) -> Response:
        refunds = store.as_listed(store.refunds_for_order(order_id))
        transaction_id = request.args.get("transaction_id")
        if transaction_id is not None:
            refunds = [r for r in refunds if any(p.transaction_id == transaction_id for p in r.payments)]
        return json_response({"data": [read_back(refund) for refund in refunds], "meta": {}})

    @app.get(f"{base}/payment_actions/refunds/<int:refund_id>", endpoint="get_refund")
    def get_refund(store_hash: str, refund_id: int) -> Response:
        return json_response({"data": read_back(store.get_refund(refund_id)), "meta": {}})

    @app.get(f"{base}/payment_actions/refunds", endpoint="get_refunds")
    def get_refunds(store_hash: str) -> Response:
        refunds = store.list_refunds(
            order_ids=_csv_ints("order_id:in"),
            refund_ids=_csv_ints("id:in"),
            created_min=_query_datetime("created:min"),
            created_max=_query_datetime("created:max"),
            transaction_id=request.args.get("transaction_id"),
        )
        listed = store.as_listed(refunds)
        return json_response({"data": [read_back(refund) for refund in _page(listed)], "meta": {}})


# ---- /__sandbox: the rehearsal's control API (no auth; not part of BigCommerce's API) -------


def _control_body(model: type[_ModelT]) -> _ModelT:
    return model.model_validate(loads(request.get_data() or b"{}"))


def _register_control(app: Flask, store: BigCommerceStore) -> None:
    def route(rule: str, methods: list[str]) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
        return app.route(f"{_CONTROL_PREFIX}{rule}", methods=methods)

    @route("/reset", ["POST"])
    def control_reset() -> Response:
        store.reset()
        return json_response({"reset": True})

    @route("/orders", ["GET"])
    def control_list_orders() -> Response:
        return json_response([order.model_dump(mode="json") for order in store.orders()])

    @route("/orders", ["POST", "PUT"])
    def control_seed_orders() -> Response:
        """POST adds or re-seeds the given orders; PUT replaces every order (and drops all refunds)."""
        body = loads(request.get_data() or b"[]")
        payload = body if isinstance(body, list) else [body]
        orders = [Order.model_validate(entry) for entry in payload]
        store.seed(orders, replace=request.method == "PUT")
        return json_response(
            {"orders": [order.id for order in orders]}, 201 if request.method == "POST" else 200
        )

    @route("/orders/<int:order_id>/tenders/<provider_id>", ["PATCH"])
    def control_update_tender(order_id: int, provider_id: str) -> Response:
        try:
            store.update_tender(order_id, provider_id, _control_body(TenderUpdate))
        except NotFound as error:
            return json_response({"error": error.title}, 404)
        return json_response(store.snapshot(order_id).order.model_dump(mode="json")["tenders"])

    @route("/calls", ["GET"])
    def control_calls() -> Response:
        return json_response([call.to_json() for call in store.calls()])

    @route("/calls", ["DELETE"])
    def control_clear_calls() -> Response:
        store.clear_calls()
        return Response(status=204)

    @route("/faults", ["GET"])
    def control_faults() -> Response:
        return json_response(store.faults.pending())

    @route("/faults", ["POST"])
    def control_add_fault() -> Response:
        store.faults.add(_control_body(FaultRule))
        return json_response(store.faults.pending(), 201)

    @route("/faults", ["DELETE"])
    def control_clear_faults() -> Response:
        store.clear_faults()
        return Response(status=204)

    @route("/faults/drop-connection", ["POST"])
    def control_drop_connection() -> Response:
        store.faults.add_drop(_control_body(DropRule))
        return json_response(store.faults.pending(), 201)

    @route("/faults/commit-then-stall", ["POST"])
    def control_stall() -> Response:
        store.faults.add_stall(_control_body(StallRule))
        return json_response(store.faults.pending(), 201)

    @route("/faults/commit-late", ["POST"])
    def control_commit_late() -> Response:
        store.faults.add_late_commit(_control_body(LateCommitRule))
        return json_response(store.faults.pending(), 201)

    @route("/read-back", ["GET", "PUT"])
    def control_read_back() -> Response:
        """How refunds read back where BigCommerce's docs leave it open (readback.py)."""
        if request.method == "PUT":
            settings = _control_body(ReadBackSettings)
            store.set_read_back(ReadBack(**settings.model_dump()))
        return json_response(
            {
                "reason_echo": store.read_back.reason_echo.value,
                "list_lag_seconds": store.read_back.list_lag_seconds,
                "amounts_echoed": store.read_back.amounts_echoed,
                "concurrent_refunds": store.read_back.concurrent_refunds.value,
            }
        )

    @route("/faults/release-stalls", ["POST"])
    def control_release() -> Response:
        store.release_stalls()
        return Response(status=204)

    @route("/faults/rate-limit", ["POST"])
    def control_force_rate_limit() -> Response:
        store.force_rate_limit(_control_body(ForcedRateLimit).count)
        return Response(status=204)

    @route("/rate-limit", ["GET", "PUT"])
    def control_rate_limit() -> Response:
        if request.method == "PUT":
            settings = _control_body(RateLimitSettings)
            store.set_rate_limit(quota=settings.quota, window_ms=settings.window_ms)
        limiter = store.rate_limiter
        return json_response({"quota": limiter.quota, "window_ms": limiter.window_ms})
