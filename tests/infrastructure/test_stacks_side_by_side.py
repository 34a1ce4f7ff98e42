"""Two stacks in one account and region: a sandbox beside production, or one stack per BigCommerce store.

Every name the template gives a resource is made of the stack's name, so a second stack never meets the
first one's: the test renders the names for two stacks, creates both stacks' named resources in one
moto account and region (queues, table, secrets, schedule groups and schedules, alarms, the key's
alias, dashboards), and runs both pipelines, one NetSuite account feeding two stores, each stack with
its own saved search and secrets. Schedules are where it went wrong before: without a Name, SAM names a
ScheduleV2 schedule `<function id><event id>` in the default group ("ScheduleV2", AWS SAM Developer
Guide), the same in every stack, and the second deploy fails.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from refund_sync.adapters.state_store import StateStore
from refund_sync.config import NetSuiteAuthMethod
from refund_sync.domain.state import SyncStatus
from refund_sync_sandbox.aws import (
    MOTO_CREDENTIAL,
    REGION,
    SandboxAws,
    create_stack_resources,
    load_template,
    physical_name,
    put_secret,
    reset_moto,
)
from refund_sync_sandbox.bigcommerce import BigCommerceStore, start_bigcommerce_server
from refund_sync_sandbox.netsuite import (
    BillingType,
    NetSuiteAccount,
    SandboxCredentials,
    start_netsuite_server,
)
from refund_sync_sandbox.sandbox import Sandbox
from refund_sync_sandbox.scenarios import MUG, TEE, address, order

TEMPLATE = load_template()
STACKS = ("refund-sync-store-a", "refund-sync-store-b")
# Properties that give a resource its name in the account and region (absent: CloudFormation makes one).
NAME_PROPERTIES = {
    "AWS::SQS::Queue": "QueueName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::SecretsManager::Secret": "Name",
    "AWS::CloudWatch::Alarm": "AlarmName",
    "AWS::CloudWatch::Dashboard": "DashboardName",
    "AWS::KMS::Alias": "AliasName",
    "AWS::Scheduler::ScheduleGroup": "Name",
    "AWS::Serverless::LayerVersion": "LayerName",
    "AWS::Serverless::Function": "FunctionName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
}


def schedules(template: dict[str, Any], stack: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(group, name, properties) of every ScheduleV2 schedule SAM makes for the template."""
    found = []
    for function, resource in template["Resources"].items():
        for event, spec in resource.get("Properties", {}).get("Events", {}).items():
            if spec["Type"] != "ScheduleV2":
                continue
            properties = spec["Properties"]
            name = (
                physical_name(template, properties["Name"], stack)
                if "Name" in properties
                else function + event
            )
            group = (
                physical_name(template, properties["GroupName"], stack)
                if "GroupName" in properties
                else "default"
            )
            found.append((group, name, properties))
    return found


def names(template: dict[str, Any], stack: str) -> set[tuple[str, str]]:
    """(kind, name) of every name the template gives, for `stack`."""
    found = {
        (kind, physical_name(template, resource["Properties"][prop], stack))
        for resource in template["Resources"].values()
        if (kind := resource["Type"]) in NAME_PROPERTIES
        and (prop := NAME_PROPERTIES[kind]) in resource["Properties"]
    }
    return found | {
        ("AWS::Scheduler::Schedule", f"{group}/{name}") for group, name, _ in schedules(template, stack)
    }


def test_every_name_the_template_gives_is_the_stacks_own() -> None:
    first, second = (names(TEMPLATE, stack) for stack in STACKS)

    assert len(first) >= 15  # queues, secrets, alarms, dashboard, alias, layers, schedule group, schedules
    assert not first & second, f"two stacks would share {sorted(first & second)}"
    for kind, name in first:
        assert STACKS[0] in name, f"{kind} {name} does not carry the stack's name"


