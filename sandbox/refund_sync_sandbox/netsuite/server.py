"""Serve a simulated account over HTTP on a daemon thread, the same way for the demo and the tests."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from refund_sync_sandbox.netsuite.account import NetSuiteAccount
from refund_sync_sandbox.netsuite.app import RESTLET_PATH, TOKEN_PATH, create_app

_POLL_INTERVAL_SECONDS = 0.05  # how soon stop() is noticed


class _QuietRequestHandler(WSGIRequestHandler):
    """No access log on stderr: the account's call log (/__sandbox/calls) records every call."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


@dataclass
class RunningServer:
    """A simulator listening at `url` until `stop()`."""

    url: str
    account: NetSuiteAccount
    _server: BaseWSGIServer = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    @property
    def restlet_url(self) -> str:
        return f"{self.url}{RESTLET_PATH}"

    @property
    def token_url(self) -> str:
        return f"{self.url}{TOKEN_PATH}"

    def environment(self) -> dict[str, str]:
        """The settings (environment variables) that point the adapter at this simulator."""
        return {
            "NETSUITE_ACCOUNT_ID": self.account.credentials.account_id,
            "NETSUITE_RESTLET_URL": self.restlet_url,
            "NETSUITE_TOKEN_URL": self.token_url,
            "NETSUITE_RESTLET_SCRIPT_ID": self.account.script_id,
            "NETSUITE_RESTLET_DEPLOY_ID": self.account.deploy_id,
            "NETSUITE_SAVED_SEARCH_ID": self.account.default_search_id,
        }

    def stop(self) -> None:
        self.account.wake()  # end injected delays so request threads finish
        self._server.shutdown()
        self._thread.join(timeout=5)
        self._server.server_close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def start_netsuite_server(
    account: NetSuiteAccount, *, host: str = "127.0.0.1", port: int = 0, log_requests: bool = False
) -> RunningServer:
    """Start serving `account` (port 0 picks a free port; see `.url`)."""
    handler = WSGIRequestHandler if log_requests else _QuietRequestHandler
    server = make_server(host, port, create_app(account), threaded=True, request_handler=handler)
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": _POLL_INTERVAL_SECONDS},
        name=f"netsuite-simulator-{server.server_port}",
        daemon=True,
    )
    thread.start()
    return RunningServer(f"http://{host}:{server.server_port}", account, server, thread)
