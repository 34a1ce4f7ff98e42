"""Who we are to NetSuite: credentials from Secrets Manager and the two ways of signing a call.

- TBA (OAuth 1.0a, HMAC-SHA256): every request is signed with the integration's consumer key/secret and
  the access token's id/secret; the realm is the account id in upper case (1234567_SB1).
- OAuth 2.0 client credentials (M2M): a short JWT signed with the certificate's private key buys a
  one-hour bearer token at the account's token endpoint; there is no refresh token, so we mint again.

Secret values are `SecretStr`: they never reach a log line, an exception message or a repr.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar

import jwt
import requests
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError, TransformParameterError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA256
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)
from requests.auth import AuthBase
from requests_oauthlib import OAuth1

from refund_sync.adapters.netsuite.errors import (
    NetSuiteAuthError,
    NetSuiteCredentialsError,
    NetSuiteError,
    NetSuiteThrottledError,
    NetSuiteTransientError,
)
from refund_sync.config import NetSuiteAuthMethod, Settings
from refund_sync.observability import Metric, count, logger

SECRET_MAX_AGE_SECONDS = 300
M2M_SCOPE = "restlets"  # only RESTlets are called; a scope the integration record lacks is refused
ASSERTION_LIFETIME_SECONDS = 300  # the JWT only buys the token; NetSuite allows up to 3600
TOKEN_REFRESH_MARGIN_SECONDS = 300
CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
LOGIN_AUDIT_TRAIL_HINT = (
    "NetSuite's Login Audit Trail (Setup > Users/Roles > View Login Audit Trail) names the exact reason."
)

Clock = Callable[[], float]


def _strip(value: object) -> object:
    # A secret pasted with a trailing newline signs every request wrongly; NetSuite's values never
    # carry surrounding whitespace.
    return value.strip() if isinstance(value, str) else value


SecretField = Annotated[SecretStr, BeforeValidator(_strip), Field(min_length=1)]
IdField = Annotated[str, BeforeValidator(_strip), Field(min_length=1)]


class TbaCredentials(BaseModel):
    """The TBA secret: `{"consumer_key", "consumer_secret", "token_id", "token_secret"}`."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="ignore")

    consumer_key: SecretField
    consumer_secret: SecretField
    token_id: SecretField
    token_secret: SecretField


class M2MCredentials(BaseModel):
    """The OAuth 2.0 M2M secret: `{"client_id", "certificate_id", "private_key"}` (PEM, RSA or EC)."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="ignore")

    client_id: IdField
    certificate_id: IdField
    private_key: SecretField

    @field_validator("private_key")
    @classmethod
    def _must_be_a_usable_key(cls, value: SecretStr) -> SecretStr:
        # Parse only: the full RSA consistency check is slow and runs once, in signing_key().
        _load_signing_key(value, check=False)  # raises ValueError without quoting the key
        return value

    def signing_key(self) -> tuple[rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, str]:
        """The private key and the JWT algorithm NetSuite accepts for it (PS256 for RSA, ES* for EC)."""
        return _load_signing_key(self.private_key, check=True)


NetSuiteCredentials = TbaCredentials | M2MCredentials

_EC_ALGORITHMS = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}
# NetSuite help, "OAuth 2.0 Client Credentials Setup", certificate conditions: "The length of the RSA
# key must be 3072 bits, or 4096 bits. The length of EC key must 256 bits, 384 bits, or 521 bits."
RSA_KEY_SIZES = (3072, 4096)


def _load_signing_key(
    pem: SecretStr, *, check: bool
) -> tuple[rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, str]:
    try:
        key = serialization.load_pem_private_key(
            pem.get_secret_value().encode(), password=None, unsafe_skip_rsa_key_validation=not check
        )
    except (ValueError, TypeError):
        raise ValueError("not an unencrypted PEM private key (RSA 3072/4096 or EC P-256/384/521)") from None
    if isinstance(key, rsa.RSAPrivateKey):
        if key.key_size not in RSA_KEY_SIZES:
            raise ValueError(
                f"an RSA key of {key.key_size} bits; NetSuite accepts RSA keys of 3072 or 4096 bits only "
                "(or EC P-256/384/521) and refuses the certificate of any other. Create a new key and "
                "certificate (openssl req -new -x509 -newkey rsa:3072 ...), map the certificate in NetSuite, "
                "and store the new key"
            )
        return key, "PS256"
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name in _EC_ALGORITHMS:
        return key, _EC_ALGORITHMS[key.curve.name]
    raise ValueError("NetSuite accepts RSA or EC P-256/384/521 keys only")


_MODELS: dict[NetSuiteAuthMethod, type[TbaCredentials] | type[M2MCredentials]] = {
    NetSuiteAuthMethod.TBA: TbaCredentials,
    NetSuiteAuthMethod.OAUTH2_M2M: M2MCredentials,
}


def parse_credentials(
    raw: object, method: NetSuiteAuthMethod, secret_name: str
) -> TbaCredentials | M2MCredentials:
    """Validate a secret's JSON for `method`; errors name the secret and the fields, never a value."""
    model = _MODELS[method]
    if not isinstance(raw, Mapping):
        raise NetSuiteCredentialsError(
            "CREDENTIALS_INVALID", f"secret {secret_name!r} must hold a JSON object with {_field_list(model)}"
        )
    try:
        return model.model_validate(dict(raw))
    except ValidationError as exc:
        missing = [_field(err["loc"]) for err in exc.errors(include_input=False) if err["type"] == "missing"]
        invalid = [
            f"{_field(err['loc'])} ({err['msg']})"
            for err in exc.errors(include_input=False, include_url=False)
            if err["type"] != "missing"
        ]
        problems = []
        if missing:
            problems.append(f"missing field(s): {', '.join(missing)}")
        if invalid:
            problems.append(f"invalid field(s): {', '.join(invalid)}")
        message = f"secret {secret_name!r} cannot be used for {method.value}: {'; '.join(problems)}"
        other = next(other for other in NetSuiteAuthMethod if other is not method)
        if all(name in raw for name in _MODELS[other].model_fields):
            message += (
                f". It holds {other.value} credentials: set NETSUITE_AUTH_METHOD={other.value} or store "
                f"{_field_list(model)}"
            )
        raise NetSuiteCredentialsError("CREDENTIALS_INVALID", message) from None


