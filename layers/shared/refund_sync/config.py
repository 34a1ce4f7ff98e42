"""All configuration, in one place: environment variables set by template.yaml (or the sandbox).

Secrets are never here: only the *names* of the Secrets Manager secrets that hold them.
"""

from __future__ import annotations

import ipaddress
from decimal import Decimal
from enum import StrEnum
from functools import cache
from typing import Annotated

from pydantic import AwareDatetime, Field, HttpUrl, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from refund_sync.domain.policy import (
    DiscountRule,
    LineMatchRule,
    OfflinePaymentRule,
    PartialLineRule,
    RefundMethodPolicy,
    TaxOnlyRule,
)

# A state write (DynamoDB, a few ms; retried by botocore) with room to spare, after a create's answer.
STATE_WRITE_SECONDS = 5.0


class NetSuiteAuthMethod(StrEnum):
    TBA = "tba"  # OAuth 1.0a token-based authentication, HMAC-SHA256
    OAUTH2_M2M = "oauth2_m2m"  # OAuth 2.0 client credentials with a certificate-signed JWT


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def _is_loopback(host: str | None) -> bool:
    if host is None:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def require_tls_off_this_machine(url: HttpUrl | None) -> HttpUrl | None:
    """Credentials travel to these URLs: https always, plain http only to a simulator on this machine."""
    if url is None or url.scheme == "https" or _is_loopback(url.host):
        return url
    raise ValueError(
        f"{url} must use https; plain http is accepted only for a local sandbox (127.0.0.1, localhost, ::1)"
    )


