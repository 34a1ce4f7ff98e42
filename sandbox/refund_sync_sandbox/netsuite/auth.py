"""Server-side checks of NetSuite's two logins, strict where NetSuite is strict.

TBA: the OAuth 1.0a HMAC-SHA256 signature is recomputed with oauthlib's signature functions from the
method, the URL, the query and the oauth_* parameters (a JSON body is not signed); the realm must
match exactly (1234567_SB1, never 1234567_sb1), the timestamp must be within 5 minutes and a nonce
cannot come twice. HMAC-SHA1 has not worked since 2023.1.

M2M: the token endpoint verifies the client assertion with the registered certificate's public key
and hands out an opaque bearer token that lives one hour; the RESTlet accepts only live tokens.

Each check returns the reason it failed (kept in the call log for tests and the curious); the
caller answers every failure with the same 401 INVALID_LOGIN_ATTEMPT, as NetSuite does.
"""

from __future__ import annotations

import hmac
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import jwt
from oauthlib.oauth1.rfc5849 import signature, utils

from refund_sync_sandbox.netsuite.credentials import M2MKeys, TbaKeys

Now = Callable[[], float]

TIMESTAMP_TOLERANCE_SECONDS = 300
NONCE_MEMORY_SECONDS = 2 * TIMESTAMP_TOLERANCE_SECONDS
TOKEN_LIFETIME_SECONDS = 3600
BEARER = "Bearer"
MAX_ASSERTION_LIFETIME_SECONDS = 3600
ASSERTION_CLOCK_SKEW_SECONDS = 300
ACCEPTED_JWT_ALGORITHMS = frozenset({"PS256", "PS384", "PS512", "ES256", "ES384", "ES512"})
CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
_REQUIRED_OAUTH_PARAMS = (
    "oauth_consumer_key",
    "oauth_token",
    "oauth_signature_method",
    "oauth_timestamp",
    "oauth_nonce",
    "oauth_signature",
)


@dataclass(frozen=True)
class _SignedRequest:
    """What oauthlib's verify functions read from a request."""

    uri: str
    http_method: str
    params: list[tuple[str, str]]
    signature: str


class TbaVerifier:
    """Checks `Authorization: OAuth ...` headers against one integration's keys and the account's realm."""

    def __init__(self, keys: TbaKeys, realm: str, now: Now) -> None:
        self._keys = keys
        self._realm = realm
        self._now = now
        self._nonces: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def failure(self, *, http_method: str, url: str, query: str, authorization: str) -> str | None:
        """None when the request is properly signed, else why it is not."""
        try:
            header = {
                name: utils.unescape(value) for name, value in utils.parse_authorization_header(authorization)
            }
        except ValueError:
            return "malformed OAuth Authorization header"
        missing = [name for name in _REQUIRED_OAUTH_PARAMS if not header.get(name)]
        if missing:
            return f"missing {', '.join(missing)}"
        if header["oauth_signature_method"] != "HMAC-SHA256":
            return f"signature method {header['oauth_signature_method']} is not accepted (HMAC-SHA256 only)"
        if header.get("oauth_version", "1.0") != "1.0":
            return f"oauth_version {header['oauth_version']} is not 1.0"
        if header.get("realm") != self._realm:
            return f"realm {header.get('realm')!r} is not {self._realm!r}"
        if not hmac.compare_digest(header["oauth_consumer_key"], self._keys.consumer_key):
            return "unknown consumer key"
        if not hmac.compare_digest(header["oauth_token"], self._keys.token_id):
            return "unknown token id"
        try:
            timestamp = int(header["oauth_timestamp"])
        except ValueError:
            return "oauth_timestamp is not a number"
        now = self._now()
        if abs(now - timestamp) > TIMESTAMP_TOLERANCE_SECONDS:
            return f"timestamp is {now - timestamp:+.0f}s away from the server clock"
        try:
            params = signature.collect_parameters(uri_query=query, headers={"Authorization": authorization})
        except ValueError:
            return "query string cannot be parsed"
        signed = _SignedRequest(url, http_method.upper(), params, header["oauth_signature"])
        if not signature.verify_hmac_sha256(
            signed, client_secret=self._keys.consumer_secret, resource_owner_secret=self._keys.token_secret
        ):
            return "signature does not match (wrong secret, URL, query or method)"
        return self._use_nonce(header["oauth_nonce"], timestamp, now)

    def _use_nonce(self, nonce: str, timestamp: int, now: float) -> str | None:
        with self._lock:
            for key, seen_at in list(self._nonces.items()):
                if now - seen_at > NONCE_MEMORY_SECONDS:
                    del self._nonces[key]
            key = (nonce, str(timestamp))
            if key in self._nonces:
                return "nonce already used"
            self._nonces[key] = now
        return None


