"""Which refund-sync the CLI speaks to: a deployed stack, or the local sandbox. Resolved once, into a Target.

- A stack: its CloudFormation outputs (queue URLs and ARNs, table, the operator function), read with
  the user's own AWS profile and region.
- The sandbox: `.sandbox/outputs.json`, written by `python -m refund_sync_sandbox serve` (`make sandbox`):
  the same outputs, plus the moto endpoint, the sandbox's Lambda Invoke API and their fake credentials.

Either way the commands make the same calls: the state table and the queues to look, the operator
function to act. No command reads a secret or calls NetSuite or BigCommerce itself.

Every problem a user can fix by pointing the CLI elsewhere (no stack, no sandbox, no credentials)
becomes a TargetError with one line saying what to do; the CLI exits 2 on it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
    SSOError,
    TokenRetrievalError,
)
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from refund_sync.adapters.state_store import StateStore

if TYPE_CHECKING:
    from mypy_boto3_cloudformation.client import CloudFormationClient
    from mypy_boto3_dynamodb.service_resource import Table
    from mypy_boto3_lambda.client import LambdaClient
    from mypy_boto3_sqs.client import SQSClient

STACK_ENV = "REFUND_SYNC_STACK"
SANDBOX_FILE_ENV = "REFUND_SYNC_SANDBOX_FILE"
DEFAULT_SANDBOX_FILE = Path(".sandbox/outputs.json")
LAMBDA_READ_TIMEOUT_SECONDS = 200  # the operator function's timeout is 180 s
START_SANDBOX = "start it with `make sandbox` (or `python -m refund_sync_sandbox serve`) in another terminal"

# Credentials that are missing, expired or refused: the user fixes these by logging in again.
CREDENTIAL_ERROR_CODES = frozenset(
    {
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "SignatureDoesNotMatch",
        "InvalidSignatureException",
        "AuthFailure",
    }
)


class TargetError(Exception):
    """The CLI cannot reach the system it was pointed at; the message says what to do (exit 2)."""


class CredentialsProblem(TargetError):
    """The user's AWS credentials are missing, expired, refused, or their profile does not exist."""


class TargetKind(StrEnum):
    STACK = "stack"
    SANDBOX = "sandbox"


class StackOutputs(BaseModel):
    """The stack outputs the CLI needs (template.yaml's Outputs, by their keys)."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    refund_queue_url: str = Field(alias="RefundQueueUrl")
    refund_queue_arn: str = Field(alias="RefundQueueArn")
    dead_letter_queue_url: str = Field(alias="DeadLetterQueueUrl")
    dead_letter_queue_arn: str = Field(alias="DeadLetterQueueArn")
    state_table_name: str = Field(alias="StateTableName")
    operator_function_name: str = Field(alias="OperatorFunctionName")


class SandboxOutputs(StackOutputs):
    """`.sandbox/outputs.json`: the stack outputs, plus how to reach the sandbox's AWS and Lambda."""

    aws_endpoint_url: str = Field(alias="AwsEndpointUrl")
    lambda_endpoint_url: str = Field(alias="LambdaEndpointUrl")
    aws_region: str = Field(alias="AwsRegion")
    aws_access_key_id: str = Field(alias="AwsAccessKeyId")
    aws_secret_access_key: str = Field(alias="AwsSecretAccessKey")


def _missing_fields(error: ValidationError) -> list[str]:
    return [str(err["loc"][0]) for err in error.errors() if err["type"] == "missing"]