class Settings(BaseSettings):
    model_config = SettingsConfigDict(defer_build=True, frozen=True, extra="ignore", case_sensitive=False)

    stage: str = "dev"

    # AWS resources (named by the stack)
    state_table_name: str = "refund-sync-state"
    refund_queue_url: str = ""
    dead_letter_queue_url: str = ""

    # NetSuite
    netsuite_account_id: str = Field(default="", description="e.g. 1234567 or 1234567_SB1")
    netsuite_saved_search_id: str = ""
    netsuite_auth_method: NetSuiteAuthMethod = NetSuiteAuthMethod.OAUTH2_M2M
    netsuite_secret_name: str = "refund-sync/netsuite"  # noqa: S105 - a name, not a secret
    netsuite_restlet_script_id: str = "customscript_rs_refund_export"
    netsuite_restlet_deploy_id: str = "customdeploy_rs_refund_export"
    netsuite_page_size: int = Field(default=500, ge=5, le=1000)
    netsuite_max_concurrency: int = Field(default=2, ge=1, le=10)
    netsuite_timeout_seconds: float = 60.0
    netsuite_restlet_url: HttpUrl | None = Field(
        default=None, description="Overrides the URL built from the account"
    )
    netsuite_token_url: HttpUrl | None = Field(default=None, description="Overrides the OAuth 2.0 token URL")
    netsuite_write_back: bool = False

    # BigCommerce
    bigcommerce_store_hash: str = ""
    bigcommerce_secret_name: str = "refund-sync/bigcommerce"  # noqa: S105 - a name, not a secret
    bigcommerce_api_url: HttpUrl | None = Field(
        default=None, description="Overrides https://api.bigcommerce.com"
    )
    bigcommerce_timeout_seconds: float = 30.0
    bigcommerce_quota_reserve: int = Field(
        default=10, ge=0, description="Requests left in the window at which we pause until it resets"
    )

    # The refund engine
    refund_method_policy: RefundMethodPolicy = RefundMethodPolicy.ORIGINAL
    offline_payment_rule: OfflinePaymentRule = OfflinePaymentRule.RECORD
    quote_tolerance_per_line: Decimal = Field(
        default=Decimal("0.01"),
        ge=0,
        description="Largest quote-vs-NetSuite difference per item BigCommerce taxes (each rounds its tax)",
    )
    partial_line_threshold: Decimal = Field(
        default=Decimal("0.01"),
        ge=0,
        description="A product line refunded at most this much below its price is a full refund of its units",
    )
    dry_run: bool = False
    line_match_rule: LineMatchRule = LineMatchRule.SKU
    partial_line_rule: PartialLineRule = PartialLineRule.ORDER_AMOUNT
    discount_rule: DiscountRule = DiscountRule.ABSORB
    tax_only_rule: TaxOnlyRule = TaxOnlyRule.ORDER_AMOUNT
    custom_amount_items: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="NetSuite item ids or names refunded as a custom (ORDER) amount"
    )
    shipping_items: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="NetSuite items (besides ShipItem lines) that carry shipping"
    )
    handling_items: Annotated[list[str], NoDecode] = Field(default_factory=list)
    fee_items: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="NetSuite items that refund an order fee (BigCommerce FEE)"
    )
    gift_wrapping_items: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="NetSuite items that refund gift wrapping (BigCommerce GIFT_WRAPPING)",
    )

    # Loop guard: refunds that a connector imported *from* BigCommerce are never sent back.
    loop_guard_external_id_pattern: str = Field(default=r"^(bc|bigcommerce)[-_:]?refund", min_length=0)

    # Poller
    first_sync_from: AwareDatetime | None = Field(
        default=None,
        description="Go-live: the first sweep reads only refunds modified from then on (empty: all of them)",
    )
    poller_lookback_seconds: int = Field(
        default=300, ge=0, description="Overlap between sweeps, for clock skew"
    )
    poller_stop_margin_seconds: int = Field(default=30, ge=5, description="Stop this long before the timeout")

    # Consumer
    consumer_max_receive_count: int = Field(default=5, ge=1, description="The queue's maxReceiveCount")
    consumer_base_retry_seconds: int = Field(default=60, ge=1)
    uncertain_create_grace_seconds: int = Field(
        default=120,
        ge=0,
        description="How long after its last send an unanswered create may still commit at BigCommerce; "
        "only after it, with nothing new on the order, is the create proven absent",
    )
    bigcommerce_clock_skew_seconds: int = Field(
        default=60,
        ge=0,
        description="How far BigCommerce's clock (a refund's `created`) may be behind ours",
    )

    # Payout check: gateways decline asynchronously, so synced refunds are looked at again, in bulk.
    payout_check_delay_minutes: int = Field(
        default=30, ge=0, description="How long after the sync a refund's payout is checked"
    )
    payout_check_window_days: int = Field(
        default=7, ge=1, description="Refunds synced longer ago than this are no longer checked"
    )
    payout_check_stop_margin_seconds: int = Field(
        default=20, ge=5, description="Stop this long before the timeout; the next run goes on"
    )

    @field_validator("first_sync_from", mode="before")
    @classmethod
    def _date_means_midnight_utc(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip()
            if not value:
                return None
            if len(value) == 10:  # 2026-11-01
                return f"{value}T00:00:00Z"
        return value

    @field_validator(
        "custom_amount_items",
        "shipping_items",
        "handling_items",
        "fee_items",
        "gift_wrapping_items",
        mode="before",
    )
    @classmethod
    def _csv(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("netsuite_restlet_url", "netsuite_token_url", "bigcommerce_api_url")
    @classmethod
    def _tls(cls, value: HttpUrl | None) -> HttpUrl | None:
        return require_tls_off_this_machine(value)

    @property
    def refund_start_seconds(self) -> float:
        """The least time left in which a refund is started: its order read and quote, then the create and
        the record of its answer (each BigCommerce call may take the whole timeout). Less, and it waits
        for the next delivery: a create is never cut off mid-way by the function's timeout."""
        return 3 * self.bigcommerce_timeout_seconds + STATE_WRITE_SECONDS

    @model_validator(mode="after")
    def _times_agree(self) -> Settings:
        if self.uncertain_create_grace_seconds < self.bigcommerce_timeout_seconds:
            raise ValueError(
                "the grace period for an unanswered create must be at least BigCommerce's timeout: a create "
                "the client gave up on may still be committing"
            )
        return self

    @property
    def netsuite_realm(self) -> str:
        """The account id as NetSuite's OAuth realm wants it: 1234567_SB1 (upper case, underscore)."""
        return self.netsuite_account_id.strip().upper().replace("-", "_")

    @property
    def netsuite_host_slug(self) -> str:
        """The account id as NetSuite's host names want it: 1234567-sb1 (lower case, hyphen)."""
        return self.netsuite_account_id.strip().lower().replace("_", "-")

    @property
    def restlet_url(self) -> str:
        if self.netsuite_restlet_url is not None:
            return str(self.netsuite_restlet_url)
        return f"https://{self.netsuite_host_slug}.restlets.api.netsuite.com/app/site/hosting/restlet.nl"

    @property
    def token_url(self) -> str:
        if self.netsuite_token_url is not None:
            return str(self.netsuite_token_url)
        return (
            f"https://{self.netsuite_host_slug}.suitetalk.api.netsuite.com/services/rest/auth/oauth2/v1/token"
        )

    @property
    def bigcommerce_base_url(self) -> str:
        root = str(self.bigcommerce_api_url or "https://api.bigcommerce.com").rstrip("/")
        return f"{root}/stores/{self.bigcommerce_store_hash}"


@cache
def get_settings() -> Settings:
    """The process's settings, read once (Lambda reuses the module between invocations)."""
    return Settings()
