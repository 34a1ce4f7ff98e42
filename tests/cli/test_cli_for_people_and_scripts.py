"""The CLI for people at 80 columns (or piped), and for scripts under --json.

People: below 140 columns, and whenever the output is piped (rich then assumes 80), a table with long
columns becomes one block per row, so no line is wider than the terminal and Detail and What to do
keep whole words. Scripts: under --json, every outcome is one JSON document on stdout with its
exit code, errors included, each with a code.
"""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
from typer.testing import Result

from refund_sync_cli import main
from tests.cli.conftest import Demo, expected, sandbox_args
from tests.cli.support import json_of, run_cli

ROOT = Path(__file__).resolve().parents[2]
BOX_DRAWING = "│┃┏┡└├"
# What a narrow terminal may show per refund: a headline, three labelled fields, wrapped, and a gap.
MOST_LINES_PER_REFUND = 16


def lines_of(result: Result) -> list[str]:
    return result.stdout.splitlines()


def assert_fits(result: Result, width: int) -> None:
    too_wide = [line for line in lines_of(result) if len(line) > width]
    assert not too_wide, f"{len(too_wide)} lines wider than {width}: {too_wide[:3]}"


# -- 80 columns, and piped ---------------------------------------------------------------------------------
@pytest.mark.parametrize("columns", ["80", None], ids=["a terminal of 80 columns", "piped"])
def test_failures_at_80_columns_is_one_block_per_refund_with_whole_words(
    demo: Demo, columns: str | None
) -> None:
    result = run_cli("failures", *sandbox_args(demo), env={"COLUMNS": columns})
    failing = expected(demo, "FAILED", "HELD")

    assert result.exit_code == 1, result.output
    assert_fits(result, 80)
    assert not set(BOX_DRAWING) & set(result.stdout)  # blocks, not a table squeezed to 80 columns
    assert len(lines_of(result)) <= MOST_LINES_PER_REFUND * len(failing)
    headlines = [line for line in lines_of(result) if line.split("  ")[0] in failing]
    assert [line.split()[0] for line in headlines] and {line.split()[0] for line in headlines} == set(failing)
    flat = " ".join(result.stdout.split())
    assert "Wait until the gateway settles the payment (often within 24 hours), then redrive." in flat


def test_failures_on_a_wide_terminal_is_one_table(demo: Demo) -> None:
    result = run_cli("failures", *sandbox_args(demo), env={"COLUMNS": "200"})

    assert result.exit_code == 1
    assert_fits(result, 200)
    header = next(line for line in lines_of(result) if "Document" in line)
    assert all(column in header for column in ("NetSuite id", "Reason", "DLQ", "Detail", "What to do"))


@pytest.mark.parametrize(
    "command",
    [
        ["status"],
        ["show", "CR-5013"],
        ["show", "CM-5001"],
        ["redrive"],
        ["preview", "CM-5008"],
        ["preview", "CR-6001"],
    ],
    ids=" ".join,
)
def test_every_view_fits_80_columns(demo: Demo, command: list[str]) -> None:
    result = run_cli(*command, *sandbox_args(demo), env={"COLUMNS": None})

    assert result.exit_code in (0, 1), result.output
    assert result.stdout.strip()
    assert_fits(result, 80)


# -- --json: every outcome, errors included -------------------------------------------------------------
@pytest.mark.parametrize(
    "command",
    [
        ["status"],
        ["show", "CM-5001"],
        ["failures"],
        ["preview", "CM-5008"],
        ["sync", "CM-5001"],
        ["redrive"],
        ["discard", "CM-5001", "--reason", "x"],
        ["resolve", "CM-5001", "--refunded-by-hand"],
    ],
    ids=lambda command: command[0],
)
def test_every_command_without_a_target_answers_json_with_a_code(command: list[str]) -> None:
    result = run_cli(*command, "--json")

    assert result.exit_code == 2
    assert json_of(result) == {
        "exit_code": 2,
        "error": {"code": "TARGET", "message": json_of(result)["error"]["message"]},
    }
    assert "--stack-name" in json_of(result)["error"]["message"]
    assert result.stderr == ""


