"""The RESTlet client: signed calls over one session, bounded retries, contract-validated answers.

NetSuite counts concurrent requests per account (SOAP, REST and RESTlets together) and answers a call
over the limit with HTTP 400 SSS_REQUEST_LIMIT_EXCEEDED. So: few calls at once (a semaphore), and
exponential backoff with full jitter on throttling, 429, 5xx, timeouts and dropped connections, never
longer than the caller's deadline. Everything else fails at once with NetSuite's own words.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, NoReturn, Self, TypeVar

import requests
from pydantic import BaseModel, ValidationError
from tenacity import RetryCallState, Retrying, retry_if_exception, wait_random_exponential

from refund_sync.adapters.netsuite.auth import (
    SECRET_MAX_AGE_SECONDS,
    Clock,
    NetSuiteAuth,
    build_auth,
    load_credentials,
)
from refund_sync.adapters.netsuite.contract import (
    ErrorResponse,
    FindRequest,
    FindResponse,
    PageRequest,
    PageResponse,
    WriteBackRequest,
    WriteBackResponse,
)
from refund_sync.adapters.netsuite.errors import (
    NetSuiteAuthError,
    NetSuiteConfigurationError,
    NetSuiteContractError,
    NetSuiteDeadlineError,
    NetSuiteError,
    NetSuiteThrottledError,
    NetSuiteTransientError,
)
from refund_sync.config import Settings, get_settings
from refund_sync.domain.netsuite import WireModel
from refund_sync.observability import Metric, count, logger

Deadline = Callable[[], float]
"""Seconds the caller can still wait (e.g. the Lambda's remaining time minus a margin)."""
Sleep = Callable[[float], None]

LOGIN_ERROR_CODES = frozenset({"INVALID_LOGIN", "INVALID_LOGIN_ATTEMPT", "INVALID_LOGIN_CREDENTIALS"})
CONCURRENCY_LIMIT_CODE = "SSS_REQUEST_LIMIT_EXCEEDED"
USAGE_LIMIT_CODE = "SSS_USAGE_LIMIT_EXCEEDED"
_JSON_HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}
_CONNECT_TIMEOUT_SECONDS = 10.0