def test_the_names_check_finds_the_schedules_sam_names_alike() -> None:
    unnamed = copy.deepcopy(TEMPLATE)
    for resource in unnamed["Resources"].values():
        for spec in resource.get("Properties", {}).get("Events", {}).values():
            spec.get("Properties", {}).pop("Name", None)
            spec.get("Properties", {}).pop("GroupName", None)

    shared = names(unnamed, STACKS[0]) & names(unnamed, STACKS[1])

    assert shared == {
        ("AWS::Scheduler::Schedule", "default/PollerFunctionSchedule"),
        ("AWS::Scheduler::Schedule", "default/PayoutCheckFunctionSchedule"),
    }


# -- both stacks in one moto account and region ----------------------------------------------------------
def client(service: str, endpoint: str) -> Any:
    return boto3.client(
        service,  # type: ignore[call-overload]
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=MOTO_CREDENTIAL,
        aws_secret_access_key=MOTO_CREDENTIAL,
    )


def deploy(template: dict[str, Any], endpoint: str, stack: str, *, first: bool) -> SandboxAws:
    """Create the stack's named resources as CloudFormation would (moto runs no Lambda functions or
    schedules from a template): a name already taken fails here as it fails a deploy."""
    aws = create_stack_resources(endpoint, stack=stack, reset=first)
    scheduler, cloudwatch, kms = (client(service, endpoint) for service in ("scheduler", "cloudwatch", "kms"))
    groups = {group for group, _, _ in schedules(template, stack)} - {"default"}
    for group in sorted(groups):
        scheduler.create_schedule_group(Name=group)
    for group, name, properties in schedules(template, stack):
        scheduler.create_schedule(
            Name=name,
            GroupName=group,
            ScheduleExpression="rate(5 minutes)",
            FlexibleTimeWindow={"Mode": "OFF"},
            Target={
                "Arn": f"arn:aws:lambda:{REGION}:123456789012:function:{stack}-{name}",
                "RoleArn": "arn:aws:iam::123456789012:role/scheduler",
                "Input": properties.get("Input", "{}"),
            },
        )
    key_id = kms.create_key(Description=f"{stack} alarm topic")["KeyMetadata"]["KeyId"]
    for kind, name in sorted(names(template, stack)):
        if kind == "AWS::KMS::Alias":
            kms.create_alias(AliasName=name, TargetKeyId=key_id)
        elif kind == "AWS::CloudWatch::Alarm":
            cloudwatch.put_metric_alarm(
                AlarmName=name,
                MetricName="Errors",
                Namespace="AWS/Lambda",
                Statistic="Sum",
                Period=300,
                EvaluationPeriods=1,
                Threshold=0,
                ComparisonOperator="GreaterThanThreshold",
            )
        elif kind == "AWS::CloudWatch::Dashboard":
            cloudwatch.put_dashboard(DashboardName=name, DashboardBody='{"widgets": []}')
    return aws


def test_a_template_whose_schedules_sam_names_alike_fails_the_second_deploy(moto_endpoint: str) -> None:
    unnamed = copy.deepcopy(TEMPLATE)
    for resource in unnamed["Resources"].values():
        for spec in resource.get("Properties", {}).get("Events", {}).values():
            spec.get("Properties", {}).pop("Name", None)
            spec.get("Properties", {}).pop("GroupName", None)
    deploy(unnamed, moto_endpoint, STACKS[0], first=True)

    with pytest.raises(ClientError, match="Conflict"):
        deploy(unnamed, moto_endpoint, STACKS[1], first=False)
    reset_moto(moto_endpoint)


@dataclass(frozen=True)
class Store:
    """One BigCommerce store, its stack, and the saved search that selects its refunds."""

    stack: str
    saved_search: str
    record_type: str
    order_id: int


STORES = (
    Store(STACKS[0], "customsearch_rs_refunds_store_a", "creditmemo", 7001),
    Store(STACKS[1], "customsearch_rs_refunds_store_b", "cashrefund", 8001),
)


