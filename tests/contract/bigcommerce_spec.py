"""Validate HTTP exchanges with BigCommerce (or its simulator) against BigCommerce's own OpenAPI files.

The files are read from $BIGCOMMERCE_SPEC_DIR or <repo root>/../shared/specs/bigcommerce; they are never
copied into the repository or edited. A few known defects in them are relaxed in memory (see
`relax_v3` and `relax_v2`): each relaxation says why.

Usage in a test:

    recorder = ExchangeRecorder()
    recorder.attach(session)              # a requests.Session talking to the simulator
    ...                                   # make calls through the session
    recorder.assert_all_valid(specs)      # every request and response matches the spec

or, for one exchange: `validate_exchange(specs, response.request, response)`.
"""

from __future__ import annotations

import copy
import functools
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from openapi_core import OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse
from openapi_core.exceptions import OpenAPIError

SPEC_DIR_ENV = "BIGCOMMERCE_SPEC_DIR"
REQUIRE_ENV = ("CI", "REFUND_SYNC_REQUIRE_SPECS")
REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SPEC_DIR = REPO_ROOT.parent / "shared" / "specs" / "bigcommerce"
V3_FILE = "orders.v3.yml"
V2_FILE = "orders.v2.oas2.yml"
BIGCOMMERCE_HOST_URL = "https://api.bigcommerce.com"

Document = dict[str, Any]


class SpecsUnavailable(RuntimeError):
    """BigCommerce's OpenAPI files are not where they should be (tests that need them skip)."""


class ExchangeInvalid(AssertionError):
    """A request or response that does not match BigCommerce's OpenAPI files."""


# ---- loading, with the documented relaxations ----------------------------------------------


def spec_dir() -> Path:
    configured = os.environ.get(SPEC_DIR_ENV)
    return Path(configured) if configured else DEFAULT_SPEC_DIR


@dataclass(frozen=True)
class BigCommerceSpecs:
    v2: OpenAPI
    v3: OpenAPI

    def for_path(self, path: str) -> OpenAPI:
        """The spec that covers a request path such as /stores/abc123/v3/orders/1/payment_actions/refunds."""
        parts = path.split("/")
        version = parts[3] if len(parts) > 3 and parts[1] == "stores" else ""
        if version == "v2":
            return self.v2
        if version == "v3":
            return self.v3
        raise ExchangeInvalid(
            f"{path} is not a BigCommerce store API path (/stores/{{store_hash}}/v2|v3/...)"
        )


def load_specs(directory: Path | None = None) -> BigCommerceSpecs:
    """Both specs, relaxed and parsed (cached per directory: parsing and checking takes ~1 s)."""
    return _load_specs(directory or spec_dir())


@functools.cache
def _load_specs(directory: Path) -> BigCommerceSpecs:
    files = {name: directory / name for name in (V2_FILE, V3_FILE)}
    missing = [str(path) for path in files.values() if not path.is_file()]
    if missing:
        raise SpecsUnavailable(
            f"BigCommerce OpenAPI files not found ({', '.join(missing)}); set {SPEC_DIR_ENV} to their folder"
        )
    return BigCommerceSpecs(
        v2=OpenAPI.from_dict(relax_v2(read_yaml(files[V2_FILE]))),
        v3=OpenAPI.from_dict(relax_v3(read_yaml(files[V3_FILE]))),
    )


def read_yaml(path: Path) -> Document:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open(encoding="utf-8") as handle:
        document = yaml.load(handle, Loader=loader)  # noqa: S506 - a safe loader, C-accelerated when available
    if not isinstance(document, dict):
        raise SpecsUnavailable(f"{path} is not an OpenAPI document")
    return document


def relax_v3(document: Document) -> Document:
    """orders.v3.yml with its known defects relaxed (a deep copy; the file is never touched)."""
    relaxed = copy.deepcopy(document)
    schemas = relaxed["components"]["schemas"]
    # AmountBoundItem's item_type enum also lists ORDER and FEE, so an ORDER or FEE item (the spec's own
    # examples included) matches two branches and fails `oneOf`.
    _one_of_to_any_of(schemas["ItemsRefund"])
    # requested_amount is a number (Amount) in the create/list responses but a nullable string in
    # get-by-id; BigCommerce sends null for PRODUCT items. Accept a number or a string, or null.
    _nullable_number_or_string(
        schemas["RefundItem"]["properties"]["requested_amount"], schemas["RefundItem"], "requested_amount"
    )
    by_id_item = schemas["RefundID_Get"]["properties"]["data"]["properties"]["items"]["items"]
    _nullable_number_or_string(by_id_item["properties"]["requested_amount"], by_id_item, "requested_amount")
    _drop_content_type_on_reads(relaxed)
    _default_error_responses(relaxed, _v3_error_schema())
    return relaxed


