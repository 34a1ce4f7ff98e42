"""What every command shares, defined once: which refund-sync it speaks to (the target options), --json,
and JSON for usage errors too. Imports only typer and the standard library: `refund-sync --help` loads
this and main.py, nothing else.
"""

import functools
import inspect
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from typer.core import TyperGroup

JSON_FLAG = "--json"


@dataclass(frozen=True)
class TargetOptions:
    """The options every command takes to find its refund-sync, and --json."""

    stack_name: Annotated[
        str | None,
        typer.Option(
            "--stack-name",
            help="The deployed CloudFormation stack (default: $REFUND_SYNC_STACK).",
            show_default=False,
        ),
    ] = None
    sandbox: Annotated[
        bool,
        typer.Option("--sandbox", help="The local sandbox started by `make sandbox`."),
    ] = False
    sandbox_file: Annotated[
        Path | None,
        typer.Option(
            "--sandbox-file",
            help="The sandbox's outputs file (default: $REFUND_SYNC_SANDBOX_FILE or .sandbox/outputs.json).",
            show_default=False,
        ),
    ] = None
    profile: Annotated[
        str | None,
        typer.Option("--profile", help="AWS profile (default: AWS_PROFILE)."),
    ] = None
    region: Annotated[
        str | None,
        typer.Option("--region", help="AWS region (default: your profile's)."),
    ] = None
    as_json: Annotated[
        bool,
        typer.Option(JSON_FLAG, help="Print JSON (for scripts): every outcome, errors included, on stdout."),
    ] = False


TARGET_FIELDS = tuple(field.name for field in fields(TargetOptions))
Command = TypeVar("Command", bound=Callable[..., None])


def with_target(command: Command) -> Command:
    """Give a command the target options: its own parameters, then these, as one `target` argument
    (a TargetOptions). Typer reads the signature, so the options are declared here once for all."""
    signature = inspect.signature(command, eval_str=True)
    own = [parameter for name, parameter in signature.parameters.items() if name != "target"]
    hints = {field.name: field.type for field in fields(TargetOptions)}
    shared = [
        inspect.Parameter(
            name,
            inspect.Parameter.KEYWORD_ONLY,
            default=getattr(TargetOptions(), name),
            annotation=hints[name],
        )
        for name in TARGET_FIELDS
    ]

    @functools.wraps(command)
    def wrapper(**arguments: Any) -> None:
        target = TargetOptions(**{name: arguments.pop(name) for name in TARGET_FIELDS})
        command(**arguments, target=target)

    wrapper.__signature__ = signature.replace(parameters=[*own, *shared])  # type: ignore[attr-defined]
    wrapper.__annotations__ = {parameter.name: parameter.annotation for parameter in [*own, *shared]}
    return wrapper  # type: ignore[return-value]


def json_error(code: str, message: str, exit_code: int) -> str:
    """The one shape of an error under --json."""
    return json.dumps({"exit_code": exit_code, "error": {"code": code, "message": message}}, indent=2)


class JsonAwareGroup(TyperGroup):
    """Under --json, a usage error (a missing argument, an unknown option) is JSON on stdout, too."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        if JSON_FLAG not in argv or not standalone_mode:
            return super().main(argv, prog_name, complete_var, standalone_mode, windows_expand_args, **extra)
        try:
            returned = super().main(
                argv, prog_name, complete_var, standalone_mode=False, windows_expand_args=False, **extra
            )
        except typer.Abort:
            typer.echo(json_error("INTERRUPTED", "interrupted", 130))
            sys.exit(130)
        except typer.TyperException as error:  # click's usage errors (missing argument, unknown option)
            exit_code = getattr(error, "exit_code", 2)
            message = error.format_message() if hasattr(error, "format_message") else str(error)
            typer.echo(json_error("USAGE", message, exit_code))
            sys.exit(exit_code)
        sys.exit(returned if isinstance(returned, int) else 0)