@pytest.mark.parametrize(
    ("command", "code", "exit_code", "words"),
    [
        (["show"], "USAGE", 2, "Missing argument"),
        (["status", "--bogus"], "USAGE", 2, "No such option"),
        (["show", ""], "USAGE", 2, "no refund named"),
        (["show", "   "], "USAGE", 2, "no refund named"),
        (["show", "CM-\x07"], "USAGE", 2, "control characters"),
        (["show", "C" * 200], "USAGE", 2, "at most 64 characters"),
        (["failures", "--reason", "NOT_A_REASON"], "USAGE", 2, "AMOUNT_MISMATCH"),
        (["sync"], "USAGE", 2, "name at least one refund"),
        (["discard", "CR-5011", "--reason", " "], "USAGE", 2, "say why"),
        (["show", "CR-6001"], "NOT_FOUND", 1, "has no record of CR-6001"),
        (["redrive", "CM-5001"], "NOT_IN_DEAD_LETTER_QUEUE", 1, "no message of CM-5001"),
        (["preview", "CM-\u00e9" * 30], "USAGE", 2, "at most 64"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_errors_under_json_are_json_on_stdout_with_their_code(
    demo: Demo, command: list[str], code: str, exit_code: int, words: str
) -> None:
    result = run_cli(*command, *sandbox_args(demo), "--json")
    for_people = run_cli(*command, *sandbox_args(demo))

    assert result.exit_code == exit_code, result.output
    answer = json_of(result)
    assert answer["exit_code"] == exit_code
    assert answer["error"]["code"] == code
    assert words in answer["error"]["message"]
    # and for people, the same words on stderr, nothing on stdout
    assert for_people.exit_code == exit_code
    assert words in " ".join(for_people.stderr.split())


@pytest.mark.parametrize(
    "command",
    [["status"], ["show", "cm-5001"], ["failures"], ["redrive"], ["preview", "CR-6001"]],
    ids=" ".join,
)
def test_every_answer_under_json_carries_the_exit_code_it_exits_with(demo: Demo, command: list[str]) -> None:
    result = run_cli(*command, *sandbox_args(demo), "--json")

    assert json_of(result)["exit_code"] == result.exit_code


# -- naming refunds ---------------------------------------------------------------------------------------
def test_document_numbers_match_without_regard_to_case(demo: Demo) -> None:
    upper = run_cli("show", "CM-5001", *sandbox_args(demo), "--json")
    lower = run_cli("show", "cm-5001", *sandbox_args(demo), "--json")
    padded = run_cli("show", "  Cm-5001 ", *sandbox_args(demo), "--json")

    assert upper.exit_code == lower.exit_code == padded.exit_code == 0
    assert json_of(upper) == json_of(lower) == json_of(padded)


# -- the command line itself -------------------------------------------------------------------------------
def test_version_prints_the_installed_version() -> None:
    result = run_cli("--version")

    assert result.exit_code == 0
    assert result.stdout.strip() == f"refund-sync {version('refund-sync')}"


def test_help_loads_only_the_command_line_not_what_the_commands_need() -> None:
    # Given a fresh interpreter that loads the CLI as `refund-sync --help` does
    heavy = (
        "{'boto3', 'botocore', 'pydantic', 'rich', 'requests', 'refund_sync', 'refund_sync_sandbox', 'moto'}"
    )
    probe = (
        f"import sys, refund_sync_cli.main; print(sorted({{m.split('.')[0] for m in sys.modules}} & {heavy}))"
    )
    loaded = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    helped = subprocess.run(
        [sys.executable, "-m", "refund_sync_cli.entry", "--help"], capture_output=True, text=True, check=True
    )

    # Then none of the heavy packages is imported: each command loads what it needs when it runs
    assert json.loads(loaded.stdout.replace("'", '"')) == []
    assert "preview" in helped.stdout and "resolve" in helped.stdout


def test_the_target_options_are_declared_once_and_every_command_takes_them() -> None:
    from typer.main import get_command  # noqa: PLC0415

    group = get_command(main.app)
    shared = {"--stack-name", "--sandbox", "--sandbox-file", "--profile", "--region", "--json"}
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        options = {option for parameter in command.params for option in parameter.opts}
        assert shared <= options, f"{name} lacks {sorted(shared - options)}"
    source = (ROOT / "cli/refund_sync_cli/main.py").read_text(encoding="utf-8")
    assert all(f'"{option}"' not in source for option in shared)  # declared in options.py only
