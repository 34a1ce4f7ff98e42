"""The BigCommerce simulator answering in-process, and virtual time for the throughput run.

- `WsgiAdapter` is a requests transport that hands each request straight to the simulator's Flask app
  (werkzeug's test client): no socket, no server thread, and the time spent answering is measurable.
- `VirtualWorkers` runs several consumers (Lambda instances) on threads, one at a time, always the one
  furthest behind in virtual time: a conservative discrete-event simulation. A BigCommerce call costs
  its modelled latency in virtual time, a pause of the client's rate limiter costs its length, and the
  simulator's quota window runs on the same clock, so an hour of backlog plays out in seconds.
"""

from __future__ import annotations

import cProfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from unittest import mock
from urllib.parse import urlsplit

from botocore.awsrequest import AWSPreparedRequest
from moto.core.botocore_stubber import BotocoreStubber
from requests import PreparedRequest, Response
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from werkzeug.test import Client

from refund_sync_sandbox.bigcommerce import ManualClock

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication


class SimulatorMeter:
    """Process CPU time spent on the simulators' side of calls (the Flask app, moto's backends), so it
    can be told apart from ours; a profiler, if given, is paused meanwhile."""

    def __init__(self, profiler: cProfile.Profile | None = None) -> None:
        self.profiler = profiler
        self.seconds = 0.0

    @contextmanager
    def answering(self) -> Iterator[None]:
        if self.profiler is not None:
            self.profiler.disable()
        started = time.process_time()
        try:
            yield
        finally:
            self.seconds += time.process_time() - started
            if self.profiler is not None:
                self.profiler.enable()

    @contextmanager
    def metering_moto(self) -> Iterator[None]:
        """Count moto's in-process answers (mock_aws) as simulator time too."""
        answer = BotocoreStubber.__call__

        def metered(
            stubber: BotocoreStubber, event_name: str, request: AWSPreparedRequest, **kwargs: Any
        ) -> Any:
            with self.answering():
                return answer(stubber, event_name, request, **kwargs)

        with mock.patch.object(BotocoreStubber, "__call__", metered):
            yield


class WsgiAdapter(BaseAdapter):
    """Sends requests to a WSGI app in this process. `after_call` runs once each answer is in."""

    def __init__(
        self,
        app: WSGIApplication,
        *,
        meter: SimulatorMeter | None = None,
        after_call: Callable[[], None] | None = None,
    ) -> None:
        super().__init__()
        self._client = Client(app)
        self._after_call = after_call
        self.meter = meter or SimulatorMeter()
        self.calls = 0

    def send(  # noqa: PLR0917 - requests' own signature
        self,
        request: PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float, float] | tuple[float, None] | None = None,
        verify: bool | str = True,
        cert: bytes | str | tuple[bytes | str, bytes | str] | None = None,
        proxies: Mapping[str, str] | None = None,
    ) -> Response:
        url = urlsplit(request.url or "")
        with self.meter.answering():
            answer = self._client.open(
                url.path,
                method=request.method or "GET",
                query_string=url.query,
                headers=list(request.headers.items()),
                data=request.body,
            )
            body = answer.get_data()
            status, headers = answer.status_code, dict(answer.headers)
        self.calls += 1
        response = Response()
        response.status_code = status
        response.reason = HTTPStatus(status).phrase
        response.headers = CaseInsensitiveDict(headers)
        response._content = body
        response.encoding = "utf-8"
        response.url = request.url or ""
        response.request = request
        if self._after_call is not None:
            self._after_call()
        return response

    def close(self) -> None:
        """Nothing to release: no connections were opened."""


class VirtualWorkers:
    """Runs `work` callables as workers in virtual time, sharing one ManualClock.

    Only one worker runs at a time; `advance(seconds)` moves the calling worker's time on and hands
    the turn to whichever worker is now furthest behind (ties: the lower index), so every event
    happens in time order whatever the threads do. The shared clock always shows the running
    worker's time.
    """

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self._condition = threading.Condition()
        self._times: dict[int, float] = {}
        self._local = threading.local()

    def advance(self, seconds: float) -> None:
        with self._condition:
            me: int = self._local.index
            self._times[me] += seconds
            self._condition.notify_all()
            self._wait_for_turn(me)

    def run(self, work: Sequence[Callable[[], None]]) -> float:
        """Run every worker to the end; returns the virtual seconds until the last one finished."""
        start = self.clock()
        finished: list[float] = []
        errors: list[BaseException] = []
        with self._condition:
            self._times = dict.fromkeys(range(len(work)), start)

        def run_worker(index: int, job: Callable[[], None]) -> None:
            self._local.index = index
            try:
                with self._condition:
                    self._wait_for_turn(index)
                job()
            except BaseException as error:  # reported by run(), after every worker stopped
                errors.append(error)
            finally:
                with self._condition:
                    finished.append(self._times.pop(index))
                    self._condition.notify_all()

        threads = [
            threading.Thread(
                target=run_worker, args=(index, job), name=f"virtual-worker-{index}", daemon=True
            )
            for index, job in enumerate(work)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]
        return max(finished, default=start) - start

    def _wait_for_turn(self, me: int) -> None:
        self._condition.wait_for(lambda: min(self._times, key=lambda i: (self._times[i], i)) == me)
        behind = self._times[me] - self.clock()
        if behind > 0:
            self.clock.advance(behind)
