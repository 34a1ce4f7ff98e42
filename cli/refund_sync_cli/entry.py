"""The `refund-sync` console script. Checks the AWS profile before anything imports boto3's X-Ray
instrumentation, which would otherwise fail on a misnamed profile with a traceback instead of a message.
"""

from __future__ import annotations

import os
import sys

import boto3
from botocore.exceptions import ProfileNotFound


def main() -> None:
    profile = os.environ.get("AWS_PROFILE")
    if profile:
        try:
            boto3.session.Session(profile_name=profile)
        except ProfileNotFound:
            print(
                f"refund-sync: AWS_PROFILE names a profile that does not exist ({profile!r}); "
                "fix it, unset it, or pass --profile.",
                file=sys.stderr,
            )
            sys.exit(2)
    from refund_sync_cli.main import app  # noqa: PLC0415 - only once the profile is known to work

    app()


if __name__ == "__main__":
    main()
