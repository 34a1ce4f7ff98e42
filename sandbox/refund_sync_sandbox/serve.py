"""`make sandbox`: the sandbox kept running, for rehearsing with the refund-sync CLI.

Starts AWS on moto and the two simulators, seeds the demo's orders and refunds, runs the poller and the
consumer once (so there is a story to look at), and writes `.sandbox/outputs.json`: the stack outputs
a deployed refund-sync has (queue URLs and ARNs, table, functions, secrets), plus how to reach this
sandbox. `refund-sync ... --sandbox` reads that file and invokes the operator function through the
sandbox's Lambda Invoke API, as it would a stack's. While it runs, the refund queue is fed to the
consumer as the SQS event source would (every second), so a refund put back for a retry comes back.
Nothing runs on a schedule: `refund-sync sync` sends refunds on demand.
"""

from __future__ import annotations

import json
import sys
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from refund_sync.adapters.state_store import StateStore
from refund_sync_sandbox.aws import REGION
from refund_sync_sandbox.lambda_runtime import function_logs_to
from refund_sync_sandbox.netsuite import SandboxCredentials
from refund_sync_sandbox.sandbox import (
    CONSUMER_FUNCTION_NAME,
    OPERATOR_FUNCTION_NAME,
    PAYOUT_CHECK_FUNCTION_NAME,
    POLLER_FUNCTION_NAME,
    Sandbox,
    running_sandbox,
)
from refund_sync_sandbox.scenarios import DEMO_SETTINGS, scenarios, seed

OUTPUTS_FILE = Path(".sandbox/outputs.json")
EVENT_SOURCE_INTERVAL_SECONDS = 1.0


def _queue_arn(sandbox: Sandbox, queue_url: str) -> str:
    attributes = sandbox.aws.sqs().get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    return attributes["Attributes"]["QueueArn"]


def sandbox_outputs(sandbox: Sandbox) -> dict[str, Any]:
    """The stack's outputs (template.yaml's keys), plus the endpoint, credentials and environment."""
    aws = sandbox.aws
    environment = sandbox.environment()
    return {
        "RefundQueueUrl": aws.refund_queue_url,
        "RefundQueueArn": _queue_arn(sandbox, aws.refund_queue_url),
        "DeadLetterQueueUrl": aws.dead_letter_queue_url,
        "DeadLetterQueueArn": _queue_arn(sandbox, aws.dead_letter_queue_url),
        "StateTableName": aws.table_name,
        "PollerFunctionName": POLLER_FUNCTION_NAME,
        "ConsumerFunctionName": CONSUMER_FUNCTION_NAME,
        "PayoutCheckFunctionName": PAYOUT_CHECK_FUNCTION_NAME,
        "OperatorFunctionName": OPERATOR_FUNCTION_NAME,
        "NetSuiteSecretName": aws.netsuite_secret_name,
        "BigCommerceSecretName": aws.bigcommerce_secret_name,
        "AwsEndpointUrl": aws.endpoint_url,
        "LambdaEndpointUrl": sandbox.lambda_url,
        "AwsRegion": REGION,
        "AwsAccessKeyId": environment["AWS_ACCESS_KEY_ID"],
        "AwsSecretAccessKey": environment["AWS_SECRET_ACCESS_KEY"],
        "NetSuiteUrl": sandbox.netsuite.url,
        "BigCommerceUrl": sandbox.bigcommerce.url,
        "Environment": environment,
    }


def write_outputs(sandbox: Sandbox, path: Path) -> dict[str, Any]:
    outputs = sandbox_outputs(sandbox)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(outputs, indent=2) + "\n", encoding="utf-8")
    return outputs


def _counts(sandbox: Sandbox) -> Counter[str]:
    with sandbox.active():
        counts = StateStore(sandbox.aws.table_name).count_by_status()
    return Counter({status.value: number for status, number in counts.items() if number})


