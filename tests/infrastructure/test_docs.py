"""docs/: the runbook's generated section is current, and the docs name what the code and template define."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path
from typing import get_args

import pytest
from pydantic import BaseModel

from refund_sync.adapters.bigcommerce import BigCommerceCredentials
from refund_sync.adapters.netsuite import auth, client
from refund_sync.adapters.netsuite.auth import M2MCredentials, TbaCredentials
from refund_sync.adapters.netsuite.client import CONCURRENCY_LIMIT_CODE, LOGIN_ERROR_CODES, USAGE_LIMIT_CODE
from refund_sync.adapters.netsuite.contract import ErrorCode, NotFoundCode
from refund_sync.domain.reasons import Reason
from refund_sync.runbook import (
    BEGIN,
    END,
    NOT_FOUND,
    POLLER_FAILURES,
    generated_section,
    replace_generated_section,
)
from refund_sync.services.consume_refunds import MALFORMED_MESSAGE
from refund_sync_sandbox.aws import TEMPLATE, load_template

ROOT = TEMPLATE.parent
DOCS = ROOT / "docs"
RUNBOOK = DOCS / "runbook.md"
POLLER_CODES = {code for failure in POLLER_FAILURES for code in failure.codes}


def read(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


# -- the generated runbook section ---------------------------------------------------------------------
def test_the_committed_runbook_carries_the_section_the_generator_prints_now() -> None:
    document = RUNBOOK.read_text(encoding="utf-8")
    start = document.index(BEGIN)
    end = document.index(END) + len(END)

    assert document[start:end] == generated_section(), (
        "docs/runbook.md is stale: run `python -m refund_sync.runbook docs/runbook.md`"
    )


def test_regenerating_keeps_the_hand_written_parts_around_the_section() -> None:
    document = "# Runbook\n\nintro\n\n" + BEGIN + "\nold text\n" + END + "\n\n## Alarms\n"

    rewritten = replace_generated_section(document)

    assert rewritten.startswith("# Runbook\n\nintro\n\n" + BEGIN)
    assert rewritten.endswith(END + "\n\n## Alarms\n")
    assert "old text" not in rewritten


def test_every_reason_the_engine_records_has_an_entry_with_its_meaning_and_action() -> None:
    section = generated_section()
    for reason in Reason:
        entry = section.split(f"### {reason.name}\n", 1)[1].split("\n### ", 1)[0]
        assert reason.meaning in entry
        assert reason.action in entry
    assert f"### {MALFORMED_MESSAGE}\n" in section


def literal_error_codes() -> set[str]:
    """Codes the NetSuite adapter raises: the first argument of every NetSuite*Error(...) it constructs."""
    codes = set()
    for module in (client, auth):
        tree = ast.parse(Path(str(module.__file__)).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id.startswith("NetSuite")
                and node.func.id.endswith("Error")
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                codes.add(node.args[0].value)
    return codes


def test_every_code_a_poller_run_can_fail_with_is_explained() -> None:
    raised = literal_error_codes()

    assert {"ACCOUNT_ID_MISSING", "CREDENTIALS_INVALID", "REDIRECTED"} <= raised  # the reading works
    assert raised <= POLLER_CODES
    assert set(get_args(ErrorCode)) <= POLLER_CODES  # the RESTlet's own errors
    assert LOGIN_ERROR_CODES | {CONCURRENCY_LIMIT_CODE, USAGE_LIMIT_CODE} <= POLLER_CODES


def test_every_reason_an_on_demand_sync_can_give_for_finding_nothing_is_explained() -> None:
    assert set(NOT_FOUND) == set(get_args(NotFoundCode))


# -- the rest of the docs against the template and the code -----------------------------------------------
def table_rows(document: str) -> dict[str, list[str]]:
    """First-column `name` -> the row's other cells, for every Markdown table row starting with a code."""
    rows = {}
    for line in document.splitlines():
        match = re.match(r"\|\s*`([^`]+)`\s*\|(.*)\|\s*$", line)
        if match:
            rows[match[1]] = [cell.strip() for cell in match[2].split("|")]
    return rows


def documented_default(raw: object) -> str:
    if raw is None:
        return "(none)"
    if raw == "":
        return "(empty)"
    return f"`{raw}`"


def test_every_parameter_is_documented_with_its_real_default() -> None:
    parameters = load_template()["Parameters"]
    rows = table_rows(read("configuration.md"))

    for name, parameter in parameters.items():
        assert name in rows, f"docs/configuration.md does not document {name}"
        assert rows[name][0] == documented_default(parameter.get("Default")), name


@pytest.mark.parametrize("model", [M2MCredentials, TbaCredentials, BigCommerceCredentials])
def test_every_secret_field_is_documented_and_shown_in_the_deploy_steps(model: type[BaseModel]) -> None:
    rows = table_rows(read("configuration.md"))
    deploying = read("deploying.md")
    for field in model.model_fields:
        assert field in rows, f"docs/configuration.md does not explain {field}"
        assert f'"{field}"' in deploying, f"docs/deploying.md shows no JSON with {field}"