def _field(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc)


def _field_list(model: type[BaseModel]) -> str:
    return "{" + ", ".join(f'"{name}"' for name in model.model_fields) + "}"


def load_credentials(
    settings: Settings, *, max_age: int = SECRET_MAX_AGE_SECONDS
) -> TbaCredentials | M2MCredentials:
    """Read and validate the NetSuite secret (cached by Powertools for `max_age` seconds)."""
    name = settings.netsuite_secret_name
    try:
        raw = parameters.get_secret(name, transform="json", max_age=max_age)
    except TransformParameterError:
        raise NetSuiteCredentialsError(
            "CREDENTIALS_INVALID", f"secret {name!r} is not JSON; store a JSON object"
        ) from None
    except GetParameterError as exc:
        # The message is botocore's (error code and operation), which carries no secret value.
        raise NetSuiteCredentialsError(
            "CREDENTIALS_UNAVAILABLE", f"cannot read secret {name!r}: {exc}"
        ) from exc
    return parse_credentials(raw, settings.netsuite_auth_method, name)


class NetSuiteAuth(AuthBase, ABC):
    """A requests auth that signs each call and, after a 401, re-authenticates and resends once."""

    method: ClassVar[NetSuiteAuthMethod]

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        self._authenticate(request)
        request.hooks["response"].append(self._resend_once_after_401)
        return request

    @abstractmethod
    def _authenticate(self, request: requests.PreparedRequest) -> None: ...

    @abstractmethod
    def _reauthenticate(self, request: requests.PreparedRequest) -> None:
        """Sign `request` afresh after NetSuite refused the previous signature or token."""

    @abstractmethod
    def login_failure_causes(self) -> list[str]:
        """What to check when NetSuite answers INVALID_LOGIN_ATTEMPT, for this method and account."""

    def login_failure_message(self, detail: str) -> str:
        causes = "\n".join(f"  - {cause}" for cause in [*self.login_failure_causes(), LOGIN_AUDIT_TRAIL_HINT])
        return f"NetSuite rejected the {self.method.value} login ({detail}). Usual causes:\n{causes}"

    def _resend_once_after_401(self, response: requests.Response, **send_kwargs: Any) -> requests.Response:
        if response.status_code != 401:
            return response
        logger.info("NetSuite answered 401; signing in once more", extra={"auth_method": self.method.value})
        resend = response.request.copy()
        # The copy must not come back here: a second 401 is an answer, not a glitch.
        resend.hooks = {
            **resend.hooks,
            "response": [hook for hook in resend.hooks["response"] if hook != self._resend_once_after_401],
        }
        self._reauthenticate(resend)
        _ = response.content  # read it, so the connection can carry the second attempt
        response.close()
        count(Metric.NETSUITE_CALLS)
        second = response.connection.send(resend, **send_kwargs)
        second.history.append(response)
        second.request = resend
        return second