@pytest.fixture
def two_stacks(moto_endpoint: str, netsuite_credentials: SandboxCredentials) -> Iterator[dict[str, Sandbox]]:
    """Both stacks deployed in one account and region; one NetSuite account; two BigCommerce stores."""
    account = NetSuiteAccount(netsuite_credentials)
    netsuite = start_netsuite_server(account)
    running: dict[str, Sandbox] = {}
    servers = []
    try:
        for index, store in enumerate(STORES):
            aws = deploy(TEMPLATE, moto_endpoint, store.stack, first=index == 0)
            # Each store's saved search: here the criterion is the record type (store A's refunds are
            # credit memos, store B's cash refunds); in an account, a subsidiary, class or website.
            account.add_saved_search(store.saved_search, [store.record_type])
            bigcommerce = start_bigcommerce_server(
                BigCommerceStore(), access_token=f"token-{index}", store_hash=f"store{index}"
            )
            servers.append(bigcommerce)
            put_secret(
                aws, aws.netsuite_secret_name, netsuite_credentials.secret_for(NetSuiteAuthMethod.OAUTH2_M2M)
            )
            put_secret(aws, aws.bigcommerce_secret_name, {"access_token": bigcommerce.access_token})
            sandbox = Sandbox(aws, bigcommerce, netsuite, netsuite_credentials, NetSuiteAuthMethod.OAUTH2_M2M)
            sandbox.configure(netsuite_saved_search_id=store.saved_search)
            running[store.stack] = sandbox
        yield running
    finally:
        for server in servers:
            server.stop()
        netsuite.stop()


def test_two_stacks_in_one_account_and_region_each_sync_their_own_store(
    two_stacks: dict[str, Sandbox],
) -> None:
    # Given one NetSuite account with a refund for each store: a credit memo of store A's order 7001 and a
    # cash refund of store B's order 8001, each order in its own store only
    a, b = (two_stacks[store.stack] for store in STORES)
    a.store.seed([order(7001, [MUG.order_line(31, 2, 41)], [address(41, Decimal("5.00"))])])
    b.store.seed([order(8001, [TEE.order_line(32, 1, 42)], [address(42, Decimal("5.00"))])])
    account = a.account
    for store, item, line, billing_type in (
        (STORES[0], MUG, 1, BillingType.INVOICE),
        (STORES[1], TEE, 1, BillingType.CASH_SALE),
    ):
        sales_order = account.add_sales_order(
            f"SO-{store.order_id}", bigcommerce_order_id=str(store.order_id)
        )
        billing = account.add_billing(sales_order, billing_type)
        account.create_refund(billing, [item.refund_line(line, 1)], tran_id=f"R-{store.order_id}")

    # When each stack's poller and consumer run, as their schedules and event sources would
    reports = {}
    for sandbox in (a, b):
        reports[sandbox.aws.table_name] = sandbox.run_poller()
        sandbox.drain()

    # Then each stack read its own saved search, synced its own refund into its own store, and kept its
    # state in its own table; nothing is left in either stack's queues
    for sandbox, store, other in ((a, STORES[0], STORES[1]), (b, STORES[1], STORES[0])):
        assert reports[sandbox.aws.table_name]["enqueued"] == 1
        with sandbox.active():
            states = StateStore(sandbox.aws.table_name)
            (mine,) = states.find_by_document_number(f"R-{store.order_id}")
            assert states.find_by_document_number(f"R-{other.order_id}") == []
        assert mine.status is SyncStatus.SYNCED
        assert [refund.order_id for refund in sandbox.store.list_refunds()] == [store.order_id]
        assert sandbox.dead_letters() == []
    assert a.aws.refund_queue_url != b.aws.refund_queue_url
    assert a.aws.bigcommerce_secret_name != b.aws.bigcommerce_secret_name