@dataclass(frozen=True)
class TokenOutcome:
    status: int
    body: dict[str, object]
    failure: str | None = None


class M2MTokenIssuer:
    """The account's OAuth 2.0 token endpoint for one certificate mapping, and the tokens it issued."""

    def __init__(self, keys: M2MKeys, now: Now) -> None:
        self._keys = keys
        self._public_key = keys.public_key()
        self._now = now
        self._tokens: dict[str, float] = {}
        self._lock = threading.Lock()

    def issue(self, form: Mapping[str, str], token_url: str) -> TokenOutcome:
        if form.get("grant_type") != "client_credentials":
            return TokenOutcome(
                400, {"error": "unsupported_grant_type"}, "grant_type is not client_credentials"
            )
        if form.get("client_assertion_type") != CLIENT_ASSERTION_TYPE or not form.get("client_assertion"):
            return TokenOutcome(400, {"error": "invalid_request"}, "no jwt-bearer client assertion")
        failure = self._assertion_failure(form["client_assertion"], token_url)
        if failure is not None:
            return TokenOutcome(401, invalid_login_body(), failure)
        token = secrets.token_urlsafe(32)
        now = self._now()
        with self._lock:
            self._tokens = {value: expiry for value, expiry in self._tokens.items() if expiry > now}
            self._tokens[token] = now + TOKEN_LIFETIME_SECONDS
        return TokenOutcome(
            200, {"access_token": token, "token_type": BEARER, "expires_in": TOKEN_LIFETIME_SECONDS}
        )

    def bearer_failure(self, token: str) -> str | None:
        with self._lock:
            expiry = self._tokens.get(token)
        if expiry is None:
            return "unknown bearer token"
        if self._now() >= expiry:
            return "bearer token expired"
        return None

    def revoke_all(self) -> None:
        """An admin revoked the integration's tokens: the next call with one gets 401."""
        with self._lock:
            self._tokens.clear()

    @property
    def live_tokens(self) -> int:
        now = self._now()
        with self._lock:
            return sum(1 for expiry in self._tokens.values() if expiry > now)

    def _assertion_failure(self, assertion: str, token_url: str) -> str | None:
        try:
            header = jwt.get_unverified_header(assertion)
        except jwt.PyJWTError:
            return "client assertion is not a JWT"
        algorithm = header.get("alg")
        if algorithm not in ACCEPTED_JWT_ALGORITHMS:
            return f"JWT algorithm {algorithm!r} is not accepted (PS256/384/512 or ES256/384/512)"
        if header.get("typ") != "JWT":
            return "JWT header typ is not JWT"
        if header.get("kid") != self._keys.certificate_id:
            return f"no certificate with id {header.get('kid')!r}"
        try:
            claims = jwt.decode(
                assertion,
                self._public_key,  # type: ignore[arg-type]  # an RSA or EC public key, checked by pyjwt
                algorithms=[algorithm],
                audience=token_url,
                issuer=self._keys.client_id,
                # Time is checked below against the account's (injectable) clock.
                options={
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                    "require": ["iss", "aud", "iat", "exp", "scope"],
                },
            )
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            return f"JWT rejected: {exc}"
        return self._claims_failure(claims)

    def _claims_failure(self, claims: Mapping[str, object]) -> str | None:
        issued_at, expires_at = claims["iat"], claims["exp"]
        if not isinstance(issued_at, int | float) or not isinstance(expires_at, int | float):
            return "iat and exp must be numbers"
        now = self._now()
        if expires_at - issued_at > MAX_ASSERTION_LIFETIME_SECONDS:
            return "exp is more than 60 minutes after iat"
        if expires_at <= now:
            return "client assertion expired"
        if issued_at > now + ASSERTION_CLOCK_SKEW_SECONDS:
            return "client assertion issued in the future"
        scope = claims["scope"]
        scopes = scope.replace(",", " ").split() if isinstance(scope, str) else scope
        if not isinstance(scopes, list) or "restlets" not in scopes:
            return "scope does not include restlets"
        return None


def invalid_login_body() -> dict[str, object]:
    return {"error": {"code": "INVALID_LOGIN_ATTEMPT", "message": "Invalid login attempt."}}
