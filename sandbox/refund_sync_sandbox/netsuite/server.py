"""Serve a simulated account over HTTP on a daemon thread, the same way for the demo and the tests."""

from __future__ import annotations

from dataclasses import dataclass, field

from refund_sync_sandbox.http_server import HttpServer, StoppableServer, serve
from refund_sync_sandbox.netsuite.account import NetSuiteAccount
from refund_sync_sandbox.netsuite.app import RESTLET_PATH, TOKEN_PATH, create_app


@dataclass
class RunningServer(StoppableServer):
    """A simulator listening at `url` until `stop()`."""

    url: str
    account: NetSuiteAccount
    _http: HttpServer = field(repr=False)

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
        self._http.shutdown()


def start_netsuite_server(
    account: NetSuiteAccount, *, host: str = "127.0.0.1", port: int = 0, log_requests: bool = False
) -> RunningServer:
    """Start serving `account` (port 0 picks a free port; see `.url`)."""
    http = serve(
        create_app(account), name="netsuite-simulator", host=host, port=port, log_requests=log_requests
    )
    return RunningServer(http.url, account, http)
