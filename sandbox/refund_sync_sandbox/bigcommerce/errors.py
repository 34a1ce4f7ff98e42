"""Errors the simulated store raises; the HTTP layer renders each in the shape its endpoint uses."""

from __future__ import annotations

STATUS_CODES_URL = "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes"


class StoreError(Exception):
    status = 400

    def __init__(self, title: str, errors: dict[str, str] | None = None) -> None:
        super().__init__(title)
        self.title = title
        self.errors = dict(errors or {})


class BadRequest(StoreError):
    status = 400


class NotFound(StoreError):
    status = 404


class Conflict(StoreError):
    status = 409


class Unprocessable(StoreError):
    """A refund request BigCommerce would refuse (422)."""

    status = 422

    @classmethod
    def at(cls, field: str, message: str) -> Unprocessable:
        return cls(message, {field: message})


class GatewayTimeout(StoreError):
    """The answer a client that waited too long would get (504), had it still been listening."""

    status = 504
