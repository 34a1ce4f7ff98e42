"""AWS for the sandbox: moto in server mode, with the stack's queues, table and secrets.

boto3 speaks HTTP to moto exactly as to AWS (AWS_ENDPOINT_URL). The queues and the table are created
from template.yaml's own resource definitions, so the sandbox cannot drift from what is deployed.
"""

from __future__ import annotations

import functools
import json
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from unittest import mock

import boto3
import moto.sqs.models as moto_sqs
import requests
import yaml
from moto.core.utils import camelcase_to_underscores
from moto.server import ThreadedMotoServer

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager.client import SecretsManagerClient
    from mypy_boto3_sqs.client import SQSClient

REGION = "us-east-1"
STACK = "refund-sync-sandbox"
MOTO_CREDENTIAL = "sandbox"  # moto accepts any access key and secret; the sandbox never reaches AWS
TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"


class _CloudFormationLoader(yaml.SafeLoader):
    """Reads template.yaml, keeping intrinsic functions (!Ref, !Sub, ...) as {"Fn": value} mappings."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:  # pragma: no cover - YAML has no fourth kind of node
        raise TypeError(f"unexpected YAML node {node!r}")
    return {name: value}


_CloudFormationLoader.add_multi_constructor("!", _intrinsic)


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    with path.open(encoding="utf-8") as stream:
        document: dict[str, Any] = yaml.load(stream, Loader=_CloudFormationLoader)  # noqa: S506 # nosec B506 # a SafeLoader subclass
    return document


@dataclass(frozen=True)
class SandboxAws:
    endpoint_url: str
    refund_queue_url: str
    dead_letter_queue_url: str
    table_name: str
    netsuite_secret_name: str
    bigcommerce_secret_name: str

    def environment(self) -> dict[str, str]:
        """What a function (or the CLI) needs to reach this sandbox's AWS."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "AWS_ACCESS_KEY_ID": MOTO_CREDENTIAL,
            "AWS_SECRET_ACCESS_KEY": MOTO_CREDENTIAL,
            "STATE_TABLE_NAME": self.table_name,
            "REFUND_QUEUE_URL": self.refund_queue_url,
            "DEAD_LETTER_QUEUE_URL": self.dead_letter_queue_url,
            "NETSUITE_SECRET_NAME": self.netsuite_secret_name,
            "BIGCOMMERCE_SECRET_NAME": self.bigcommerce_secret_name,
        }

    def sqs(self) -> SQSClient:
        client: SQSClient = _client("sqs", self.endpoint_url)
        return client

    def secrets(self) -> SecretsManagerClient:
        client: SecretsManagerClient = _client("secretsmanager", self.endpoint_url)
        return client


@functools.cache
def _session() -> boto3.session.Session:
    # One session: botocore loads each service's model once per session, which is most of a client's cost.
    return boto3.session.Session(
        region_name=REGION, aws_access_key_id=MOTO_CREDENTIAL, aws_secret_access_key=MOTO_CREDENTIAL
    )


@functools.cache
def _client(service: Any, endpoint_url: str) -> Any:
    return _session().client(service, endpoint_url=endpoint_url)


