"""Serve the simulated store over HTTP on a daemon thread (werkzeug's threaded server)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from types import TracebackType

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from refund_sync_sandbox.bigcommerce.app import create_app
from refund_sync_sandbox.bigcommerce.store import BigCommerceStore

DEFAULT_ACCESS_TOKEN = "sandbox-access-token"
DEFAULT_STORE_HASH = "sandbox"
_SHUTDOWN_POLL_SECONDS = 0.05  # how often serve_forever checks for stop(): keeps stop() quick


class _QuietRequestHandler(WSGIRequestHandler):
    """No access log on stderr: the store's call log (/__sandbox/calls) records every API call."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


@dataclass
class RunningServer:
    """A simulator listening on `url` (e.g. http://127.0.0.1:51234); call stop() when done."""

    url: str
    store: BigCommerceStore
    access_token: str
    store_hash: str
    _server: BaseWSGIServer = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    @property
    def api_url(self) -> str:
        """The store's API root: append /v2/... or /v3/..."""
        return f"{self.url}/stores/{self.store_hash}"

    def stop(self) -> None:
        # A stalled response would otherwise keep a request thread busy for its whole stall.
        self.store.release_stalls()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()


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
    handler = WSGIRequestHandler if log_requests else _QuietRequestHandler
    server = make_server(host, port, app, threaded=True, request_handler=handler)
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": _SHUTDOWN_POLL_SECONDS},
        name=f"bigcommerce-sim-{server.port}",
        daemon=True,
    )
    thread.start()
    return RunningServer(
        url=f"http://{host}:{server.port}",
        store=store,
        access_token=access_token,
        store_hash=store_hash,
        _server=server,
        _thread=thread,
    )