ResponseT = TypeVar("ResponseT", bound=BaseModel)


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try. Oracle: delay the first retry, grow the delay, do not retry in step."""

    max_attempts: int = 6
    initial_backoff_seconds: float = 1.0
    max_backoff_seconds: float = 30.0
    min_attempt_seconds: float = 2.0
    """An attempt is not started (nor slept towards) with less time than this left before the deadline."""


@dataclass(frozen=True)
class _ErrorBody:
    code: str
    message: str
    details: dict[str, Any] | None = None


class NetSuiteClient:
    """Calls the refund-export RESTlet: `page`, `find` and `write_back`, one contract message each."""

    def __init__(
        self,
        settings: Settings,
        auth: NetSuiteAuth,
        *,
        retry: RetryPolicy | None = None,
        sleep: Sleep = time.sleep,
        session: requests.Session | None = None,
    ) -> None:
        self.url = settings.restlet_url
        self.auth = auth
        self._query = {
            "script": settings.netsuite_restlet_script_id,
            "deploy": settings.netsuite_restlet_deploy_id,
        }
        self._search_id = settings.netsuite_saved_search_id
        self._page_size = settings.netsuite_page_size
        self._timeout = settings.netsuite_timeout_seconds
        self._retry = retry or RetryPolicy()
        self._sleep = sleep
        # One client per process (the handler keeps it between invocations), so this caps the process.
        self._slots = threading.BoundedSemaphore(settings.netsuite_max_concurrency)
        self._session = session or requests.Session()
        self._session.auth = auth

    def page(
        self,
        after_id: str = "0",
        modified_since: datetime | None = None,
        page_size: int | None = None,
        *,
        deadline: Deadline | None = None,
    ) -> PageResponse:
        """The saved search's refunds with internal id > `after_id`, in id order, at most `page_size`."""
        request = PageRequest(
            search_id=self._required_search_id(),
            after_id=after_id,
            modified_since=modified_since,
            page_size=page_size or self._page_size,
        )
        page = self._call("POST", "page", request, PageResponse, deadline)
        _check_paging(request, page)
        return page

    def find(
        self,
        *,
        ids: Sequence[str] = (),
        tran_ids: Sequence[str] = (),
        order_ids: Sequence[str] = (),
        deadline: Deadline | None = None,
    ) -> FindResponse:
        """Refunds by internal id, document number or BigCommerce order id, with reasons for misses."""
        if not (ids or tran_ids or order_ids):
            raise ValueError("find needs at least one of ids, tran_ids or order_ids")
        request = FindRequest(
            search_id=self._required_search_id(),
            ids=list(ids),
            tran_ids=list(tran_ids),
            order_ids=list(order_ids),
        )
        return self._call("POST", "find", request, FindResponse, deadline)

    def write_back(self, request: WriteBackRequest, *, deadline: Deadline | None = None) -> WriteBackResponse:
        """Record the BigCommerce outcome on the refund (idempotent: it sets fields, so retrying is safe)."""
        return self._call("PUT", "writeBack", request, WriteBackResponse, deadline)

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _required_search_id(self) -> str:
        if not self._search_id:
            raise NetSuiteConfigurationError(
                "SEARCH_ID_MISSING",
                "set NETSUITE_SAVED_SEARCH_ID to the saved search's id (customsearch_...)",
            )
        return self._search_id

    def _call(
        self,
        http_method: str,
        action: str,
        request: WireModel,
        answer: type[ResponseT],
        deadline: Deadline | None,
    ) -> ResponseT:
        # Fields left empty are left out: a deployed script that predates an optional field (reasonCode,
        # whatToDo) would refuse it by name, and an absent field means the same as null to the script.
        body = request.model_dump_json(exclude_none=True).encode()
        retrying = Retrying(
            sleep=self._sleep,
            retry=retry_if_exception(_worth_retrying),
            wait=wait_random_exponential(
                multiplier=self._retry.initial_backoff_seconds, max=self._retry.max_backoff_seconds
            ),
            stop=lambda state: self._should_stop(state, deadline),
            before_sleep=lambda state: self._before_sleep(state, action),
            retry_error_callback=lambda state: self._give_up(state, action, deadline),
        )
        result: ResponseT = retrying(self._attempt, http_method, action, body, answer, deadline)
        return result

    def _attempt(
        self,
        http_method: str,
        action: str,
        body: bytes,
        answer: type[ResponseT],
        deadline: Deadline | None,
    ) -> ResponseT:
        read_timeout = self._timeout
        seconds_left: float | None = None
        if deadline is not None:
            seconds_left = deadline()
            if seconds_left < self._retry.min_attempt_seconds:
                raise NetSuiteDeadlineError(
                    "DEADLINE_EXCEEDED",
                    f"{action}: only {max(seconds_left, 0):.1f}s left, not calling NetSuite",
                )
            read_timeout = min(read_timeout, seconds_left)
        if not self._slots.acquire(timeout=seconds_left):
            raise NetSuiteDeadlineError(
                "DEADLINE_EXCEEDED", f"{action}: no free NetSuite slot before the deadline"
            )
        try:
            count(Metric.NETSUITE_CALLS)
            started = time.monotonic()
            response = self._session.request(
                http_method,
                self.url,
                params=self._query,
                data=body,
                headers=_JSON_HEADERS,
                timeout=(min(_CONNECT_TIMEOUT_SECONDS, read_timeout), read_timeout),
                allow_redirects=False,  # a POST redirected to another data centre would turn into a GET
            )
        except requests.Timeout as exc:
            raise NetSuiteTransientError(
                "TIMEOUT", f"{action}: no answer within {read_timeout:.1f}s"
            ) from exc
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
            raise NetSuiteTransientError(
                "CONNECTION_ERROR", f"{action}: connection failed ({type(exc).__name__})"
            ) from exc
        except requests.RequestException as exc:
            raise NetSuiteError("REQUEST_FAILED", f"{action}: {type(exc).__name__}: {exc}") from exc
        finally:
            self._slots.release()
        logger.debug(
            "NetSuite answered",
            extra={
                "action": action,
                "status": response.status_code,
                "elapsed_ms": round((time.monotonic() - started) * 1000),
            },
        )
        return self._read(response, action, answer)

    def _read(self, response: requests.Response, action: str, answer: type[ResponseT]) -> ResponseT:
        status = response.status_code
        error: _ErrorBody | None
        if status == 200:
            try:
                # Straight from the raw bytes: amounts are strings in the contract, parsed to Decimal.
                return answer.model_validate_json(response.content)
            except ValidationError as exc:
                error = _error_in(response.content)
                if error is None:
                    raise NetSuiteContractError(
                        "CONTRACT_VIOLATION",
                        f"{action}: the RESTlet's answer does not match contract v1 ({_summary(exc)}); "
                        "is the deployed script the version this code expects?",
                        status=status,
                    ) from None
        else:
            error = _error_in(response.content)
        if 300 <= status < 400:
            raise NetSuiteError(
                "REDIRECTED",
                f"{action}: NetSuite redirected the call to {response.headers.get('Location')!r}; "
                "check NETSUITE_ACCOUNT_ID (the host must be the account's data centre)",
                status=status,
            )
        if error is None:
            error = _ErrorBody(f"HTTP_{status}", response.reason or response.text[:200])
        if status == 401 or error.code in LOGIN_ERROR_CODES:
            detail = f"HTTP {status} {error.code}: {error.message}"
            raise NetSuiteAuthError(error.code, self.auth.login_failure_message(detail), status=status)
        if status == 429 or error.code == CONCURRENCY_LIMIT_CODE:
            count(Metric.NETSUITE_THROTTLES)
            raise NetSuiteThrottledError(error.code, f"{action}: {error.message}", status=status)
        if status >= 500:
            raise NetSuiteTransientError(error.code, f"{action}: {error.message}", status=status)
        message = error.message
        if error.code == USAGE_LIMIT_CODE:
            message += (
                " (the RESTlet used up its governance units: a script bug, since it should cut the page "
                "short and set truncatedByGovernance; meanwhile lower NETSUITE_PAGE_SIZE)"
            )
        if error.code == "CONFIGURATION_ERROR":
            # the RESTlet's deployment or the account's fields, not this call: fix the setup, then retry
            raise NetSuiteConfigurationError(
                error.code, f"{action}: {message}", status=status, details=error.details
            )
        raise NetSuiteError(error.code, f"{action}: {message}", status=status, details=error.details)

    def _should_stop(self, state: RetryCallState, deadline: Deadline | None) -> bool:
        if state.attempt_number >= self._retry.max_attempts:
            return True
        return deadline is not None and deadline() - state.upcoming_sleep < self._retry.min_attempt_seconds

    def _before_sleep(self, state: RetryCallState, action: str) -> None:
        count(Metric.NETSUITE_RETRIES)
        error = _failure(state)
        logger.warning(
            "NetSuite call failed; retrying",
            extra={
                "action": action,
                "attempt": state.attempt_number,
                "code": error.code,
                "status": error.status,
                "sleep_seconds": round(state.upcoming_sleep, 3),
            },
        )

    def _give_up(self, state: RetryCallState, action: str, deadline: Deadline | None) -> NoReturn:
        error = _failure(state)
        if state.attempt_number >= self._retry.max_attempts or deadline is None:
            logger.error(
                "NetSuite call failed; giving up",
                extra={"action": action, "attempts": state.attempt_number, "code": error.code},
            )
            raise error
        seconds_left = max(deadline(), 0.0)
        raise NetSuiteDeadlineError(
            "DEADLINE_EXCEEDED",
            f"{action}: stopped after {state.attempt_number} attempt(s) with {seconds_left:.1f}s left before "
            f"the deadline; last error {error.code}: {error.message}",
            status=error.status,
        ) from error


