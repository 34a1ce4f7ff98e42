"""Alarms reach a person: the topic they publish to can be published to by the services that do.

CloudWatch can publish to an encrypted topic only if the topic's KMS key lets cloudwatch.amazonaws.com
use it (kms:Decrypt and kms:GenerateDataKey*: "Enable compatibility between event sources from AWS
services and encrypted topics", Amazon SNS Developer Guide). The AWS-managed alias/aws/sns key's policy
cannot be changed, so with it every alarm changes state and nobody hears. EventBridge (a rule or a
schedule with the topic as target) would need the same grant for events.amazonaws.com.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from refund_sync_sandbox.aws import load_template
from tests.infrastructure.test_template import walk

TEMPLATE = load_template()
PUBLISHING_NEEDS = {"kms:Decrypt", "kms:GenerateDataKey*"}
ALARM_PUBLISHER = "cloudwatch.amazonaws.com"
EVENT_PUBLISHER = "events.amazonaws.com"  # EventBridge rules and Scheduler schedules


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def ref(value: Any) -> str | None:
    return value["Ref"] if isinstance(value, dict) and isinstance(value.get("Ref"), str) else None


def publishers(template: dict[str, Any], topic: str) -> set[str]:
    """The AWS services that publish to `topic`: CloudWatch for each alarm that names it in an action,
    EventBridge for each rule or schedule that targets it."""
    found: set[str] = set()
    for resource in template["Resources"].values():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::CloudWatch::Alarm":
            actions = [*properties.get("AlarmActions", []), *properties.get("OKActions", [])]
            actions += properties.get("InsufficientDataActions", [])
            if any(ref(action) == topic for action in actions):
                found.add(ALARM_PUBLISHER)
        if resource["Type"] in ("AWS::Events::Rule", "AWS::Scheduler::Schedule") and any(
            ref(node) == topic for node in walk(properties)
        ):
            found.add(EVENT_PUBLISHER)
    return found


def service_grants(key_policy: dict[str, Any], service: str) -> set[str]:
    """The KMS actions a key policy allows `service` on this key (unconditionally)."""
    actions: set[str] = set()
    for statement in key_policy["Statement"]:
        principal = statement.get("Principal", {})
        services = as_list(principal.get("Service", [])) if isinstance(principal, dict) else []
        if statement.get("Effect") == "Allow" and service in services and "Condition" not in statement:
            assert statement.get("Resource") == "*", "in a key policy, the key itself is '*'"
            actions |= set(as_list(statement["Action"]))
    return actions


def delivery_problems(template: dict[str, Any]) -> list[str]:
    """Why an alarm topic of `template` would not get its messages; empty when every one would."""
    resources = template["Resources"]
    problems = []
    for name, resource in resources.items():
        if resource["Type"] != "AWS::SNS::Topic":
            continue
        senders = publishers(template, name)
        key = resource.get("Properties", {}).get("KmsMasterKeyId")
        if key is None or not senders:
            continue  # unencrypted (.checkov.yaml must say why), or nobody publishes to it
        key_id = ref(key)
        if key_id is None or resources.get(key_id, {}).get("Type") != "AWS::KMS::Key":
            problems.append(f"{name} is encrypted with {key!r}, a key whose policy this stack cannot set")
            continue
        policy = resources[key_id]["Properties"]["KeyPolicy"]
        for sender in sorted(senders):
            granted = service_grants(policy, sender)
            if granted != PUBLISHING_NEEDS:
                problems.append(
                    f"{name}: key {key_id} grants {sender} {sorted(granted) or 'nothing'}; publishing needs "
                    f"exactly {sorted(PUBLISHING_NEEDS)}"
                )
        others = {
            service
            for statement in policy["Statement"]
            for service in as_list(statement.get("Principal", {}).get("Service", []))
        } - senders
        if others:
            problems.append(f"{name}: key {key_id} also lets {sorted(others)} use it, which publish nothing")
    return problems


def test_every_alarm_publishes_to_a_topic_whose_key_lets_cloudwatch_publish() -> None:
    alarms = [r for r in TEMPLATE["Resources"].values() if r["Type"] == "AWS::CloudWatch::Alarm"]
    assert alarms and all(ref(r["Properties"]["AlarmActions"][0]) == "AlarmTopic" for r in alarms)
    assert publishers(TEMPLATE, "AlarmTopic") == {ALARM_PUBLISHER}  # nothing from EventBridge

    assert delivery_problems(TEMPLATE) == []


def test_the_key_is_the_stacks_own_rotated_and_the_account_keeps_control() -> None:
    resources = TEMPLATE["Resources"]
    key = resources[ref(resources["AlarmTopic"]["Properties"]["KmsMasterKeyId"]) or ""]
    assert key["Type"] == "AWS::KMS::Key"
    assert key["Properties"]["EnableKeyRotation"] is True
    (root,) = [s for s in key["Properties"]["KeyPolicy"]["Statement"] if "AWS" in s["Principal"]]
    assert root["Principal"] == {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}


def with_key_statement(change: Any) -> dict[str, Any]:
    template = copy.deepcopy(TEMPLATE)
    statements = template["Resources"]["AlarmTopicKey"]["Properties"]["KeyPolicy"]["Statement"]
    change(statements)
    return template


@pytest.mark.parametrize(
    ("case", "template"),
    [
        (
            "a key that does not grant CloudWatch",
            with_key_statement(lambda s: s[:] and s.pop()),
        ),
        (
            "a key that grants CloudWatch only Decrypt",
            with_key_statement(lambda s: s[-1].update(Action=["kms:Decrypt"])),
        ),
        (
            "a key that grants CloudWatch everything",
            with_key_statement(lambda s: s[-1].update(Action="kms:*")),
        ),
        (
            "a grant that only applies under a condition",
            with_key_statement(
                lambda s: s[-1].update(Condition={"StringEquals": {"aws:SourceAccount": "1"}})
            ),
        ),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_a_topic_whose_key_does_not_grant_cloudwatch_exactly_is_found(
    case: str, template: dict[str, Any]
) -> None:
    assert delivery_problems(template), case


def test_a_topic_on_the_aws_managed_key_is_found() -> None:
    template = copy.deepcopy(TEMPLATE)
    template["Resources"]["AlarmTopic"]["Properties"]["KmsMasterKeyId"] = "alias/aws/sns"

    assert delivery_problems(template) == [
        "AlarmTopic is encrypted with 'alias/aws/sns', a key whose policy this stack cannot set"
    ]


def test_an_eventbridge_schedule_publishing_to_the_topic_would_need_its_own_grant() -> None:
    template = copy.deepcopy(TEMPLATE)
    template["Resources"]["ReminderSchedule"] = {
        "Type": "AWS::Scheduler::Schedule",
        "Properties": {"Target": {"Arn": {"Ref": "AlarmTopic"}}, "ScheduleExpression": "rate(1 day)"},
    }

    assert publishers(template, "AlarmTopic") == {ALARM_PUBLISHER, EVENT_PUBLISHER}
    assert any(EVENT_PUBLISHER in problem for problem in delivery_problems(template))
