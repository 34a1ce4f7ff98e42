"""Everything a deployed stack would write down, captured from a sandbox run, and a scanner for it.

What CloudWatch Logs would hold for a function: the Powertools logger's JSON lines (at DEBUG, the most an
operator can set with LogLevel), the EMF metric records (printed to stdout), whatever else reaches
stdout or stderr, the Python logging records of every library at INFO and above (stricter than
Lambda's default WARNING), and the error Lambda itself logs when a handler raises (its message and
stack trace). Besides the logs, the credentials' wire forms are recorded as they leave the process
(the Authorization and X-Auth-Token headers, the client assertion), to be scanned for as well.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import logging
import traceback
import urllib.parse
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from requests.adapters import HTTPAdapter

import refund_sync_sandbox.sandbox as sandbox_module
from refund_sync.observability import logger

_STANDARD_RECORD_FIELDS = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class _RecordText(logging.Handler):
    """Every record as text: the message, its exception and stack, and every `extra` field."""

    def __init__(self, sink: list[str]) -> None:
        super().__init__(level=logging.DEBUG)
        self.sink = sink
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        extras = {key: value for key, value in record.__dict__.items() if key not in _STANDARD_RECORD_FIELDS}
        self.sink.append(f"{self.format(record)} {extras!r}")


@dataclass
class Captured:
    """What the functions wrote, and the credentials as they travelled."""

    stream: io.StringIO = field(default_factory=io.StringIO)
    records: list[str] = field(default_factory=list)
    handler_errors: list[str] = field(default_factory=list)
    wire_credentials: set[str] = field(default_factory=set)

    def text(self) -> str:
        return "\n".join([self.stream.getvalue(), *self.records, *self.handler_errors])


def _lambda_runtime_logs_errors(handler: Callable[..., Any], captured: Captured) -> Callable[..., Any]:
    """A handler that raises has its error and stack trace written to the log by Lambda's runtime."""

    def logged(event: dict[str, Any], context: Any) -> Any:
        try:
            return handler(event, context)
        except Exception as error:
            captured.handler_errors.append("".join(traceback.format_exception(error)))
            raise

    return logged


def _record_credentials_in_flight(captured: Captured) -> Callable[..., requests.Response]:
    send = HTTPAdapter.send

    def recording(
        adapter: HTTPAdapter, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        for header in ("Authorization", "X-Auth-Token"):
            value = request.headers.get(header)
            if isinstance(value, bytes):  # requests_oauthlib sets the OAuth header as bytes
                value = value.decode()
            if value:
                captured.wire_credentials.add(value)
                captured.wire_credentials.update(_credential_parts(value))
        body = request.body.decode() if isinstance(request.body, bytes) else request.body or ""
        for name, value in urllib.parse.parse_qsl(body):
            if name == "client_assertion":
                captured.wire_credentials.update({value, value.rsplit(".", 1)[-1]})  # and its signature
        return send(adapter, request, **kwargs)

    return recording


def _credential_parts(header: str) -> set[str]:
    """The secret pieces of an Authorization header: a bearer token, or an OAuth 1.0a signature."""
    scheme, _, rest = header.partition(" ")
    if scheme == "Bearer":
        return {rest}
    if scheme == "OAuth":
        fields = dict(part.strip().split("=", 1) for part in rest.split(","))
        signature = fields["oauth_signature"].strip('"')
        return {signature, urllib.parse.unquote(signature)}
    return set()


@contextlib.contextmanager
def everything_written(monkeypatch: pytest.MonkeyPatch) -> Iterator[Captured]:
    """Capture all the functions write while the block runs the sandbox (see the module's docstring)."""
    captured = Captured()
    root = logging.getLogger()
    records = _RecordText(captured.records)
    handler = logger.registered_handler
    saved_stream = handler.setStream(captured.stream)  # type: ignore[attr-defined]
    saved_level, saved_root_level = logger.log_level, root.level
    monkeypatch.setattr(HTTPAdapter, "send", _record_credentials_in_flight(captured))
    for name in ("poller_handler", "consumer_handler", "payout_check_handler"):
        handler_function = getattr(sandbox_module, name)
        monkeypatch.setattr(sandbox_module, name, _lambda_runtime_logs_errors(handler_function, captured))
    logger.setLevel(logging.DEBUG)
    root.setLevel(logging.INFO)
    root.addHandler(records)
    try:
        with contextlib.redirect_stdout(captured.stream), contextlib.redirect_stderr(captured.stream):
            yield captured
    finally:
        root.removeHandler(records)
        root.setLevel(saved_root_level)
        logger.setLevel(saved_level)
        handler.setStream(saved_stream)  # type: ignore[attr-defined]


# -- the scan ---------------------------------------------------------------------------------------------
def encodings(value: str) -> set[str]:
    """`value` and the forms it would take in a log line: JSON-escaped, URL-encoded, base64."""
    raw = value.encode()
    forms = {
        value,
        json.dumps(value)[1:-1],
        urllib.parse.quote(value, safe=""),
        urllib.parse.quote_plus(value),
        base64.b64encode(raw).decode().rstrip("="),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
    }
    return {form for form in forms if len(form) >= 12}


def pem_fragments(pem: str) -> set[str]:
    """Recognisable pieces of a PEM key: each line of its base64 body, and the body run together."""
    body = [line for line in pem.strip().splitlines() if line and not line.startswith("-----")]
    return {line for line in body if len(line) >= 32} | {"".join(body)[:64]}


def leaks(text: str, needles: Iterable[str]) -> list[str]:
    """The needles found in `text` (shortened, so a failing test does not print a whole secret)."""
    return sorted(
        {f"{needle[:10]}...({len(needle)} chars)" for needle in needles if needle and needle in text}
    )
