"""Serving a simulator over HTTP on a daemon thread: werkzeug's threaded server, quiet by default."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Self

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

POLL_INTERVAL_SECONDS = 0.05  # how soon stop() is noticed (werkzeug's default is half a second)


class QuietRequestHandler(WSGIRequestHandler):
    """No access log on stderr: each simulator keeps a call log of its own (/__sandbox/calls)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


@dataclass
class HttpServer:
    """A WSGI app listening at `url` until stop()."""

    url: str
    _server: BaseWSGIServer = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    def shutdown(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def serve(app: WSGIApplication, *, name: str, host: str, port: int, log_requests: bool) -> HttpServer:
    """Start `app` on a daemon thread; port 0 picks a free port."""
    handler = WSGIRequestHandler if log_requests else QuietRequestHandler
    server = make_server(host, port, app, threaded=True, request_handler=handler)
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": POLL_INTERVAL_SECONDS},
        name=f"{name}-{server.port}",
        daemon=True,
    )
    thread.start()
    return HttpServer(f"http://{host}:{server.port}", server, thread)


class StoppableServer:
    """Context-manager behaviour shared by the simulators' RunningServer classes."""

    def stop(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def run_until_interrupted(self) -> None:
        """Serve until Ctrl-C (the simulators' own command lines), then stop."""
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