class TbaAuth(NetSuiteAuth):
    """OAuth 1.0a with HMAC-SHA256: the URL's query (script, deploy) is signed, the JSON body is not."""

    method = NetSuiteAuthMethod.TBA

    def __init__(self, credentials: TbaCredentials, realm: str) -> None:
        self.realm = realm
        self._signer = OAuth1(
            client_key=credentials.consumer_key.get_secret_value(),
            client_secret=credentials.consumer_secret.get_secret_value(),
            resource_owner_key=credentials.token_id.get_secret_value(),
            resource_owner_secret=credentials.token_secret.get_secret_value(),
            signature_method=SIGNATURE_HMAC_SHA256,
            realm=realm,
        )

    def _authenticate(self, request: requests.PreparedRequest) -> None:
        # requests_oauthlib signs the body only when it is form-encoded: insist on JSON so it never does.
        request.headers["Content-Type"] = "application/json"
        self._signer(request)

    def _reauthenticate(self, request: requests.PreparedRequest) -> None:
        request.headers.pop("Authorization", None)
        self._authenticate(request)  # a fresh nonce and timestamp

    def login_failure_causes(self) -> list[str]:
        realm_hint = f"Realm: sent {self.realm!r}; it must be the account id in upper case with an underscore"
        if self.realm != self.realm.upper():
            realm_hint = (
                f"Realm: sent {self.realm!r}, which has lower-case letters; it must be {self.realm.upper()!r}"
            )
        return [
            f"{realm_hint} (a sandbox is 1234567_SB1, never 1234567_sb1 or 1234567-sb1).",
            "Role: the token's role needs the 'Log in using Access Tokens' permission and must be in the "
            "RESTlet deployment's audience, with permission to the records the script reads.",
            "Tokens: consumer key/secret and token id/secret must belong to this account (a sandbox refresh "
            "invalidates tokens; tokens from production do not work in a sandbox); the token may be revoked "
            "or the integration record disabled.",
            "Signature: only HMAC-SHA256 is accepted; this host's clock must be within 5 minutes of "
            "NetSuite's and a nonce cannot be used twice.",
        ]


@dataclass(frozen=True)
class _Token:
    value: SecretStr
    refresh_at: float


class _TokenResponse(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="ignore")

    access_token: SecretStr
    expires_in: int = Field(gt=0)
    token_type: str


