"""Each function as Lambda holds it, from the `sam build` output, on the runtime's Python.

Given a function's built code and layers laid out as Lambda extracts them (tests/packaging/layout.py),
with the runtime's own AWS SDK beside them and nothing of this machine's virtualenvs in sight, a fresh
CPython 3.13 imports the handler and handles a sample event from events/ against the sandbox (moto and
the NetSuite and BigCommerce simulators, over HTTP). So a module missing from a layer, a wrong path, a
layer a function lacks, a stale or unusable .pyc, or a 3.13-only failure shows up here, not on Lambda.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from refund_sync.adapters.state_store import StateStore
from refund_sync.domain.netsuite import NetSuiteRefund
from refund_sync.domain.state import SyncStatus
from refund_sync_sandbox.aws import load_template
from refund_sync_sandbox.sandbox import Sandbox
from refund_sync_sandbox.scenarios import scenarios, seed
from tests.packaging.layout import (
    BUILT_CACHE_TAG,
    EVENTS,
    ROOT,
    BuiltTemplate,
    FunctionLayout,
    Interpreter,
    current_build,
    lambda_python,
    lay_out,
    pyc_flags,
    runtime_libraries,
)

FUNCTIONS = [
    name
    for name, resource in load_template()["Resources"].items()
    if resource["Type"] == "AWS::Serverless::Function"
]
RUNTIME_SDK = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3")
NETSUITE_AUTH = ("cryptography", "jwt", "requests_oauthlib", "oauthlib")
TRACE_ROOT = "1-67a1b2c3-0123456789abcdef01234567"
UNCHECKED_HASH = 0b01  # PEP 552: hash-based, source not checked

LayoutFactory = Callable[..., FunctionLayout]


def event(name: str) -> Any:
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))


def trace_header(*, sampled: bool) -> dict[str, str]:
    return {"_X_AMZN_TRACE_ID": f"Root={TRACE_ROOT};Parent=53995c3f42cd8ad8;Sampled={int(sampled)}"}


@pytest.fixture(scope="module")
def interpreter() -> Interpreter:
    found = lambda_python()
    if not found.is_lambda_version:
        warnings.warn(
            f"No Python 3.13 (the Lambda runtime's) on this machine: the functions run on {found.version} "
            "here, which compiles every module (the layers' bytecode is 3.13's). Install 3.13 (pyenv).",
            stacklevel=1,
        )
    return found


@pytest.fixture(scope="module")
def template() -> BuiltTemplate:
    return BuiltTemplate.load(current_build())


@pytest.fixture(scope="module")
def layouts(
    template: BuiltTemplate, interpreter: Interpreter, tmp_path_factory: pytest.TempPathFactory
) -> LayoutFactory:
    """Each function laid out once per set of template parameters, for the whole module."""
    root = tmp_path_factory.mktemp("lambda")
    runtime = runtime_libraries(ROOT / ".aws-sam" / "layout-cache", interpreter)
    made: dict[tuple[str, tuple[tuple[str, str], ...]], FunctionLayout] = {}

    def layout(function: str, **parameters: str) -> FunctionLayout:
        key = (function, tuple(sorted(parameters.items())))
        if key not in made:
            folder = root / f"{function}-{len(made)}"
            made[key] = lay_out(
                template, function, folder, runtime=runtime, interpreter=interpreter, parameters=parameters
            )
        return made[key]

    return layout


def outside_the_layout(layout: FunctionLayout, modules: dict[str, str | None]) -> dict[str, str]:
    """Modules that came from anywhere but the function, its layers, the runtime or the stdlib."""
    allowed = [str(layout.root), str(layout.runtime), str(Path(layout.interpreter.path).resolve().parents[1])]
    return {
        name: path
        for name, path in modules.items()
        if path is not None
        and name not in {"__main__", "__mp_main__"}  # lambda_process.py itself, the runtime's bootstrap here
        and not any(path.startswith(prefix) for prefix in allowed)
    }


# -- the package --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("function", FUNCTIONS)
def test_each_function_imports_from_its_own_layout_using_the_bytecode_it_ships(
    layouts: LayoutFactory, interpreter: Interpreter, function: str
) -> None:
    # Given the function laid out from the build, when a fresh interpreter imports its handler
    layout = layouts(function)
    cold_start = layout.invoke()
    # Then every module came from the function, its layers, the runtime or the standard library
    assert outside_the_layout(layout, cold_start.modules) == {}
    assert cold_start.modules[layout.module] is not None
    # and, on the runtime's Python, not one module was compiled: the .pyc files shipped were used
    # although every source is newer than its .pyc here (as after Lambda extracts the zip)
    if interpreter.is_lambda_version:
        assert cold_start.compiled == []


@pytest.mark.parametrize("function", FUNCTIONS)
def test_no_function_carries_the_aws_sdk_it_takes_from_the_runtime(
    layouts: LayoutFactory, function: str
) -> None:
    layout = layouts(function)
    assert [name for name in RUNTIME_SDK if layout.importable(name)] == []
    cold_start = layout.invoke()
    assert str(cold_start.modules["botocore"]).startswith(str(layout.runtime))


def test_only_the_functions_that_call_netsuite_carry_its_authentication_stack(
    layouts: LayoutFactory,
) -> None:
    def carried(function: str, **parameters: str) -> list[str]:
        return [name for name in NETSUITE_AUTH if layouts(function, **parameters).importable(name)]

    assert carried("PollerFunction") == list(NETSUITE_AUTH)
    assert carried("ConsumerFunction") == []
    assert carried("ConsumerFunction", WriteBackToNetSuite="true") == list(NETSUITE_AUTH)
    assert carried("PayoutCheckFunction") == []


def test_every_module_built_carries_3_13_bytecode_that_is_used_without_checking_its_source(
    template: BuiltTemplate, interpreter: Interpreter
) -> None:
    if not interpreter.is_lambda_version:
        pytest.skip("no Python 3.13 on this machine, so the build compiled no bytecode (make warned)")
    folders = {name: template.code_dir(name) for name in template.functions()}
    folders |= {
        name: template.layer_dir(name)
        for name, resource in template.resources.items()
        if resource["Type"] == "AWS::Serverless::LayerVersion"
    }
    missing: dict[str, int] = {}
    checked: dict[str, int] = {}
    sources = 0
    for name, folder in folders.items():
        for source in folder.rglob("*.py"):
            sources += 1
            cached = source.parent / "__pycache__" / f"{source.stem}.{BUILT_CACHE_TAG}.pyc"
            if not cached.exists():
                missing[name] = missing.get(name, 0) + 1
            elif pyc_flags(cached) != UNCHECKED_HASH:
                checked[name] = checked.get(name, 0) + 1
    assert sources > 500
    # A function without bytecode lacks `Metadata: {BuildMethod: makefile, ContextPath: functions/}`.
    assert missing == {}, f"modules without bytecode, by function or layer: {missing}"
    assert checked == {}, f"pycs that check their source (not unchecked-hash): {checked}"


# -- the sample events --------------------------------------------------------------------------------------
def seeded_order_5001(sandbox: Sandbox) -> None:
    """BigCommerce order 5001 as events/sqs-batch.json's refund (CM-1042) expects it."""
    full_refund = scenarios()[0]
    assert full_refund.order is not None and full_refund.order.id == 5001
    sandbox.store.seed([full_refund.order])