@dataclass
class Target:
    """Everything the commands need to find refund-sync's resources, and boto3 clients to reach them."""

    kind: TargetKind
    name: str  # the stack's name, or the sandbox outputs file
    outputs: StackOutputs
    session: boto3.session.Session
    endpoint_url: str | None = None
    lambda_endpoint_url: str | None = None  # the sandbox's Invoke API (moto runs no functions)
    _clients: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def is_sandbox(self) -> bool:
        return self.kind is TargetKind.SANDBOX

    @property
    def description(self) -> str:
        if self.is_sandbox:
            return f"the local sandbox ({self.name})"
        return f"stack {self.name} ({self.session.region_name})"

    @property
    def log_file(self) -> Path:
        """Where the functions run in-process (sandbox) write their logs."""
        return Path(self.name).with_name("cli-logs.jsonl")

    def _config(self, service: str) -> Config:
        if service == "lambda":
            # RequestResponse waits for the operator function (up to its timeout); a retried invoke
            # would do its work twice.
            return Config(
                retries={"max_attempts": 1}, read_timeout=LAMBDA_READ_TIMEOUT_SECONDS, connect_timeout=5
            )
        if self.is_sandbox:
            # Local and never throttled: a refused connection means the sandbox stopped; say so at once.
            return Config(retries={"max_attempts": 1}, connect_timeout=5)
        return Config(retries={"mode": "standard", "max_attempts": 3})

    def _client(self, service: str) -> Any:
        if service not in self._clients:
            endpoint = self.lambda_endpoint_url if service == "lambda" else self.endpoint_url
            self._clients[service] = self.session.client(
                service,  # type: ignore[call-overload]  # one cache for every service's client
                endpoint_url=endpoint,
                config=self._config(service),
            )
        return self._clients[service]

    def sqs(self) -> SQSClient:
        client: SQSClient = self._client("sqs")
        return client

    def lambda_client(self) -> LambdaClient:
        client: LambdaClient = self._client("lambda")
        return client

    def caller(self) -> str:
        """Who is asking (STS GetCallerIdentity, which needs no permission): for the audit notes."""
        arn: str = self._client("sts").get_caller_identity().get("Arn", "")
        return arn

    def table(self) -> Table:
        if "dynamodb-table" not in self._clients:
            resource = self.session.resource(
                "dynamodb", endpoint_url=self.endpoint_url, config=self._config("dynamodb")
            )
            self._clients["dynamodb-table"] = resource.Table(self.outputs.state_table_name)
        table: Table = self._clients["dynamodb-table"]
        return table

    def store(self) -> StateStore:
        return StateStore(self.outputs.state_table_name, table=self.table())


# -- resolving -------------------------------------------------------------------------------------------
def open_session(profile: str | None, region: str | None) -> boto3.session.Session:
    """The user's AWS session (their profile, or AWS_PROFILE; region; credential chain)."""
    try:
        return boto3.session.Session(profile_name=profile, region_name=region)
    except ProfileNotFound as error:
        raise CredentialsProblem(f"{error}: check --profile (or AWS_PROFILE) against ~/.aws/config") from None


def credentials_problem(error: Exception) -> str | None:
    """What to do about an AWS error that is the user's credentials (None: it is something else)."""
    if isinstance(error, NoCredentialsError | PartialCredentialsError):
        return (
            "no usable AWS credentials: pass --profile (or set AWS_PROFILE), or log in "
            "(`aws sso login --profile NAME` / `aws configure`)"
        )
    if isinstance(error, TokenRetrievalError | SSOError):
        return f"your AWS session has expired or cannot be refreshed ({error}): run `aws sso login` again"
    if isinstance(error, ProfileNotFound):
        return f"{error}: check --profile (or AWS_PROFILE) against ~/.aws/config"
    if isinstance(error, NoRegionError):
        return "no AWS region: pass --region (or set AWS_REGION, or a region in your profile)"
    if isinstance(error, ClientError) and error.response.get("Error", {}).get("Code") in (
        CREDENTIAL_ERROR_CODES
    ):
        return (
            f"AWS refused your credentials ({error.response['Error'].get('Message', '')}): "
            "they are expired or wrong; log in again (`aws sso login`) or check --profile"
        )
    return None