def physical_name(template: dict[str, Any], value: Any, stack: str) -> str:
    """A name as CloudFormation resolves it for stack `stack`: `!Sub "${AWS::StackName}-..."`, `!Ref
    AWS::StackName`, or `!Ref` of a resource whose `Name` is one of those (a schedule group)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("Fn::Sub"), str):
        text: str = value["Fn::Sub"]
        return text.replace("${AWS::StackName}", stack)
    if isinstance(value, dict) and value.get("Ref") == "AWS::StackName":
        return stack
    if isinstance(value, dict) and value.get("Ref") in template["Resources"]:
        return physical_name(template, template["Resources"][value["Ref"]]["Properties"]["Name"], stack)
    raise ValueError(f"not a name this sandbox can resolve: {value!r}")


def _parameter_default(template: dict[str, Any], name: str) -> Any:
    return template["Parameters"][name]["Default"]


def create_stack_resources(endpoint_url: str, *, stack: str = STACK, reset: bool = True) -> SandboxAws:
    """Create the stack's queues, table and (empty) secrets in moto, as template.yaml defines them.

    `reset`: start from an empty account (the default); without it, the stack goes beside those there."""
    template = load_template()
    resources = template["Resources"]
    if reset:
        reset_moto(endpoint_url)
    sqs = _client("sqs", endpoint_url)
    dynamodb = _client("dynamodb", endpoint_url)
    secrets = _client("secretsmanager", endpoint_url)

    dlq_props = resources["DeadLetterQueue"]["Properties"]
    dlq_url = sqs.create_queue(
        QueueName=physical_name(template, dlq_props["QueueName"], stack),
        Attributes={
            "FifoQueue": "true",
            "MessageRetentionPeriod": str(dlq_props["MessageRetentionPeriod"]),
        },
    )["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    queue_props = resources["RefundQueue"]["Properties"]
    queue_url = sqs.create_queue(
        QueueName=physical_name(template, queue_props["QueueName"], stack),
        Attributes={
            "FifoQueue": "true",
            "ContentBasedDeduplication": str(queue_props["ContentBasedDeduplication"]).lower(),
            "VisibilityTimeout": str(queue_props["VisibilityTimeout"]),
            "MessageRetentionPeriod": str(queue_props["MessageRetentionPeriod"]),
            "RedrivePolicy": json.dumps(
                {
                    "deadLetterTargetArn": dlq_arn,
                    "maxReceiveCount": _parameter_default(template, "MaxReceiveCount"),
                }
            ),
        },
    )["QueueUrl"]

    table_props = resources["StateTable"]["Properties"]
    table_name = f"{stack}-state"  # the template leaves the name to CloudFormation
    dynamodb.create_table(
        TableName=table_name,
        BillingMode=table_props["BillingMode"],
        AttributeDefinitions=table_props["AttributeDefinitions"],
        KeySchema=table_props["KeySchema"],
        GlobalSecondaryIndexes=table_props["GlobalSecondaryIndexes"],
    )

    names = {}
    for logical_id, key in (("NetSuiteSecret", "netsuite"), ("BigCommerceSecret", "bigcommerce")):
        properties = resources[logical_id]["Properties"]
        name = physical_name(template, properties["Name"], stack)
        secrets.create_secret(Name=name, SecretString=properties["SecretString"])
        names[key] = name

    return SandboxAws(
        endpoint_url=endpoint_url,
        refund_queue_url=queue_url,
        dead_letter_queue_url=dlq_url,
        table_name=table_name,
        netsuite_secret_name=names["netsuite"],
        bigcommerce_secret_name=names["bigcommerce"],
    )


def put_secret(aws: SandboxAws, name: str, value: dict[str, str]) -> None:
    aws.secrets().put_secret_value(SecretId=name, SecretString=json.dumps(value))


def reset_moto(endpoint_url: str) -> None:
    """moto keeps its state per process: every sandbox starts from an empty account."""
    requests.post(f"{endpoint_url}/moto-api/reset", timeout=10).raise_for_status()


@contextmanager
def moto_server() -> Iterator[str]:
    """A moto server on an ephemeral local port; yields its endpoint URL."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log per request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables for the duration of a block, then restore them."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextmanager
def linear_fifo_queues() -> Iterator[None]:
    """Let moto hold 10,000 messages in one FIFO queue in seconds, not minutes (load tests, benchmarks).

    For every message sent, moto 5 recounts the queue (three scans of all its messages: the
    ApproximateNumberOfMessages* statistics, each time it reads the queue's own attributes, several
    times a message), converts each attribute name with a slow helper, and looks for an earlier copy
    by scanning every message. Here the statistics read 0, the name conversion is memoised and the
    earlier copy is found through an index; what is stored, deduplicated and delivered is unchanged."""
    with ExitStack() as patches:
        for statistic in (
            "approximate_number_of_messages",
            "approximate_number_of_messages_not_visible",
            "approximate_number_of_messages_delayed",
        ):
            patches.enter_context(mock.patch.object(moto_sqs.Queue, statistic, property(lambda _queue: 0)))
        patches.enter_context(
            mock.patch.object(moto_sqs, "camelcase_to_underscores", functools.cache(camelcase_to_underscores))
        )
        indexed = _add_message_found_by_index(moto_sqs.Queue.add_message)
        patches.enter_context(mock.patch.object(moto_sqs.Queue, "add_message", indexed))
        yield


def _add_message_found_by_index(
    add_message: Callable[[moto_sqs.Queue, moto_sqs.Message], None],
) -> Callable[[moto_sqs.Queue, moto_sqs.Message], None]:
    """moto's Queue.add_message for a FIFO queue with deduplication ids, minus the scan of the queue."""

    def add(queue: moto_sqs.Queue, message: moto_sqs.Message) -> None:
        deduplication_id = message.deduplication_id
        if not (queue.fifo_queue and deduplication_id) or queue.lambda_event_source_mappings:
            add_message(queue, message)
            return
        latest: dict[str, moto_sqs.Message] = vars(queue).setdefault("_latest_by_deduplication_id", {})
        earlier = latest.get(deduplication_id)
        if (
            earlier is not None
            and message.sent_timestamp - earlier.sent_timestamp  # type: ignore[operator]
            < moto_sqs.DEDUPLICATION_TIME_IN_SECONDS * 1000
            and any(stored is earlier for stored in queue._messages)  # still in the queue (rare: a repeat)
        ):
            return
        latest[deduplication_id] = message
        with queue._messages_lock:
            queue._messages.append(message)
            queue._messages_lock.notify_all()

    return add