def _check_paging(request: PageRequest, page: PageResponse) -> None:
    """The poller moves its checkpoint to lastId and pages on while hasMore, so both must agree with the
    refunds and the request: a lastId behind the page would sweep the same refunds again, one past
    refunds it did not send would skip them, hasMore without progress would ask for the same page."""
    paging = page.paging
    after = int(request.after_id)
    ids = [int(refund.id) for refund in page.refunds]
    last = int(paging.last_id) if paging.last_id is not None else None
    problems = []
    if int(paging.after_id) != after:
        problems.append(f"afterId {paging.after_id} is not the {request.after_id} asked for")
    if paging.count != len(ids):
        problems.append(f"count {paging.count} but {len(ids)} refund(s)")
    if any(later <= earlier for earlier, later in zip([after, *ids], ids, strict=False)):
        problems.append(f"refund ids {ids[:10]} are not ascending after afterId {request.after_id}")
    if ids and (last is None or last < ids[-1]):
        problems.append(f"lastId {paging.last_id} is before the page's last refund {ids[-1]}")
    elif last is not None and last <= after:
        problems.append(f"lastId {paging.last_id} does not move past afterId {request.after_id}")
    if paging.has_more and last is None and not paging.truncated_by_governance:
        problems.append("hasMore without a lastId, and the page was not cut short for governance")
    if problems:
        raise NetSuiteContractError(
            "CONTRACT_VIOLATION",
            f"page: the RESTlet's paging contradicts itself ({'; '.join(problems)}); "
            "is the deployed script the version this code expects?",
            status=200,
        )


