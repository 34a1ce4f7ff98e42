"""Serve the simulated store over HTTP on a daemon thread (werkzeug's threaded server)."""

from __future__ import annotations

from dataclasses import dataclass, field

from refund_sync_sandbox.bigcommerce.app import create_app
from refund_sync_sandbox.bigcommerce.store import BigCommerceStore
from refund_sync_sandbox.http_server import HttpServer, StoppableServer, serve

DEFAULT_ACCESS_TOKEN = "sandbox-access-token"  # nosec B105 # the simulator's own made-up token
DEFAULT_STORE_HASH = "sandbox"


@dataclass
class RunningServer(StoppableServer):
    """A simulator listening on `url` (e.g. http://127.0.0.1:51234); call stop() when done."""

    url: str
    store: BigCommerceStore
    access_token: str
    store_hash: str
    _http: HttpServer = field(repr=False)

    @property
    def api_url(self) -> str:
        """The store's API root: append /v2/... or /v3/..."""
        return f"{self.url}/stores/{self.store_hash}"

    def stop(self) -> None:
        # A stalled response would otherwise keep a request thread busy for its whole stall.
        self.store.release_stalls()
        self._http.shutdown()


def start_bigcommerce_server(
    store: BigCommerceStore,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    access_token: str = DEFAULT_ACCESS_TOKEN,
    store_hash: str = DEFAULT_STORE_HASH,
    log_requests: bool = False,
) -> RunningServer:
    """Start the simulator for `store`; port 0 picks a free port (see RunningServer.url)."""
    app = create_app(store, access_token=access_token, store_hash=store_hash)
    http = serve(app, name="bigcommerce-simulator", host=host, port=port, log_requests=log_requests)
    return RunningServer(http.url, store, access_token, store_hash, http)