def test_every_alarm_has_its_section_in_the_runbook() -> None:
    runbook = RUNBOOK.read_text(encoding="utf-8")
    for name, resource in load_template()["Resources"].items():
        if resource["Type"] != "AWS::CloudWatch::Alarm":
            continue
        suffix = resource["Properties"]["AlarmName"]["Fn::Sub"].removeprefix("${AWS::StackName}-")
        assert f"\n### {suffix}\n" in runbook, f"docs/runbook.md has no section for {name} ({suffix})"


def test_the_deploy_guide_names_every_samconfig_environment() -> None:
    environments = tomllib.loads((ROOT / "samconfig.toml").read_text(encoding="utf-8"))
    deploying = read("deploying.md")
    for environment in environments:
        if environment != "version":
            assert f"`{environment}`" in deploying


def slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    return {
        slug(line.lstrip("#"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if re.match(r"#{1,6} ", line)
    }


@pytest.mark.parametrize("document", sorted(DOCS.glob("*.md")), ids=lambda path: path.name)
def test_every_relative_link_reaches_a_file_and_heading(document: Path) -> None:
    for target in re.findall(r"\]\(([^)\s]+)\)", document.read_text(encoding="utf-8")):
        if re.match(r"[a-z]+:", target):
            continue
        path_part, _, anchor = target.partition("#")
        linked = (document.parent / path_part).resolve() if path_part else document
        assert linked.exists(), f"{document.name}: {target} does not exist"
        if anchor and linked.suffix == ".md":
            assert anchor in anchors(linked), f"{document.name}: {target} names no heading"


# -- what the docs say about operations agrees with the code -------------------------------------------------
def every_doc() -> dict[str, str]:
    documents = {path.name: path.read_text(encoding="utf-8") for path in sorted(DOCS.glob("*.md"))}
    documents["README.md"] = (ROOT / "README.md").read_text(encoding="utf-8")
    return documents


def test_the_loop_guard_is_skipped_in_the_runbook_as_in_the_state_it_records() -> None:
    from refund_sync.domain.state import SyncStatus  # noqa: PLC0415

    rows = {
        line.split("|")[1].strip(): line.split("|")[2].strip()
        for line in generated_section().splitlines()
        if line.startswith("| [")
    }
    assert rows["[CREATED_FROM_BIGCOMMERCE](#created_from_bigcommerce)"] == SyncStatus.SKIPPED.value
    for reason in Reason:
        assert SyncStatus(reason.outcome.value)  # every outcome the runbook prints is a status the CLI shows


def test_the_docs_count_the_functions_the_template_defines() -> None:
    functions = [r for r in load_template()["Resources"].values() if r["Type"] == "AWS::Serverless::Function"]
    assert len(functions) == 4
    for name, text in every_doc().items():
        flat = " ".join(text.split())
        for wrong in ("both functions", "two functions", "of both functions"):
            assert wrong not in flat, f"{name} says {wrong!r}; the stack has {len(functions)} functions"


def test_how_often_the_secrets_are_read_is_said_as_the_code_does_it() -> None:
    from refund_sync.adapters import bigcommerce  # noqa: PLC0415

    assert auth.SECRET_MAX_AGE_SECONDS == bigcommerce.SECRET_MAX_AGE_SECONDS == 300
    configuration = " ".join(read("configuration.md").split())
    deploying = " ".join(read("deploying.md").split())
    assert "five minutes" in configuration and "once per function instance" in configuration
    assert "read them on their first invocation and keep them" not in configuration  # the old, wrong claim
    assert "A new BigCommerce token is in use within five minutes" in deploying


def test_every_tool_the_deploy_guide_uses_is_listed_in_what_you_need() -> None:
    deploying = read("deploying.md")
    needs = deploying.split("## What you need", 1)[1].split("\n## ", 1)[0]
    commands = {line.split()[0] for line in re.findall(r"^(?:    )?([a-z][\w-]* .*)$", deploying, re.M)}
    assert {"aws", "sam", "make"} <= commands and "jq -n" in deploying  # the guide's commands were read
    for tool, listed_as in (("jq", "`jq`"), ("make", "`make`"), ("aws", "AWS CLI"), ("sam", "SAM CLI")):
        assert listed_as in needs, f"docs/deploying.md runs {tool} but What you need does not list it"


def test_no_doc_puts_a_token_on_the_command_line() -> None:
    literal_secret = re.compile(
        r"--secret-string\s+'\{[^']*\"(access_token|private_key|token_secret)\"\s*:\s*\""
    )
    for name, text in every_doc().items():
        assert not literal_secret.search(text), f"{name} shows a secret typed into the shell history"


def test_the_redrive_guide_names_the_destination_the_consumers_messages_need() -> None:
    guide = " ".join(read("redrive.md").split())
    assert "--destination-arn <RefundQueueArn>" in guide
    assert "Redrive to a custom destination" in guide
    assert "Without `--destination-arn`, the messages go back to the queue they came from" not in guide
    for command in (
        "refund-sync redrive CM-1042",
        "refund-sync discard CM-1042",
        "refund-sync resolve CM-1042",
    ):
        assert command in guide
