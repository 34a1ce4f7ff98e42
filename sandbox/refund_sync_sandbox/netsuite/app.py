"""The simulator's HTTP face: the RESTlet, the OAuth 2.0 token endpoint, and the /__sandbox/ control API.

Real API (what NetSuite serves):
- `POST|PUT /app/site/hosting/restlet.nl?script=...&deploy=...`: the contract's page/find (POST) and
  writeBack (PUT), behind TBA or bearer-token login, the concurrency limit and any injected faults.
- `POST /services/rest/auth/oauth2/v1/token`: client credentials with a JWT client assertion.

Control API (not NetSuite; no auth): `/__sandbox/...` to seed, inspect, inject faults and read the call log.
"""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from decimal import Decimal
from typing import Any, TypeVar

from flask import Blueprint, Flask, Response, request
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel
from pydantic_core import ErrorDetails

from refund_sync.adapters.netsuite.contract import (
    CONTRACT_VERSION,
    ErrorBody,
    ErrorCode,
    ErrorResponse,
    FindRequest,
    PageRequest,
    WriteBackRequest,
)
from refund_sync.config import NetSuiteAuthMethod
from refund_sync.domain.money import ZERO
from refund_sync.domain.netsuite import NetSuiteRefund, RefundLine, WireModel
from refund_sync_sandbox.netsuite.account import (
    BillingRecord,
    BillingType,
    CallRecord,
    InjectedFault,
    NetSuiteAccount,
    RestletError,
    SalesOrder,
)
from refund_sync_sandbox.netsuite.auth import TokenOutcome, invalid_login_body
from refund_sync_sandbox.netsuite.generate import generate_refunds

RESTLET_PATH = "/app/site/hosting/restlet.nl"
_DEFAULT_ACTIONS = {"POST": "page", "PUT": "writeBack"}
TOKEN_PATH = "/services/rest/auth/oauth2/v1/token"  # nosec B105 # a URL path, not a password
CONTROL_PREFIX = "/__sandbox"
SAVED_SEARCH_PARAMETER = "custscript_rs_saved_search"