def sample_refund() -> NetSuiteRefund:
    (record,) = event("sqs-batch.json")["Records"]
    return NetSuiteRefund.model_validate(json.loads(record["body"])["refund"])


def state_of(sandbox: Sandbox, netsuite_id: str) -> SyncStatus | None:
    with sandbox.active():
        found = StateStore(sandbox.aws.table_name).get(netsuite_id)
    return found.status if found else None


def test_the_consumer_syncs_the_sample_batch_without_netsuite_s_authentication_stack(
    sandbox: Sandbox, layouts: LayoutFactory
) -> None:
    # Given BigCommerce's order 5001 and the consumer as deployed without write-back
    seeded_order_5001(sandbox)
    layout = layouts("ConsumerFunction")
    # When it handles events/sqs-batch.json (credit memo CM-1042, a full refund of order 5001)
    handled = layout.invoke(event("sqs-batch.json"), environment=sandbox.environment())
    # Then the refund is created once in BigCommerce, recorded as synced, and nothing failed
    assert handled.response == {"batchItemFailures": []}
    assert len(sandbox.store.refunds_for_order(5001)) == 1
    assert state_of(sandbox, "1042") is SyncStatus.SYNCED
    assert [name for name in NETSUITE_AUTH if name in handled.modules] == []


def test_the_consumer_writes_back_to_netsuite_with_the_layer_write_back_brings(
    sandbox: Sandbox, layouts: LayoutFactory
) -> None:
    # Given the stack deployed with WriteBackToNetSuite=true, and the credit memo in NetSuite
    seeded_order_5001(sandbox)
    sandbox.account.add_refund(sample_refund())
    layout = layouts("ConsumerFunction", WriteBackToNetSuite="true")
    # When the consumer handles the sample batch
    handled = layout.invoke(
        event("sqs-batch.json"), environment={**sandbox.environment(), "NETSUITE_WRITE_BACK": "true"}
    )
    # Then the NetSuite refund carries the BigCommerce outcome
    assert handled.response == {"batchItemFailures": []}
    written = sandbox.account.sync_fields("1042")
    assert written is not None and written.status == "SYNCED"


