"""What can go wrong when talking to NetSuite, as exceptions a caller can act on.

Every failure of the adapter is a `NetSuiteError` carrying NetSuite's (or the RESTlet's) error code
and message, so the poller can log one clear line and decide: retry later (`NetSuiteTransientError`),
fix configuration (`NetSuiteAuthError`, `NetSuiteConfigurationError`), or fix a script
(everything else).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class NetSuiteError(Exception):
    """NetSuite or the RESTlet refused or failed a call."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.details = dict(details) if details else None


class NetSuiteTransientError(NetSuiteError):
    """Worth retrying later: throttling, a 5xx, a timeout or a dropped connection."""


class NetSuiteThrottledError(NetSuiteTransientError):
    """Over the account's concurrency limit (HTTP 400 SSS_REQUEST_LIMIT_EXCEEDED) or HTTP 429."""


class NetSuiteDeadlineError(NetSuiteTransientError):
    """No time left to (re)try within the caller's deadline; the call can be repeated later."""


class NetSuiteAuthError(NetSuiteError):
    """NetSuite rejected the login (INVALID_LOGIN_ATTEMPT); the message lists what to check."""


class NetSuiteConfigurationError(NetSuiteError):
    """The settings or the secret cannot work, before any call is made."""


class NetSuiteCredentialsError(NetSuiteConfigurationError):
    """The Secrets Manager secret is missing, unreadable or lacks a field (values are never shown)."""


class NetSuiteContractError(NetSuiteError):
    """The RESTlet answered with a body that does not match the contract (wrong script version?)."""