class M2MAuth(NetSuiteAuth):
    """OAuth 2.0 client credentials: a certificate-signed JWT buys a bearer token, kept until near expiry."""

    method = NetSuiteAuthMethod.OAUTH2_M2M

    def __init__(
        self,
        credentials: M2MCredentials,
        token_url: str,
        *,
        clock: Clock = time.time,
        timeout_seconds: float = 30.0,
        refresh_margin_seconds: float = TOKEN_REFRESH_MARGIN_SECONDS,
        session: requests.Session | None = None,
    ) -> None:
        self.token_url = token_url
        self.client_id = credentials.client_id
        self.certificate_id = credentials.certificate_id
        self._key, self.algorithm = credentials.signing_key()
        self._clock = clock
        self._timeout = timeout_seconds
        self._refresh_margin = refresh_margin_seconds
        # Its own session: the RESTlet session carries this auth, and the token call must not.
        self._session = session or requests.Session()
        self._lock = threading.Lock()
        self._token: _Token | None = None

    def client_assertion(self) -> str:
        """The JWT NetSuite's token endpoint verifies with the certificate's public key."""
        issued_at = int(self._clock())
        claims = {
            "iss": self.client_id,
            "scope": M2M_SCOPE,
            "aud": self.token_url,
            "iat": issued_at,
            "exp": issued_at + ASSERTION_LIFETIME_SECONDS,
        }
        headers = {"kid": self.certificate_id, "typ": "JWT"}
        return jwt.encode(claims, self._key, algorithm=self.algorithm, headers=headers)

    def access_token(self, *, renew: bool = False) -> str:
        """A live bearer token: the cached one, or a new one when it is near expiry or `renew` is set."""
        with self._lock:
            if renew or self._token is None or self._clock() >= self._token.refresh_at:
                self._token = self._mint()
            return self._token.value.get_secret_value()

    def _mint(self) -> _Token:
        form = {
            "grant_type": "client_credentials",
            "client_assertion_type": CLIENT_ASSERTION_TYPE,
            "client_assertion": self.client_assertion(),
        }
        try:
            response = self._session.post(self.token_url, data=form, timeout=self._timeout)
        except requests.Timeout as exc:
            raise NetSuiteTransientError("TIMEOUT", f"token endpoint {self.token_url} timed out") from exc
        except requests.ConnectionError as exc:
            raise NetSuiteTransientError(
                "CONNECTION_ERROR", f"cannot reach token endpoint {self.token_url}: {type(exc).__name__}"
            ) from exc
        if response.status_code == 200:
            try:
                answer = _TokenResponse.model_validate_json(response.content)
            except ValidationError:
                raise NetSuiteError(
                    "TOKEN_RESPONSE_INVALID", f"token endpoint {self.token_url} answered 200 without a token"
                ) from None
            if answer.token_type.lower() != "bearer":
                raise NetSuiteError("TOKEN_RESPONSE_INVALID", f"unexpected token type {answer.token_type!r}")
            lifetime = answer.expires_in
            margin = min(self._refresh_margin, lifetime / 2)  # a short-lived token must still be reused
            logger.info("Minted a NetSuite access token", extra={"expires_in": lifetime})
            return _Token(answer.access_token, self._clock() + lifetime - margin)
        code, message = _token_error(response)
        if response.status_code == 429:
            raise NetSuiteThrottledError(code, message, status=429)
        if response.status_code >= 500:
            raise NetSuiteTransientError(code, message, status=response.status_code)
        detail = f"token endpoint: {code}: {message}"
        raise NetSuiteAuthError(code, self.login_failure_message(detail), status=response.status_code)

    def _authenticate(self, request: requests.PreparedRequest) -> None:
        request.headers["Authorization"] = f"Bearer {self.access_token()}"

    def _reauthenticate(self, request: requests.PreparedRequest) -> None:
        request.headers["Authorization"] = f"Bearer {self.access_token(renew=True)}"

    def login_failure_causes(self) -> list[str]:
        return [
            f"Certificate: the certificate id {self.certificate_id!r} (the JWT's kid) must be the one listed "
            "in Setup > Integration > OAuth 2.0 Client Credentials (M2M) Setup for this integration and "
            "role; the certificate may have expired (2 years at most) or been revoked, or the private key "
            "in the secret is not the certificate's key.",
            f"Client id: {_masked(self.client_id)} (the JWT's iss) must be the client id of the integration "
            "record the certificate is mapped to.",
            "Role: the mapped role needs the 'OAuth 2.0 Access Tokens' permission and must be in the "
            "RESTlet deployment's audience; the integration record needs the 'Client Credentials (Machine "
            "to Machine) Grant' and the RESTlets scope.",
            f"Account: the token URL {self.token_url} (the JWT's aud) must be this account's.",
            f"Clock: this host's clock must be right (the {self.algorithm} assertion lives "
            f"{ASSERTION_LIFETIME_SECONDS} seconds).",
        ]


def _masked(identifier: str) -> str:
    return f"{identifier[:6]}..." if len(identifier) > 8 else "(short id)"


def _token_error(response: requests.Response) -> tuple[str, str]:
    """NetSuite's token endpoint answers OAuth's {"error": "..."} or its own {"error": {code, message}}."""
    try:
        body = response.json()
    except ValueError:
        return f"HTTP_{response.status_code}", response.text[:200] or response.reason
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return str(error.get("code", f"HTTP_{response.status_code}")), str(error.get("message", ""))
    if isinstance(error, str):
        return error, str(body.get("error_description", ""))
    return f"HTTP_{response.status_code}", response.reason


def build_auth(
    settings: Settings,
    credentials: TbaCredentials | M2MCredentials,
    *,
    clock: Clock = time.time,
) -> TbaAuth | M2MAuth:
    """The auth `settings.netsuite_auth_method` asks for, from matching credentials."""
    if isinstance(credentials, TbaCredentials):
        return TbaAuth(credentials, realm=settings.netsuite_realm)
    return M2MAuth(
        credentials, settings.token_url, clock=clock, timeout_seconds=settings.netsuite_timeout_seconds
    )