def relax_v2(document: Document) -> Document:
    """orders.v2.oas2.yml (OpenAPI 3.0 despite its name) with its known defects relaxed (a deep copy)."""
    relaxed = copy.deepcopy(document)
    schemas = relaxed["components"]["schemas"]
    # The resource link ({url, resource}) and the object form declare no required properties and allow
    # extra ones, so every consignments object matches both branches and fails `oneOf`; the same for
    # line_items (a link list vs full products).
    _one_of_to_any_of(schemas["order_RespOnly"]["properties"]["consignments"])
    for part in schemas["shippingConsignment_Get"]["allOf"]:
        if "line_items" in part.get("properties", {}):
            _one_of_to_any_of(part["properties"]["line_items"])
    _one_of_to_any_of(schemas["digitalConsignment_Get"]["properties"]["line_items"])
    _one_of_to_any_of(schemas["giftCertificateConsignment_Get"]["properties"]["line_items"])
    _drop_content_type_on_reads(relaxed)
    _default_error_responses(relaxed, _v2_error_schema())
    return relaxed


def _one_of_to_any_of(schema: dict[str, Any]) -> None:
    if "oneOf" not in schema:
        raise SpecsUnavailable(f"expected a oneOf to relax, found {sorted(schema)}: has the spec changed?")
    schema["anyOf"] = schema.pop("oneOf")


def _nullable_number_or_string(schema: dict[str, Any], parent: dict[str, Any], name: str) -> None:
    description = schema.get("description", "")
    # OpenAPI 3.0 only honours `nullable` next to a `type`, so each branch carries it.
    parent["properties"][name] = {
        "description": description,
        "anyOf": [{"type": "number", "nullable": True}, {"type": "string", "nullable": True}],
    }


def _drop_content_type_on_reads(document: Document) -> None:
    """`Content-Type` is declared as a required header even on GETs; a GET has no body to describe."""
    content_type_ref = "#/components/parameters/ContentType"
    for path_item in document.get("paths", {}).values():
        operation = path_item.get("get")
        if operation is None:
            continue
        operation["parameters"] = [
            parameter
            for parameter in operation.get("parameters", [])
            if parameter.get("$ref") != content_type_ref
            and not (
                parameter.get("in") == "header" and str(parameter.get("name", "")).lower() == "content-type"
            )
        ]


def _default_error_responses(document: Document, schema: dict[str, Any]) -> None:
    """The operations document only some of the statuses BigCommerce's status-code guide lists (401, 404,
    409, 415, 429, 5xx...). Give each operation a `default` response holding BigCommerce's error shapes,
    so an undocumented error status is still checked for a well-formed error body."""
    for path_item in document.get("paths", {}).values():
        for method in ("get", "put", "post", "delete", "patch"):
            operation = path_item.get(method)
            if operation is not None and "default" not in operation.get("responses", {}):
                operation.setdefault("responses", {})["default"] = {
                    "description": "An error status the operation does not document (added by the harness).",
                    "content": {"application/json": {"schema": copy.deepcopy(schema)}},
                }


def _gateway_error() -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["status", "title"],
        "properties": {
            "status": {"type": "integer"},
            "title": {"type": "string"},
            "type": {"type": "string"},
            "errors": {"type": "object"},
        },
    }


def _v3_error_schema() -> dict[str, Any]:
    wrapped = {
        "type": "object",
        "required": ["data"],
        "properties": {
            "data": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "anyOf": [
                        _gateway_error(),
                        {
                            "type": "object",
                            "required": ["status", "error"],
                            "properties": {
                                "order_id": {"type": "integer"},
                                "status": {"type": "integer"},
                                "error": {"type": "string"},
                            },
                        },
                    ]
                },
            },
            "meta": {"type": "object"},
        },
    }
    return {"anyOf": [_gateway_error(), wrapped]}


def _v2_error_schema() -> dict[str, Any]:
    v2_list = {
        "type": "array",
        "minItems": 1,
        "items": {
            "type": "object",
            "required": ["status", "message"],
            "properties": {"status": {"type": "integer"}, "message": {"type": "string"}},
        },
    }
    # Gateway-level errors (401, 429) come in the v3-style shape on v2 paths too.
    return {"anyOf": [v2_list, _gateway_error()]}


# ---- validating exchanges ------------------------------------------------------------------


class _BigCommerceRequest(RequestsOpenAPIRequest):
    """A captured request, seen as if it had been sent to https://api.bigcommerce.com (the specs' server)."""

    @property
    def host_url(self) -> str:
        return BIGCOMMERCE_HOST_URL


