"""Bad input, generated: bodies nobody should send, and refunds nobody should make."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

from refund_sync.domain.netsuite import NetSuiteRefund

JsonValue = None | bool | int | float | str | list[Any] | dict[str, Any]

json_scalars: st.SearchStrategy[JsonValue] = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values: st.SearchStrategy[JsonValue] = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)

# What SQS accepts in a message body (XML 1.0 characters): a body outside it never reaches a consumer.
sqs_text = st.text(
    alphabet=st.characters(
        min_codepoint=0x20,
        categories=("L", "M", "N", "P", "S", "Zs", "Co"),
        exclude_characters="\ufffe\uffff",
    )
    | st.sampled_from("\t\n\r"),
    min_size=1,
    max_size=300,
)

_HTML_ERRORS = [
    (500, "Internal Server Error"),
    (502, "Bad Gateway"),
    (503, "Service Temporarily Unavailable"),
    (504, "Gateway Time-out"),
    (403, "Forbidden"),
    (404, "Not Found"),
    (429, "Too Many Requests"),
]
_SERVERS = ["nginx", "cloudflare", "awselb/2.0", "Apache", "Microsoft-IIS/10.0"]


@st.composite
def html_error_pages(draw: st.DrawFn) -> tuple[int, bytes]:
    """What a proxy, load balancer or maintenance page answers: HTML, with the status it claims."""
    status, title = draw(st.sampled_from(_HTML_ERRORS))
    server = draw(st.sampled_from(_SERVERS))
    page = draw(
        st.sampled_from(
            [
                f"<html>\r\n<head><title>{status} {title}</title></head>\r\n<body>\r\n<center><h1>{status} "
                f"{title}</h1></center>\r\n<hr><center>{server}</center>\r\n</body>\r\n</html>\r\n",
                f"<!DOCTYPE html><html lang=en><meta charset=utf-8><title>Error {status}</title><p>The "
                f"server encountered a temporary error and could not complete your request.<p>{title}",
                "<!DOCTYPE html><html><head><title>NetSuite - Scheduled Maintenance</title></head><body>"
                "<h1>We'll be back soon</h1><p>NetSuite is undergoing scheduled maintenance.</p>"
                "</body></html>",
            ]
        )
    )
    return status, page.encode()


def truncations(document: bytes) -> st.SearchStrategy[bytes]:
    """The document cut short anywhere (a dropped connection behind a proxy that still said 200)."""
    return st.integers(min_value=0, max_value=max(len(document) - 1, 0)).map(lambda end: document[:end])


# -- bending one refund out of the contract ----------------------------------------------------------
NEVER_VALID = {"unexpected": [None]}
"""A value no field of a refund accepts: not a string, number, date, list, or an object it knows."""

FIGURES = frozenset(
    {
        "subtotal",
        "taxTotal",
        "discountTotal",
        "shippingAmount",
        "shippingTax",
        "handlingAmount",
        "handlingTax",
    }
    | {"total", "quantity", "rate", "amount", "taxAmount"}
)
figures_beyond_reach = st.sampled_from(
    ["1E+30", "1" * 16, "-1E+200", "1E+5000", "0." + "1" * 40, "1E-40"]
) | (st.integers(16, 60).map(lambda digits: "9" * digits + ".99"))
"""Amounts and quantities no NetSuite record holds, which Decimal arithmetic or DynamoDB cannot carry."""

REQUIRED_REFUND_FIELDS = sorted(
    field.alias or name for name, field in NetSuiteRefund.model_fields.items() if field.is_required()
)


def _nodes(
    document: JsonValue, prefix: tuple[str | int, ...] = ()
) -> list[tuple[tuple[str | int, ...], Any]]:
    """Every (path, value) below `document`, depth first."""
    found: list[tuple[tuple[str | int, ...], Any]] = []
    children: list[tuple[str | int, Any]] = []
    if isinstance(document, dict):
        children = list(document.items())
    elif isinstance(document, list):
        children = list(enumerate(document))
    for key, value in children:
        found.append(((*prefix, key), value))
        found += _nodes(value, (*prefix, key))
    return found


def _changed(document: Any, path: tuple[str | int, ...], change: Callable[[Any, Any], None]) -> Any:
    copy = json.loads(json.dumps(document))
    parent = copy
    for part in path[:-1]:
        parent = parent[part]
    change(parent, path[-1])
    return copy


@st.composite
def bent_refunds(draw: st.DrawFn, refund: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """A refund (as JSON) the contract must refuse, and what was bent: a required field dropped, any field
    given a value of no valid type, or an object given a field the contract does not know."""
    how = draw(st.sampled_from(["missing", "wrong type", "unknown field", "beyond reach"]))
    if how == "missing":
        name = draw(st.sampled_from(REQUIRED_REFUND_FIELDS))
        return _changed(refund, (name,), lambda parent, key: parent.pop(key)), f"{name}: missing"
    nodes = _nodes(refund)
    if how == "beyond reach":
        figures = [
            path for path, _ in nodes if path[-1] in FIGURES and (path[0] != "lines" or len(path) == 3)
        ]
        path = draw(st.sampled_from(figures))
        figure = draw(figures_beyond_reach)
        bent = _changed(refund, path, lambda parent, key: parent.__setitem__(key, figure))
        return bent, f"{'.'.join(map(str, path))}: beyond reach"
    if how == "wrong type":
        path, _ = draw(st.sampled_from(nodes))
        bent = _changed(refund, path, lambda parent, key: parent.__setitem__(key, NEVER_VALID))
        return bent, f"{'.'.join(map(str, path))}: wrong type"
    objects = [((), refund)] + [(path, value) for path, value in nodes if isinstance(value, dict)]
    path, _ = draw(st.sampled_from(objects))
    bent = _changed(refund, (*path, "surprise"), lambda parent, key: parent.__setitem__(key, 1))
    return bent, f"{'.'.join(map(str, path)) or '(refund)'}: unknown field"