def test_the_poller_pages_the_saved_search_on_the_scheduled_event(
    sandbox: Sandbox, layouts: LayoutFactory
) -> None:
    # Given a refund in the saved search
    seed(sandbox.account, sandbox.store.seed, [scenarios()[0]])
    # When the poller handles events/schedule.json
    handled = layouts("PollerFunction").invoke(event("schedule.json"), environment=sandbox.environment())
    # Then the refund is in the queue
    assert handled.response["enqueued"] == 1
    attributes = sandbox.aws.sqs().get_queue_attributes(
        QueueUrl=sandbox.aws.refund_queue_url, AttributeNames=["ApproximateNumberOfMessages"]
    )
    assert attributes["Attributes"]["ApproximateNumberOfMessages"] == "1"


def test_the_poller_syncs_named_refunds_on_demand(sandbox: Sandbox, layouts: LayoutFactory) -> None:
    # Given credit memo 1042 in NetSuite
    sandbox.account.add_refund(sample_refund())
    # When the poller handles events/on-demand.json (it names 1042, CM-1043 and order 5001)
    handled = layouts("PollerFunction").invoke(event("on-demand.json"), environment=sandbox.environment())
    # Then 1042 is sent, and what NetSuite does not have is named as not found
    assert [sent["netsuite_id"] for sent in handled.response["enqueued"]] == ["1042"]
    assert handled.response["not_found"] != []


def test_the_payout_check_confirms_the_payout_of_a_synced_refund(
    sandbox: Sandbox, layouts: LayoutFactory
) -> None:
    # Given the sample refund synced by the consumer
    seeded_order_5001(sandbox)
    layouts("ConsumerFunction").invoke(event("sqs-batch.json"), environment=sandbox.environment())
    # When the payout check handles its scheduled event
    handled = layouts("PayoutCheckFunction").invoke(
        event("payout-check.json"), environment=sandbox.environment()
    )
    # Then it looked the refund up and found it paid out
    assert handled.response["checked"] == 1
    assert handled.response["confirmed"] == 1


# -- tracing ------------------------------------------------------------------------------------------------
@dataclass
class XRayDaemon:
    """Where the X-Ray SDK sends segments (AWS_XRAY_DAEMON_ADDRESS): a UDP listener on loopback."""

    address: str
    documents: list[dict[str, Any]] = field(default_factory=list)

    def segments_of(self, trace_id: str) -> list[dict[str, Any]]:
        """Every (sub)segment of the trace, nested ones included."""
        found: list[dict[str, Any]] = []
        pending = [d for d in self.documents if d.get("trace_id") == trace_id]
        while pending:
            document = pending.pop()
            found.append(document)
            pending += document.get("subsegments", [])
        return found