def resolve_stack(stack_name: str, session: boto3.session.Session) -> Target:
    """Read the stack's outputs from CloudFormation."""
    try:
        cloudformation: CloudFormationClient = session.client("cloudformation")
        stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as error:
        message = error.response.get("Error", {}).get("Message", "")
        if "does not exist" in message:
            raise TargetError(
                f"no stack named {stack_name!r} in {session.region_name} for this account: check "
                "--stack-name (or REFUND_SYNC_STACK), --region and --profile"
            ) from None
        problem = credentials_problem(error)
        if problem:
            raise CredentialsProblem(problem) from None
        raise
    except BotoCoreError as error:
        problem = credentials_problem(error)
        if problem:
            raise CredentialsProblem(problem) from None
        raise
    stack = stacks[0]
    raw = {output["OutputKey"]: output.get("OutputValue", "") for output in stack.get("Outputs", [])}
    try:
        outputs = StackOutputs.model_validate(raw)
    except ValidationError as error:
        raise TargetError(
            f"stack {stack_name!r} ({stack.get('StackStatus', '?')}) lacks the outputs "
            f"{', '.join(_missing_fields(error))}: is it a refund-sync stack, deployed completely?"
        ) from None
    return Target(TargetKind.STACK, stack_name, outputs, session)


@cache
def _sandbox_session(region: str, access_key_id: str, secret_access_key: str) -> boto3.session.Session:
    # One session per sandbox and process: its service models load once, however many commands run
    # (the tests run many in one process).
    return boto3.session.Session(
        region_name=region, aws_access_key_id=access_key_id, aws_secret_access_key=secret_access_key
    )


def resolve_sandbox(path: Path) -> Target:
    """Read the outputs file the running sandbox wrote."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TargetError(f"no sandbox outputs at {path}: {START_SANDBOX}") from None
    try:
        outputs = SandboxOutputs.model_validate_json(text)
    except ValidationError as error:
        missing = _missing_fields(error)
        what = f"lacks {', '.join(missing)}" if missing else "is not valid"
        raise TargetError(f"{path} {what}: restart the sandbox (`make sandbox`)") from None
    session = _sandbox_session(outputs.aws_region, outputs.aws_access_key_id, outputs.aws_secret_access_key)
    return Target(
        TargetKind.SANDBOX,
        str(path),
        outputs,
        session,
        endpoint_url=outputs.aws_endpoint_url,
        lambda_endpoint_url=outputs.lambda_endpoint_url,
    )


def resolve(
    *,
    stack_name: str | None,
    sandbox: bool,
    sandbox_file: Path | None,
    profile: str | None,
    region: str | None,
) -> Target:
    """Explicit options first (--stack-name, --sandbox/--sandbox-file), then REFUND_SYNC_STACK, then
    REFUND_SYNC_SANDBOX_FILE."""
    wants_sandbox = sandbox or sandbox_file is not None
    if stack_name and wants_sandbox:
        raise TargetError("choose one: --stack-name for a deployed stack, or --sandbox for the local sandbox")
    env_file = os.environ.get(SANDBOX_FILE_ENV)
    if wants_sandbox:
        return resolve_sandbox(sandbox_file or Path(env_file or DEFAULT_SANDBOX_FILE))
    stack_name = stack_name or os.environ.get(STACK_ENV)
    if stack_name:
        return resolve_stack(stack_name, open_session(profile, region))
    if env_file:
        return resolve_sandbox(Path(env_file))
    raise TargetError(
        "which refund-sync? Pass --stack-name NAME (or set REFUND_SYNC_STACK) for a deployed stack, "
        f"or --sandbox for the local sandbox ({START_SANDBOX})"
    )


def sandbox_unreachable(target: Target, error: Exception) -> str | None:
    """A stale outputs file: the sandbox that wrote it is no longer running."""
    if target.is_sandbox and isinstance(error, EndpointConnectionError):
        where = error.kwargs.get("endpoint_url", target.endpoint_url)
        return f"nothing answers at {where}, so the sandbox is not running: {START_SANDBOX}"
    return None