def _json(body: object, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


def _model(model: BaseModel, status: int = 200) -> Response:
    return Response(model.model_dump_json(), status=status, mimetype="application/json")


def _netsuite_error(code: str, message: str, status: int = 400) -> Response:
    """NetSuite's own error shape (not the contract's): what the platform answers before the script runs."""
    return _json({"error": {"code": code, "message": message}}, status)


def _contract_error(code: ErrorCode, message: str, details: dict[str, Any] | None = None) -> Response:
    # The script's caught errors. A RESTlet cannot set the status of a body it returns: always HTTP 200.
    return _model(ErrorResponse(error=ErrorBody(code=code, message=message, details=details)))


class _ControlModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class _NewSalesOrder(_ControlModel):
    tran_id: str | None = None
    bigcommerce_order_id: str | None = None
    customer_name: str | None = None


class _NewBilling(_ControlModel):
    sales_order_id: str
    type: BillingType = BillingType.INVOICE
    tran_id: str | None = None
    created_from_id: str | None = Field(
        default=None, description="For a return authorization of an invoice or cash sale of the order"
    )


class _RefundOfBilling(_ControlModel):
    lines: list[RefundLine]
    shipping_amount: Decimal = ZERO
    shipping_tax: Decimal = ZERO
    memo: str | None = None
    last_modified: AwareDatetime | None = None
    in_saved_search: bool = True


class _NewRefund(_ControlModel):
    refund: NetSuiteRefund
    in_saved_search: bool = True


class _RefundChange(_ControlModel):
    in_saved_search: bool | None = None
    touch: bool = False
    close_period: bool = False
    allow_non_gl_changes: bool = False


class _Seed(_ControlModel):
    count: int = Field(ge=1, le=100_000)
    seed: int = 0
    outside_saved_search_every: int = Field(default=0, ge=0)


class _FaultChange(_ControlModel):
    concurrency_limit: int | None = Field(default=None, ge=0)
    throttle_next: int | None = Field(default=None, ge=0)
    too_many_requests_next: int | None = Field(default=None, ge=0)
    server_error_next: int | None = Field(default=None, ge=0)
    server_error_status: int | None = Field(default=None, ge=500, le=599)
    usage_limit_next: int | None = Field(default=None, ge=0)
    truncate_next: int | None = Field(default=None, ge=0)
    truncate_keep: int | None = Field(default=None, ge=0)
    delay_next: int | None = Field(default=None, ge=0)
    delay_seconds: float | None = Field(default=None, ge=0)


class _ClockChange(_ControlModel):
    advance_seconds: float


ControlModelT = TypeVar("ControlModelT", bound=_ControlModel)


def _camel(data: dict[str, Any]) -> dict[str, Any]:
    return {to_camel(key): value for key, value in data.items()}


def create_app(account: NetSuiteAccount) -> Flask:
    """A Flask app serving `account`."""
    app = Flask("refund_sync_sandbox.netsuite")

    @app.route(RESTLET_PATH, methods=["GET", "POST", "PUT", "DELETE"])
    def restlet() -> Response:
        body = _json_body()
        call = CallRecord(
            endpoint="restlet",
            method=request.method,
            action=_str_or_none(body.get("action", _DEFAULT_ACTIONS.get(request.method))),
            after_id=_str_or_none(body.get("afterId")),
            page_size=body.get("pageSize") if isinstance(body.get("pageSize"), int) else None,
            status=0,
        )
        call, response = _serve_restlet(account, call, body)
        account.record_call(replace(call, status=response.status_code))
        return response

    @app.post(TOKEN_PATH)
    def token() -> Response:
        if account.m2m is None:
            outcome = TokenOutcome(401, invalid_login_body(), "OAuth 2.0 M2M is not set up")
        else:
            outcome = account.m2m.issue(request.form.to_dict(), token_url=request.base_url)
        account.record_call(
            CallRecord(
                endpoint="token",
                method="POST",
                action="token",
                after_id=None,
                page_size=None,
                status=outcome.status,
                error_code=_error_code(outcome.body),
                auth=NetSuiteAuthMethod.OAUTH2_M2M.value,
                auth_failure=outcome.failure,
            )
        )
        return _json(outcome.body, outcome.status)

    app.register_blueprint(_control_api(account))
    return app


def _serve_restlet(
    account: NetSuiteAccount, call: CallRecord, body: dict[str, Any]
) -> tuple[CallRecord, Response]:
    method, failure = _login_failure(account)
    call = replace(call, auth=method, auth_failure=failure)
    if failure is not None:
        return replace(call, error_code="INVALID_LOGIN_ATTEMPT"), _json(invalid_login_body(), 401)
    if request.args.get("script") != account.script_id or request.args.get("deploy") != account.deploy_id:
        return replace(call, error_code="SSS_INVALID_SCRIPTLET_ID"), _netsuite_error(
            "SSS_INVALID_SCRIPTLET_ID", "That Suitelet is invalid, disabled, or no longer exists."
        )
    if not account.try_enter():
        return replace(call, error_code="SSS_REQUEST_LIMIT_EXCEEDED"), _netsuite_error(
            "SSS_REQUEST_LIMIT_EXCEEDED", "Concurrent request limit exceeded. Request blocked."
        )
    try:
        delay, injected = account.take_faults()
        if delay:
            account.wait(delay)
        if injected is not None:
            code, response = _injected(account, injected)
            return replace(call, error_code=code), response
        response = _dispatch(account)
        return replace(call, error_code=_error_code(response.get_json(silent=True))), response
    finally:
        account.leave()


def _injected(account: NetSuiteAccount, fault: InjectedFault) -> tuple[str, Response]:
    if fault is InjectedFault.THROTTLE:
        message = "Concurrent request limit exceeded. Request blocked."
        return "SSS_REQUEST_LIMIT_EXCEEDED", _netsuite_error("SSS_REQUEST_LIMIT_EXCEEDED", message)
    if fault is InjectedFault.USAGE_LIMIT:
        message = "Script Execution Usage Limit Exceeded"
        return "SSS_USAGE_LIMIT_EXCEEDED", _netsuite_error("SSS_USAGE_LIMIT_EXCEEDED", message)
    if fault is InjectedFault.TOO_MANY_REQUESTS:
        return "TOO_MANY_REQUESTS", _netsuite_error("TOO_MANY_REQUESTS", "Too Many Requests", 429)
    status = account.faults.server_error_status
    return f"HTTP_{status}", Response(
        "<html><body>Service Unavailable</body></html>", status, mimetype="text/html"
    )


def _login_failure(account: NetSuiteAccount) -> tuple[str | None, str | None]:
    """Which login the request used, and why it fails (None when it passes)."""
    authorization = request.headers.get("Authorization", "")
    if authorization.startswith("OAuth "):
        if account.tba is None:
            return NetSuiteAuthMethod.TBA.value, "TBA is not set up"
        failure = account.tba.failure(
            http_method=request.method,
            url=request.base_url,
            query=request.query_string.decode("latin-1"),
            authorization=authorization,
        )
        return NetSuiteAuthMethod.TBA.value, failure
    if authorization.startswith("Bearer "):
        if account.m2m is None:
            return NetSuiteAuthMethod.OAUTH2_M2M.value, "OAuth 2.0 M2M is not set up"
        return NetSuiteAuthMethod.OAUTH2_M2M.value, account.m2m.bearer_failure(
            authorization.removeprefix("Bearer ")
        )
    return None, "no Authorization header"


def _dispatch(account: NetSuiteAccount) -> Response:
    """What the RESTlet script does with a request that got past NetSuite's gates."""
    # The script defines post and put only. (These two codes are the simulator's; the messages NetSuite's.)
    if request.method not in {"POST", "PUT"}:
        return _netsuite_error("METHOD_NOT_ALLOWED", f"The RESTlet has no {request.method} function.", 405)
    if request.mimetype != "application/json":
        return _netsuite_error(
            "INVALID_CONTENT_TYPE",
            "Invalid content type. You can only use application/json, application/xml or text/plain "
            "with RESTlets.",
            415,
        )
    try:
        parsed = _parse_request(account, request.method, request.get_data(as_text=True))
        answer: WireModel
        if isinstance(parsed, PageRequest):
            answer = account.page(parsed)
        elif isinstance(parsed, FindRequest):
            answer = account.find(parsed)
        else:
            answer = account.write_back(parsed)
    except RestletError as exc:
        return _contract_error(exc.code, exc.message, exc.details)
    return _model(answer)


RestletRequest = PageRequest | FindRequest | WriteBackRequest
_REQUEST_MODELS: dict[str, type[RestletRequest]] = {
    "page": PageRequest,
    "find": FindRequest,
    "writeBack": WriteBackRequest,
}


def _parse_request(account: NetSuiteAccount, method: str, raw: str) -> RestletRequest:
    """The script's request checks, in its order: JSON object, version, action for the method, fields,
    then the saved search (the request's, or the deployment's when it sends none)."""
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise RestletError(
            "INVALID_REQUEST",
            "The request body is not valid JSON. Send a JSON object with Content-Type: application/json.",
            {"parseError": str(exc)},
        ) from None
    if not isinstance(body, dict):
        received = "array" if isinstance(body, list) else type(body).__name__
        raise RestletError(
            "INVALID_REQUEST", "The request body must be a JSON object.", {"received": received}
        )
    if "version" in body and body["version"] != CONTRACT_VERSION:
        raise RestletError(
            "UNSUPPORTED_VERSION",
            f"This RESTlet speaks contract version {CONTRACT_VERSION}; the request asked for version "
            f"{json.dumps(body['version'])}. Deploy the script that matches the client, or update the "
            "client.",
            {"supportedVersions": [CONTRACT_VERSION], "requestedVersion": body["version"]},
        )
    allowed = ["writeBack"] if method == "PUT" else ["page", "find"]
    action = body.get("action", allowed[0])
    if action not in allowed:
        raise RestletError(
            "INVALID_REQUEST",
            f"{method} accepts the actions {', '.join(json.dumps(name) for name in allowed)}; "
            f"got {json.dumps(body.get('action'))}.",
            {"method": method, "action": body.get("action")},
        )
    problems: list[dict[str, str]] = []
    parsed: RestletRequest | None = None
    try:
        parsed = _REQUEST_MODELS[action].model_validate(body)
    except ValidationError as exc:
        problems += [_problem(error) for error in exc.errors(include_input=False, include_url=False)]
    if action == "find" and not any(body.get(key) for key in ("ids", "tranIds", "orderIds")):
        problems.append({"field": "ids, tranIds, orderIds", "problem": "give at least one value to look up"})
    if problems or parsed is None:
        summary = "; ".join(f"{problem['field']}: {problem['problem']}" for problem in problems)
        raise RestletError(
            "INVALID_REQUEST", f"The {action} request is not valid: {summary}.", {"problems": problems}
        )
    if isinstance(parsed, PageRequest | FindRequest):
        # An empty searchId means the deployment's "Saved search" parameter, which may be empty too.
        search_id = parsed.search_id.strip() or account.default_search_id
        if not search_id:
            raise RestletError(
                "CONFIGURATION_ERROR",
                'No saved search to use: the request sends no "searchId" and the deployment parameter '
                f'"Saved search" ({SAVED_SEARCH_PARAMETER}) is empty. Set it on the script deployment '
                '(Customization > Scripting > Script Deployments), or send "searchId".',
                {"parameter": SAVED_SEARCH_PARAMETER},
            )
        parsed = parsed.model_copy(update={"search_id": search_id})
    return parsed


def _problem(error: ErrorDetails) -> dict[str, str]:
    field = ".".join(map(str, error["loc"]))
    if error["type"] == "extra_forbidden":
        return {"field": field, "problem": "is not a field of this request"}
    if error["type"] == "missing":
        return {"field": field, "problem": "is required"}
    return {"field": field, "problem": error["msg"]}


def _json_body() -> dict[str, Any]:
    body = request.get_json(force=True, silent=True)
    return body if isinstance(body, dict) else {}


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _error_code(body: object) -> str | None:
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            return _str_or_none(error.get("code"))
        return _str_or_none(error)
    return None


def _control_api(account: NetSuiteAccount) -> Blueprint:  # noqa: PLR0915
    """Seed, inspect and misconfigure the account; clearly apart from the real API, and without auth."""
    api = Blueprint("sandbox_control", __name__, url_prefix=CONTROL_PREFIX)

    def parse(model: type[ControlModelT]) -> ControlModelT:
        return model.model_validate(request.get_json(force=True, silent=True) or {})

    @api.errorhandler(ValidationError)
    def _invalid(exc: ValidationError) -> Response:
        return _json(
            {"error": "invalid request", "problems": exc.errors(include_url=False, include_context=False)},
            400,
        )

    @api.errorhandler(KeyError)
    def _missing(exc: KeyError) -> Response:
        return _json({"error": str(exc.args[0]) if exc.args else "not found"}, 404)

    @api.errorhandler(ValueError)
    def _conflict(exc: ValueError) -> Response:
        return _json({"error": str(exc)}, 409)

    @api.get("/state")
    def state() -> Response:
        creds = account.credentials
        configured = {NetSuiteAuthMethod.TBA: creds.tba, NetSuiteAuthMethod.OAUTH2_M2M: creds.m2m}
        return _json(
            {
                "accountId": creds.account_id,
                "realm": creds.realm,
                "scriptId": account.script_id,
                "deployId": account.deploy_id,
                "savedSearchIds": account.saved_search_ids(),
                "refunds": len(account.refund_ids()),
                "authMethods": [method.value for method, keys in configured.items() if keys is not None],
                "maxInFlight": account.max_in_flight,
                "faults": _camel(asdict(account.faults)),
            }
        )

    @api.get("/credentials")
    def credentials() -> Response:
        # The generated keys, so a sandbox in another process can store them into Secrets Manager.
        creds = account.credentials
        return _json(
            {
                "accountId": creds.account_id,
                NetSuiteAuthMethod.TBA.value: creds.tba.secret() if creds.tba else None,
                NetSuiteAuthMethod.OAUTH2_M2M.value: creds.m2m.secret() if creds.m2m else None,
            }
        )

    @api.post("/sales-orders")
    def add_sales_order() -> Response:
        new = parse(_NewSalesOrder)
        order = account.add_sales_order(
            new.tran_id, bigcommerce_order_id=new.bigcommerce_order_id, customer_name=new.customer_name
        )
        return _json(_camel(asdict(order)), 201)

    @api.post("/billings")
    def add_billing() -> Response:
        new = parse(_NewBilling)
        order = account.transaction(new.sales_order_id)
        if not isinstance(order, SalesOrder):
            raise KeyError(f"no sales order with internal id {new.sales_order_id}")
        source: SalesOrder | BillingRecord = order
        if new.created_from_id is not None:
            billed = account.transaction(new.created_from_id)
            if not isinstance(billed, BillingRecord) or billed.sales_order_id != order.id:
                raise KeyError(f"no invoice or cash sale {new.created_from_id} of sales order {order.id}")
            source = billed
        billing = account.add_billing(source, new.type, tran_id=new.tran_id)
        return _json(_camel(asdict(billing)), 201)

    @api.post("/billings/<billing_id>/refunds")
    def refund_billing(billing_id: str) -> Response:
        new = parse(_RefundOfBilling)
        billing = account.transaction(billing_id)
        if not isinstance(billing, BillingRecord):
            raise KeyError(f"no invoice, cash sale or return authorization with internal id {billing_id}")
        refund = account.create_refund(
            billing,
            new.lines,
            last_modified=new.last_modified,
            shipping_amount=new.shipping_amount,
            shipping_tax=new.shipping_tax,
            memo=new.memo,
            in_saved_search=new.in_saved_search,
        )
        return _model(refund, 201)

    @api.post("/refunds")
    def add_refund() -> Response:
        new = parse(_NewRefund)
        return _model(account.add_refund(new.refund, in_saved_search=new.in_saved_search), 201)

    @api.post("/seed")
    def seed() -> Response:
        order = parse(_Seed)
        refunds = generate_refunds(
            account, order.count, seed=order.seed, outside_saved_search_every=order.outside_saved_search_every
        )
        return _json({"created": len(refunds), "firstId": refunds[0].id, "lastId": refunds[-1].id}, 201)

    @api.get("/refunds")
    def list_refunds() -> Response:
        return _json([_refund_summary(account, refund_id) for refund_id in account.refund_ids()])

    @api.get("/refunds/<refund_id>")
    def show_refund(refund_id: str) -> Response:
        summary = _refund_summary(account, refund_id)
        summary["refund"] = json.loads(account.refund(refund_id).model_dump_json())
        return _json(summary)

    @api.patch("/refunds/<refund_id>")
    def change_refund(refund_id: str) -> Response:
        change = parse(_RefundChange)
        if change.in_saved_search is not None:
            account.set_in_saved_search(refund_id, change.in_saved_search)
        if change.touch:
            account.touch(refund_id)
        if change.close_period:
            account.close_period(refund_id, allow_non_gl_changes=change.allow_non_gl_changes)
        return _json(_refund_summary(account, refund_id))

    @api.route("/faults", methods=["GET", "POST", "DELETE"])
    def faults() -> Response:
        if request.method == "POST":
            change = parse(_FaultChange)
            account.set_faults(replace(account.faults, **change.model_dump(exclude_none=True)))
        elif request.method == "DELETE":
            account.reset_faults()
        return _json(_camel(asdict(account.faults)))

    @api.route("/calls", methods=["GET", "DELETE"])
    def calls() -> Response:
        if request.method == "DELETE":
            account.clear_calls()
        return _json([_camel(asdict(call)) for call in account.calls])

    @api.post("/clock")
    def clock() -> Response:
        account.advance_clock(parse(_ClockChange).advance_seconds)
        return _json({"now": account.now()})

    return api


def _refund_summary(account: NetSuiteAccount, refund_id: str) -> dict[str, Any]:
    refund = account.refund(refund_id)
    sync = account.sync_fields(refund_id)
    return {
        "id": refund.id,
        "recordType": refund.record_type.value,
        "tranId": refund.tran_id,
        "lastModified": refund.last_modified.isoformat(),
        "total": format(refund.total, "f"),
        "bigcommerceOrderId": refund.bigcommerce_order_id,
        "inSavedSearch": account.in_saved_search(refund_id),
        "sync": None
        if sync is None
        else {
            "bigcommerceRefundId": sync.bigcommerce_refund_id,
            "status": sync.status,
            "reasonCode": sync.reason_code,
            "message": sync.message,
            "whatToDo": sync.what_to_do,
            "syncedAt": sync.synced_at.isoformat(),
        },
    }
