"""Where a command writes, for people and for scripts, and how every failure ends.

For people: tables on stdout (a stacked layout when the terminal, or the pipe, is narrow), errors and
progress on stderr. Under --json: one JSON document on stdout, whatever happens, with `exit_code`; a
failure adds `error: {code, message}` (the codes are ErrorCode's).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from enum import StrEnum
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from rich.console import Console, RenderableType

from refund_sync_cli.options import json_error

if TYPE_CHECKING:
    from refund_sync_cli.target import Target


class ErrorCode(StrEnum):
    USAGE = "USAGE"  # a refund id, a reason or an option the command cannot take (exit 2)
    TARGET = "TARGET"  # no such stack or sandbox, or not a refund-sync one (exit 2)
    CREDENTIALS = "CREDENTIALS"  # no usable AWS credentials, or expired (exit 2)
    SANDBOX_STOPPED = "SANDBOX_STOPPED"  # the sandbox the outputs file names is not running (exit 2)
    AMBIGUOUS = "AMBIGUOUS"  # several refunds answer to the name: use the NetSuite id (exit 2)
    NOT_FOUND = "NOT_FOUND"  # refund-sync has no record of the refund (exit 1)
    ACCESS_DENIED = "ACCESS_DENIED"  # the AWS role lacks a permission this command needs (exit 1)
    AWS_ERROR = "AWS_ERROR"  # any other AWS error (exit 1)
    OPERATOR_FAILED = "OPERATOR_FAILED"  # the operator function itself failed (exit 1)
    # Otherwise the operator function's own error codes pass through (NOT_IN_DEAD_LETTER_QUEUE, ...).


class CommandFailed(Exception):
    """A command cannot do what was asked: one line for people, a code for scripts."""

    def __init__(self, code: str, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.exit_code = exit_code


# Wider than this, tables show every column; narrower (80 columns, a pipe), each row is a block.
FULL_TABLE_WIDTH = 140


class Output:
    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json
        self.console = Console(highlight=False)
        self.errors = Console(stderr=True, highlight=False)

    @property
    def stacked(self) -> bool:
        return self.console.width < FULL_TABLE_WIDTH

    @property
    def width(self) -> int:
        return self.console.width

    def show(self, renderable: RenderableType) -> None:
        """Print for people; lines end where their text does (a table pads its cells to its width)."""
        if self.as_json:
            return
        with self.console.capture() as captured:
            self.console.print(renderable)
        lines = captured.get().split("\n")
        self.console.file.write("\n".join(line.rstrip(" ") for line in lines))
        self.console.file.flush()

    def finish(self, data: dict[str, Any], exit_code: int = 0) -> NoReturn:
        """The command's result: JSON for scripts (people have seen it already), then its exit code."""
        if self.as_json:
            from refund_sync_cli.views import to_json  # noqa: PLC0415 - pydantic only when printing JSON

            typer.echo(json.dumps({**to_json(data), "exit_code": exit_code}, indent=2))
        raise typer.Exit(exit_code)

    def fail(self, code: str, message: str, exit_code: int) -> NoReturn:
        if self.as_json:
            typer.echo(json_error(code, message, exit_code))
        else:
            self.errors.print(f"[bold red]error:[/bold red] {_escaped(message)}", soft_wrap=False)
        raise typer.Exit(exit_code)

    def waiting(self, message: str) -> Any:
        """A spinner while something slow happens (people only; scripts get nothing on stderr)."""
        return nullcontext() if self.as_json else self.errors.status(message)


def _escaped(text: str) -> str:
    from rich.markup import escape  # noqa: PLC0415

    return escape(text)


def _aws_message(error: Any) -> tuple[str, str]:
    details = error.response.get("Error", {})
    code = details.get("Code", "")
    message = f"AWS {error.operation_name} failed: {code}: {details.get('Message', '')}"
    if "AccessDenied" in code or code == "AuthorizationError":
        policy = "OperatorPolicyArn" if error.operation_name == "Invoke" else "ReadOnlyPolicyArn"
        return (
            ErrorCode.ACCESS_DENIED,
            f"{message} (your AWS role lacks this permission: attach the stack's {policy} policy)",
        )
    return ErrorCode.AWS_ERROR, message


@contextmanager
def handled(output: Output, target: Target | None = None) -> Iterator[None]:
    """Expected failures become one clear line (or JSON) and an exit code; anything else is a bug."""
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415 - boto3 only for commands

    from refund_sync_cli.target import (  # noqa: PLC0415
        CredentialsProblem,
        TargetError,
        credentials_problem,
        sandbox_unreachable,
    )

    try:
        yield
    except CommandFailed as error:
        output.fail(error.code, error.message, error.exit_code)
    except CredentialsProblem as error:
        output.fail(ErrorCode.CREDENTIALS, str(error), 2)
    except TargetError as error:
        output.fail(ErrorCode.TARGET, str(error), 2)
    except (ClientError, BotoCoreError) as error:
        problem = credentials_problem(error)
        if problem:
            output.fail(ErrorCode.CREDENTIALS, problem, 2)
        stopped = sandbox_unreachable(target, error) if target else None
        if stopped:
            output.fail(ErrorCode.SANDBOX_STOPPED, stopped, 2)
        if isinstance(error, ClientError):
            output.fail(*_aws_message(error), 1)
        output.fail(ErrorCode.AWS_ERROR, f"AWS: {error}", 1)