def exchange_problems(
    specs: BigCommerceSpecs,
    request: requests.PreparedRequest,
    response: requests.Response,
    *,
    check_request: bool = True,
) -> list[str]:
    """What in this exchange does not match the spec (empty when it all does)."""
    openapi_request = _BigCommerceRequest(request)
    try:
        openapi = specs.for_path(openapi_request.path)
    except ExchangeInvalid as error:
        return [str(error)]
    problems: list[str] = []
    label = f"{request.method} {openapi_request.path} -> {response.status_code}"
    if check_request:
        try:
            openapi.validate_request(openapi_request)
        except OpenAPIError as error:
            problems.append(f"{label}: request: {_describe(error)}")
    try:
        openapi.validate_response(openapi_request, RequestsOpenAPIResponse(response))
    except OpenAPIError as error:
        problems.append(f"{label}: response: {_describe(error)}")
    return problems


def validate_exchange(
    specs: BigCommerceSpecs,
    request: requests.PreparedRequest,
    response: requests.Response,
    *,
    check_request: bool = True,
) -> None:
    """Raise ExchangeInvalid unless the request (optionally) and the response match the spec."""
    problems = exchange_problems(specs, request, response, check_request=check_request)
    if problems:
        raise ExchangeInvalid("\n".join(problems))


def _describe(error: OpenAPIError) -> str:
    text = str(error)
    cause = error.__cause__
    schema_errors = getattr(cause, "schema_errors", None) or []
    details = [
        f"{'/'.join(str(part) for part in getattr(item, 'absolute_path', ())) or '<root>'}: "
        f"{getattr(item, 'message', item)}"
        for item in schema_errors
    ]
    return text + (" [" + "; ".join(details) + "]" if details else "")


@dataclass(frozen=True)
class RecordedExchange:
    request: requests.PreparedRequest
    response: requests.Response


@dataclass
class ExchangeRecorder:
    """Records every BigCommerce exchange made through the sessions it is attached to.

    Calls to the simulator's /__sandbox control API are ignored: they are not BigCommerce's API.
    """

    exchanges: list[RecordedExchange] = field(default_factory=list)
    _checked: int = 0

    def attach(self, session: requests.Session) -> requests.Session:
        session.hooks["response"].append(self._record)
        return session

    def _record(self, response: requests.Response, *args: object, **kwargs: object) -> requests.Response:
        if "/stores/" in (response.request.path_url or ""):
            self.exchanges.append(RecordedExchange(response.request, response))
        return response

    def problems(self, specs: BigCommerceSpecs) -> list[str]:
        return [
            problem
            for exchange in self.exchanges
            for problem in exchange_problems(specs, exchange.request, exchange.response)
        ]

    def assert_all_valid(self, specs: BigCommerceSpecs) -> None:
        """Every recorded request and response matches the spec; at least one exchange was recorded."""
        if not self.exchanges:
            raise ExchangeInvalid(
                "no BigCommerce exchange was recorded: is the recorder attached to the session?"
            )
        problems = self.problems(specs)
        self._checked = len(self.exchanges)
        if problems:
            raise ExchangeInvalid(f"{len(problems)} problem(s):\n" + "\n".join(problems))

    @property
    def unchecked(self) -> list[RecordedExchange]:
        return self.exchanges[self._checked :]

    def assert_unchecked_valid(self, specs: BigCommerceSpecs) -> None:
        """What assert_all_valid has not checked yet matches the spec (no exchange at all is fine here)."""
        problems = ExchangeRecorder(exchanges=self.unchecked).problems(specs)
        self._checked = len(self.exchanges)
        if problems:
            raise ExchangeInvalid(f"{len(problems)} problem(s):\n" + "\n".join(problems))


# ---- pytest fixtures (import them into a conftest.py, or wrap them in a module's own fixtures) ----


def specs_required() -> bool:
    """In CI (the CI variable most CI systems set, or REFUND_SYNC_REQUIRE_SPECS), a missing spec is a
    failure: a contract test that skipped there would pass a build that checked nothing."""
    return any(os.environ.get(name, "").strip().lower() not in ("", "0", "false") for name in REQUIRE_ENV)


def specs_or_skip() -> BigCommerceSpecs:
    try:
        return load_specs()
    except SpecsUnavailable as error:
        if specs_required():
            pytest.fail(f"BigCommerce OpenAPI files unavailable, and CI needs them: {error}")
        pytest.skip(f"BigCommerce OpenAPI files unavailable: {error}")


@pytest.fixture(scope="session")
def bigcommerce_specs() -> BigCommerceSpecs:
    """Both specs (relaxed); the test is skipped when the files are absent."""
    return specs_or_skip()


@pytest.fixture
def bigcommerce_exchanges(bigcommerce_specs: BigCommerceSpecs) -> Iterator[ExchangeRecorder]:
    """A recorder whose exchanges must all match the spec (what a test did not check, teardown checks)."""
    recorder = ExchangeRecorder()
    yield recorder
    recorder.assert_unchecked_valid(bigcommerce_specs)
