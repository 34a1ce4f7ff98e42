"""The RESTlet's request/response envelopes, version 1 (documented in netsuite/CONTRACT.md).

`python -m refund_sync.adapters.netsuite.contract` prints the JSON Schema that the script's
Jest tests validate against; tests/contract/test_restlet_contract.py fails if the committed copy
in netsuite/contract/ is stale.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Final, Literal

from pydantic import AwareDatetime, Field, StringConstraints, TypeAdapter
from pydantic.json_schema import JsonSchemaMode

from refund_sync.domain.netsuite import InternalId, NetSuiteRefund, RecordType, WireModel

CONTRACT_VERSION: Final = "1"
MAX_PAGE_SIZE = 1000


class PageRequest(WireModel):
    """POST: one page of the saved search, keyset-paged by internal id."""

    action: Literal["page"] = "page"
    version: Literal["1"] = CONTRACT_VERSION
    search_id: str = Field(
        default="",
        description="Saved search internal id or script id (customsearch_...); empty: the deployment's",
    )
    after_id: InternalId = Field(default="0", description="Return refunds whose internal id is greater")
    modified_since: AwareDatetime | None = Field(
        default=None, description="Only refunds last modified at or after this instant"
    )
    page_size: int = Field(default=500, ge=5, le=MAX_PAGE_SIZE)


class Paging(WireModel):
    after_id: InternalId
    last_id: InternalId | None = Field(
        description="Internal id of the last refund returned; the next afterId"
    )
    page_size: int
    count: int = Field(ge=0, description="Refunds in this page")
    has_more: bool = Field(description="True when more refunds match after lastId")
    truncated_by_governance: bool = Field(
        default=False, description="The page was cut short to stay within the script's usage limit"
    )


class PageResponse(WireModel):
    action: Literal["page"] = "page"
    version: Literal["1"] = CONTRACT_VERSION
    refunds: list[NetSuiteRefund]
    paging: Paging
    remaining_usage: int | None = Field(default=None, description="Governance units left after the call")


class FindRequest(WireModel):
    """POST: on-demand lookup by internal ids, document numbers, or BigCommerce order ids."""

    action: Literal["find"] = "find"
    version: Literal["1"] = CONTRACT_VERSION
    search_id: str = Field(default="", description="As in PageRequest; decides OUTSIDE_SAVED_SEARCH")
    ids: list[InternalId] = Field(default_factory=list, max_length=100)
    tran_ids: list[str] = Field(default_factory=list, max_length=100)
    order_ids: list[str] = Field(default_factory=list, max_length=100)


NotFoundCode = Literal[
    "NO_SUCH_TRANSACTION",
    "NOT_A_REFUND",
    "ORDER_NOT_SYNCED",
    "NO_REFUND_FOR_ORDER",
    "OUTSIDE_SAVED_SEARCH",
]


class NotFoundReason(WireModel):
    code: NotFoundCode
    message: str = Field(description="What a NetSuite admin should check")


class NotFound(WireModel):
    kind: Literal["id", "tranId", "orderId"]
    value: str
    reasons: list[NotFoundReason] = Field(min_length=1)


class FindResponse(WireModel):
    action: Literal["find"] = "find"
    version: Literal["1"] = CONTRACT_VERSION
    refunds: list[NetSuiteRefund]
    not_found: list[NotFound] = Field(default_factory=list)


ReasonCode = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9_]*$", max_length=40)]


class WriteBackRequest(WireModel):
    """PUT: record the refund-sync outcome on the refund's custom body fields.

    SYNCED carries the BigCommerce refund id; FAILED and HELD carry the reason code and what a
    person should do. `reason_code` and `what_to_do` are optional and left out of the request when
    empty, so a deployed script that predates them still accepts a SYNCED write-back.
    """

    action: Literal["writeBack"] = "writeBack"
    version: Literal["1"] = CONTRACT_VERSION
    id: InternalId
    record_type: RecordType
    bigcommerce_refund_id: str | None = None
    status: str = Field(max_length=40)
    reason_code: ReasonCode | None = Field(
        default=None, description="Why a FAILED or HELD refund did not sync (refund_sync.domain.reasons)"
    )
    message: str | None = Field(default=None, max_length=300)
    what_to_do: str | None = Field(
        default=None, max_length=1000, description="What a person should do about a FAILED or HELD refund"
    )
    synced_at: AwareDatetime


class WriteBackResponse(WireModel):
    action: Literal["writeBack"] = "writeBack"
    version: Literal["1"] = CONTRACT_VERSION
    id: InternalId
    updated: bool


ErrorCode = Literal[
    "INVALID_REQUEST",
    "UNSUPPORTED_VERSION",
    "SEARCH_NOT_FOUND",
    "SEARCH_NOT_REFUNDS",
    "RECORD_NOT_FOUND",
    "PERIOD_CLOSED",
    "USAGE_LIMIT",
    "CONFIGURATION_ERROR",
    "UNEXPECTED_ERROR",
]


class ErrorBody(WireModel):
    code: ErrorCode
    message: str
    details: dict[str, Any] | None = None


class ErrorResponse(WireModel):
    """Any failure: the script never answers a failed call with a success shape."""

    version: Literal["1"] = CONTRACT_VERSION
    error: ErrorBody


RestletResponse = Annotated[
    PageResponse | FindResponse | WriteBackResponse | ErrorResponse, Field(union_mode="left_to_right")
]


def json_schema() -> dict[str, Any]:
    """One JSON Schema document with a definition per message of the contract."""
    # Requests are what the script accepts (defaults may be omitted); responses are what it must
    # send (every field present, "version" included), hence the two schema modes.
    messages: dict[str, tuple[type[WireModel], JsonSchemaMode]] = {
        "PageRequest": (PageRequest, "validation"),
        "FindRequest": (FindRequest, "validation"),
        "WriteBackRequest": (WriteBackRequest, "validation"),
        "PageResponse": (PageResponse, "serialization"),
        "FindResponse": (FindResponse, "serialization"),
        "WriteBackResponse": (WriteBackResponse, "serialization"),
        "ErrorResponse": (ErrorResponse, "serialization"),
    }
    definitions: dict[str, Any] = {}
    for name, (model, mode) in messages.items():
        schema = TypeAdapter(model).json_schema(by_alias=True, ref_template="#/$defs/{model}", mode=mode)
        definitions.update(schema.pop("$defs", {}))
        definitions[name] = schema
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://refund-sync.dev/netsuite/restlet-contract.v1.json",
        "title": f"refund-sync RESTlet contract, version {CONTRACT_VERSION}",
        "$defs": dict(sorted(definitions.items())),
    }


if __name__ == "__main__":
    print(json.dumps(json_schema(), indent=2, sort_keys=False))
