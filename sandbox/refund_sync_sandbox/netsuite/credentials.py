"""Generated credentials for a simulated account, in the shapes the real setup produces.

The sandbox stores `SandboxCredentials.secret_for(method)` in Secrets Manager under the name the
settings give, so the adapter reads and uses them exactly as it would read a real account's.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes

from refund_sync.config import NetSuiteAuthMethod

KeyType = Literal["rsa", "ec"]


@dataclass(frozen=True)
class TbaKeys:
    """An integration record's consumer key/secret and an access token's id/secret (64 hex chars each)."""

    consumer_key: str
    consumer_secret: str = field(repr=False)
    token_id: str
    token_secret: str = field(repr=False)

    @classmethod
    def generate(cls) -> TbaKeys:
        return cls(*(secrets.token_hex(32) for _ in range(4)))

    def secret(self) -> dict[str, str]:
        return {
            "consumer_key": self.consumer_key,
            "consumer_secret": self.consumer_secret,
            "token_id": self.token_id,
            "token_secret": self.token_secret,
        }


@dataclass(frozen=True)
class M2MKeys:
    """An OAuth 2.0 M2M mapping: the integration's client id, the certificate id and its key pair."""

    client_id: str
    certificate_id: str
    private_key_pem: str = field(repr=False)
    public_key_pem: str

    @classmethod
    def generate(cls, key_type: KeyType = "rsa") -> M2MKeys:
        # NetSuite accepts RSA 3072/4096 or EC P-256/384/521 certificates.
        key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey = (
            rsa.generate_private_key(public_exponent=65537, key_size=3072)
            if key_type == "rsa"
            else ec.generate_private_key(ec.SECP256R1())
        )
        private_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        public_pem = (
            key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )
        return cls(
            client_id=secrets.token_hex(32),
            certificate_id=secrets.token_urlsafe(32),
            private_key_pem=private_pem,
            public_key_pem=public_pem,
        )

    @cached_property
    def private_key(self) -> PrivateKeyTypes:
        """The loaded key (generated here, so known good: the slow RSA consistency check is skipped)."""
        return serialization.load_pem_private_key(
            self.private_key_pem.encode(), password=None, unsafe_skip_rsa_key_validation=True
        )

    def public_key(self) -> PublicKeyTypes:
        return serialization.load_pem_public_key(self.public_key_pem.encode())

    def secret(self) -> dict[str, str]:
        return {
            "client_id": self.client_id,
            "certificate_id": self.certificate_id,
            "private_key": self.private_key_pem,
        }


@dataclass(frozen=True)
class SandboxCredentials:
    """What the simulated account accepts: TBA keys, an M2M certificate mapping, or both."""

    account_id: str = "1234567_SB1"
    tba: TbaKeys | None = None
    m2m: M2MKeys | None = None

    @classmethod
    def generate(
        cls,
        account_id: str = "1234567_SB1",
        *,
        tba: bool = True,
        m2m: bool = True,
        m2m_key_type: KeyType = "rsa",
    ) -> SandboxCredentials:
        return cls(
            account_id=account_id,
            tba=TbaKeys.generate() if tba else None,
            m2m=M2MKeys.generate(m2m_key_type) if m2m else None,
        )

    @property
    def realm(self) -> str:
        """The TBA realm: account id in upper case with an underscore."""
        return self.account_id.strip().upper().replace("-", "_")

    def secret_for(self, method: NetSuiteAuthMethod) -> dict[str, str]:
        """The Secrets Manager JSON for `method`, as the adapter expects it."""
        if method is NetSuiteAuthMethod.TBA and self.tba is not None:
            return self.tba.secret()
        if method is NetSuiteAuthMethod.OAUTH2_M2M and self.m2m is not None:
            return self.m2m.secret()
        raise ValueError(f"the simulated account has no {method.value} credentials")

    def secret_string(self, method: NetSuiteAuthMethod) -> str:
        return json.dumps(self.secret_for(method))