@pytest.fixture
def xray_daemon() -> Iterator[XRayDaemon]:
    listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listener.bind(("127.0.0.1", 0))
    listener.settimeout(0.2)
    daemon = XRayDaemon(f"127.0.0.1:{listener.getsockname()[1]}")
    stop = threading.Event()

    def receive() -> None:
        while not stop.is_set():
            try:
                datagram = listener.recv(65536)
            except TimeoutError:
                continue
            _, _, document = datagram.decode().partition("\n")  # a JSON header line, then the segment
            daemon.documents.append(json.loads(document))

    thread = threading.Thread(target=receive, daemon=True)
    thread.start()
    try:
        yield daemon
    finally:
        stop.set()
        thread.join()
        listener.close()


def traced_run(
    sandbox: Sandbox, layout: FunctionLayout, name: str, daemon: XRayDaemon, *, sampled: bool
) -> tuple[Any, list[dict[str, Any]]]:
    environment = {**sandbox.environment(), **trace_header(sampled=sampled)}
    environment["AWS_XRAY_DAEMON_ADDRESS"] = daemon.address
    handled = layout.invoke(event(name), environment=environment)
    # The SDK sends each subsegment as it closes (Powertools turns batching off), before the handler
    # returns; the listener may still be reading the last datagrams.
    deadline = time.monotonic() + 2
    while sampled and not any(s["name"] == "## lambda_handler" for s in daemon.segments_of(TRACE_ROOT)):
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)
    return handled, daemon.segments_of(TRACE_ROOT)


def test_a_sampled_consumer_invocation_traces_the_handler_and_every_aws_and_bigcommerce_call(
    sandbox: Sandbox, layouts: LayoutFactory, xray_daemon: XRayDaemon
) -> None:
    seeded_order_5001(sandbox)
    handled, segments = traced_run(
        sandbox, layouts("ConsumerFunction"), "sqs-batch.json", xray_daemon, sampled=True
    )
    assert handled.response == {"batchItemFailures": []}
    handler = [s for s in segments if s["name"] == "## lambda_handler"]
    assert len(handler) == 1
    assert handler[0]["annotations"]["ColdStart"] is True
    aws_calls = {(s["name"], s["aws"]["operation"]) for s in segments if s.get("namespace") == "aws"}
    assert {("dynamodb", "PutItem"), ("secretsmanager", "GetSecretValue")} <= aws_calls
    bigcommerce = [s["http"]["request"]["url"] for s in segments if s.get("namespace") == "remote"]
    assert any("/v3/orders/5001/payment_actions/refunds" in url for url in bigcommerce)


def test_a_sampled_poller_invocation_traces_its_netsuite_and_sqs_calls(
    sandbox: Sandbox, layouts: LayoutFactory, xray_daemon: XRayDaemon
) -> None:
    seed(sandbox.account, sandbox.store.seed, [scenarios()[0]])
    _, segments = traced_run(sandbox, layouts("PollerFunction"), "schedule.json", xray_daemon, sampled=True)
    netsuite = [s["http"]["request"]["url"] for s in segments if s.get("namespace") == "remote"]
    assert any(sandbox.netsuite.restlet_url.split("?")[0] in url for url in netsuite)
    assert ("sqs", "SendMessageBatch") in {
        (s["name"], s["aws"]["operation"]) for s in segments if s.get("namespace") == "aws"
    }


def test_an_unsampled_invocation_does_not_load_the_x_ray_sdk(
    sandbox: Sandbox, layouts: LayoutFactory, xray_daemon: XRayDaemon
) -> None:
    seeded_order_5001(sandbox)
    handled, segments = traced_run(
        sandbox, layouts("ConsumerFunction"), "sqs-batch.json", xray_daemon, sampled=False
    )
    assert handled.response == {"batchItemFailures": []}
    assert "aws_xray_sdk" not in handled.modules
    assert segments == []