def _worth_retrying(error: BaseException) -> bool:
    # Out of time is final for this call, though the caller may try again on its next run.
    return isinstance(error, NetSuiteTransientError) and not isinstance(error, NetSuiteDeadlineError)


def _failure(state: RetryCallState) -> NetSuiteError:
    error = state.outcome.exception() if state.outcome is not None else None
    if not isinstance(error, NetSuiteError):
        raise RuntimeError("retry state without a NetSuite error") from error
    return error


def _error_in(content: bytes) -> _ErrorBody | None:
    """The error a body carries: the contract's ErrorResponse, NetSuite's, OAuth's or REST WS's shape."""
    try:
        contract_error = ErrorResponse.model_validate_json(content)
    except ValidationError:
        pass
    else:
        return _ErrorBody(
            contract_error.error.code, contract_error.error.message, contract_error.error.details
        )
    try:
        body = json.loads(content)
    except (ValueError, RecursionError):  # not JSON, or nested deeper than any error body
        return None
    if not isinstance(body, dict):
        return None
    error = body.get("error")
    if isinstance(error, dict):
        details = error.get("details")
        return _ErrorBody(
            str(error.get("code") or "UNKNOWN_ERROR"),
            str(error.get("message") or ""),
            details if isinstance(details, dict) else None,
        )
    if isinstance(error, str):
        return _ErrorBody(error, str(body.get("error_description") or ""))
    rest_details = body.get("o:errorDetails")
    if isinstance(rest_details, list) and rest_details and isinstance(rest_details[0], dict):
        first = rest_details[0]
        return _ErrorBody(str(first.get("o:errorCode") or "UNKNOWN_ERROR"), str(first.get("detail") or ""))
    return None


def _summary(exc: ValidationError, limit: int = 3) -> str:
    # Locations and reasons only: the input may hold customer data.
    errors = exc.errors(include_input=False, include_url=False)
    parts = [
        f"{'.'.join(str(part) for part in err['loc']) or '(root)'}: {err['msg']}" for err in errors[:limit]
    ]
    if len(errors) > limit:
        parts.append(f"{len(errors) - limit} more")
    return "; ".join(parts)


def netsuite_client_from_settings(
    settings: Settings | None = None,
    *,
    secret_max_age: int = SECRET_MAX_AGE_SECONDS,
    retry: RetryPolicy | None = None,
    sleep: Sleep = time.sleep,
    clock: Clock = time.time,
) -> NetSuiteClient:
    """A client for the configured account, signed as `settings.netsuite_auth_method` says."""
    settings = settings or get_settings()
    if not settings.netsuite_account_id.strip():
        raise NetSuiteConfigurationError(
            "ACCOUNT_ID_MISSING", "set NETSUITE_ACCOUNT_ID to the account id, e.g. 1234567 or 1234567_SB1"
        )
    credentials = load_credentials(settings, max_age=secret_max_age)
    return NetSuiteClient(settings, build_auth(settings, credentials, clock=clock), retry=retry, sleep=sleep)