def usage(sandbox: Sandbox, path: Path, seeded: list[str], counts: Counter[str]) -> str:
    flag = "--sandbox" if path == OUTPUTS_FILE else f"--sandbox-file {path}"
    lines = [
        "refund-sync sandbox: running until Ctrl-C",
        f"  AWS (moto)             {sandbox.aws.endpoint_url}  (region {REGION}, access key 'sandbox')",
        f"  NetSuite simulator     {sandbox.netsuite.url}  (control API {sandbox.netsuite.url}/__sandbox/)",
        f"  BigCommerce simulator  {sandbox.bigcommerce.api_url}  (control API "
        f"{sandbox.bigcommerce.url}/__sandbox/)",
        f"  For the CLI            {path}",
    ]
    if seeded:
        lines.append(f"Seeded {len(seeded)} demo refunds in NetSuite: {', '.join(seeded)}.")
    if counts:
        summary = ", ".join(f"{number} {status}" for status, number in counts.most_common())
        lines.append(f"The poller and the consumer ran once: {summary}.")
    lines += [
        "",
        "Try (in another terminal, from this folder):",
        f"  refund-sync status {flag}",
        f"  refund-sync failures {flag}",
        f"  refund-sync show CR-5013 {flag}",
        f"  refund-sync preview CM-5008 {flag}",
        f"  refund-sync redrive {flag}",
        f"  refund-sync resolve CM-5008 --refunded-by-hand {flag}",
        "Settle order 5013's card payment, then sync its refund again:",
        f"  curl -X PATCH {sandbox.bigcommerce.url}/__sandbox/orders/5013/tenders/braintree "
        "-H 'Content-Type: application/json' -d '{\"settled\": true}'",
        f"  refund-sync sync CR-5013 {flag}",
        f"Function logs: {path.with_name('cli-logs.jsonl')} (CLI runs), "
        f"{path.with_name('sandbox-logs.jsonl')} (this start).",
    ]
    return "\n".join(lines)


def feed_the_consumer(sandbox: Sandbox, stop: threading.Event) -> threading.Thread:
    """The SQS event source of a deployed consumer: the refund queue, handed over while messages come."""

    def run() -> None:
        while not stop.wait(EVENT_SOURCE_INTERVAL_SECONDS):
            sandbox.drain()

    thread = threading.Thread(target=run, name="sandbox-event-source", daemon=True)
    thread.start()
    return thread


def serve(
    path: Path = OUTPUTS_FILE,
    *,
    demo: bool = True,
    sync: bool = True,
    stop: threading.Event | None = None,
    ready: Callable[[Sandbox], None] | None = None,
    out: TextIO = sys.stdout,
    aws_endpoint: str | None = None,
    credentials: SandboxCredentials | None = None,
) -> None:
    """Run the sandbox until `stop` is set (or Ctrl-C); the outputs file exists exactly while it runs.

    `aws_endpoint` and `credentials`: a running moto server and NetSuite keys to reuse, as tests do."""
    stop = stop or threading.Event()
    with running_sandbox(
        settings=DEMO_SETTINGS, aws_endpoint=aws_endpoint, credentials=credentials
    ) as sandbox:
        seeded: list[str] = []
        if demo:
            by_id = seed(sandbox.account, sandbox.store.seed, scenarios())
            seeded = [sandbox.account.refund(netsuite_id).tran_id for netsuite_id in by_id]
        counts: Counter[str] = Counter()
        if sync:
            with function_logs_to(path.with_name("sandbox-logs.jsonl")):
                sandbox.run_poller()
                sandbox.drain()
                sandbox.run_payout_check()
            counts = _counts(sandbox)
        sandbox.function_log = path.with_name("cli-logs.jsonl")
        write_outputs(sandbox, path)
        event_source = feed_the_consumer(sandbox, stop)
        try:
            print(usage(sandbox, path, seeded, counts), file=out, flush=True)
            if ready is not None:
                ready(sandbox)
            stop.wait()
        except KeyboardInterrupt:
            pass
        finally:
            path.unlink(missing_ok=True)
            stop.set()
            event_source.join(timeout=30)
