"""Getting an access token for an endpoint, by its auth method, with authlib's OAuth 2
client over httpx2; the SMART backend-services assertion is signed with pyjwt.

Methods:
- none: no token;
- bearer: a static token kept in the keyring;
- backend: SMART backend services, client credentials with a signed JWT assertion
  (RS384 or ES384; at most five minutes' lifetime and a fresh jti, as SMART asks);
- client_secret_basic, client_secret_post: client credentials with a secret;
- standalone: a person signs in in the system browser, authorization code with PKCE
  and a loopback redirect (RFC 8252); the refresh token is kept in the keyring.
Secrets come from core.secrets only and never appear in errors or logs.
"""
from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import httpx2
import jwt
from authlib.common.security import generate_token
from authlib.common.urls import add_params_to_qs
from authlib.integrations.base_client import OAuthError
from authlib.integrations.httpx_client import OAuth2Client
from authlib.oauth2.rfc7523.client import ASSERTION_TYPE
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

from core import secrets
from core.labels import connection_problem

METHODS = ("none", "bearer", "backend", "client_secret_basic", "client_secret_post", "standalone")
ALGS = ("RS384", "ES384")
ASSERTION_LIFETIME_S = 300  # SMART: no more than five minutes
EARLY_S = 30  # a token this close to expiry is renewed before it is used


class AuthError(RuntimeError):
    """No token could be had; the message says why in words (never a secret)."""


@dataclass
class Token:
    access_token: str
    expires_at: float | None  # epoch seconds
    scope: str | None
    refresh_token: str | None = None

    def fresh(self, now: float) -> bool:
        return self.expires_at is None or self.expires_at - EARLY_S > now


def owner(endpoint: dict) -> str:
    """The name an endpoint's secrets are kept under in the keyring."""
    return f"fhir:{endpoint['name']}"


class SmartJwtAssertion:
    """authlib client-auth method: the SMART backend-services client assertion, signed with pyjwt."""

    name = "private_key_jwt"

    def __init__(self, token_url: str, private_key: str, alg: str, key_id: str | None) -> None:
        if alg not in ALGS:
            raise AuthError(f"backend services sign with RS384 or ES384, not {alg!r}")
        self.token_url, self.private_key, self.alg, self.key_id = token_url, private_key, alg, key_id

    def assertion(self, client_id: str) -> str:
        now = int(time.time())
        claims = {"iss": client_id, "sub": client_id, "aud": self.token_url, "iat": now,
                  "exp": now + ASSERTION_LIFETIME_S, "jti": uuid.uuid4().hex}
        headers = {"typ": "JWT", **({"kid": self.key_id} if self.key_id else {})}
        try:
            return jwt.encode(claims, _loaded_key(self.private_key), algorithm=self.alg, headers=headers)
        except (ValueError, TypeError, jwt.PyJWTError, UnsupportedAlgorithm) as exc:
            raise AuthError(f"the private key cannot sign {self.alg}: {type(exc).__name__}") from None

    def __call__(self, auth, method, uri, headers, body):
        body = add_params_to_qs(body or "", [("client_assertion_type", ASSERTION_TYPE),
                                             ("client_assertion", self.assertion(auth.client_id))])
        return uri, headers, body


@lru_cache(maxsize=32)
def _loaded_key(pem: str):
    """A private key parsed once: parsing (with its checks) takes ~35 ms of CPU, which twenty
    probes at once would spend holding up the window."""
    return serialization.load_pem_private_key(pem.encode(), password=None)


class TokenSource:
    """Hands out a valid access token for one endpoint, renewing it when it expires."""

    def __init__(self, endpoint: dict, token_url: str | None, *, http_options: dict | None = None,
                 authorize: Callable[[str], object] | None = None, now: Callable[[], float] = time.time) -> None:
        """`authorize(url)` starts a person's sign-in for `standalone`: it opens the URL in the
        system browser (webbrowser.open), whose redirect then comes back to a loopback port."""
        self.endpoint, self.token_url, self.now = endpoint, token_url, now
        self.http_options = http_options or {}
        self.authorize = authorize
        self.token: Token | None = None
        self.method = endpoint.get("auth") or "none"
        if self.method not in METHODS:
            raise AuthError(f"unknown auth method {self.method!r}")

    def current(self) -> Token | None:
        if self.method == "none":
            return None
        if self.token is None or not self.token.fresh(self.now()):
            self.token = self._renew()
        return self.token

    def expire(self) -> None:
        """The server refused the token (401): the next use gets a new one."""
        if self.token is not None:
            self.token.expires_at = 0

    # -- per method ---------------------------------------------------------------------
    def _renew(self) -> Token:
        if self.method == "bearer":
            value = secrets.get(owner(self.endpoint), "bearer_token")
            if not value:
                raise AuthError("no bearer token is stored for this endpoint")
            return Token(value, None, None)
        if not self.token_url:
            raise AuthError("no token endpoint: set one, or discover it from the server's smart-configuration")
        if self.method == "standalone":
            return self._standalone()
        return self._client_credentials()

    def _client(self, **kw) -> OAuth2Client:
        return OAuth2Client(client_id=self.endpoint.get("client_id"), scope=self.endpoint.get("scopes_requested"),
                            timeout=self.http_options.get("timeout", 15.0), verify=self.http_options.get("verify", True),
                            **kw)

    def _client_credentials(self) -> Token:
        if self.method == "backend":
            key = secrets.get(owner(self.endpoint), "private_key")
            if not key:
                raise AuthError("no private key is stored for this endpoint")
            method = SmartJwtAssertion(self.token_url, key, self.endpoint.get("alg") or "RS384", self.endpoint.get("key_id"))
            client = self._client(token_endpoint_auth_method=method.name)
            client.register_client_auth_method(method)
        else:
            secret = secrets.get(owner(self.endpoint), "client_secret")
            if not secret:
                raise AuthError("no client secret is stored for this endpoint")
            client = self._client(client_secret=secret, token_endpoint_auth_method=self.method)
        with client:
            return self._fetch(lambda: client.fetch_token(self.token_url, grant_type="client_credentials"))

    def _standalone(self) -> Token:
        refresh = (self.token.refresh_token if self.token else None) or secrets.get(owner(self.endpoint), "refresh_token")
        with self._client() as client:
            if refresh:
                try:
                    return self._keep(self._fetch(lambda: client.refresh_token(self.token_url, refresh_token=refresh)))
                except AuthError:
                    pass  # the refresh token expired or was revoked: sign in again
            if self.authorize is None:
                raise AuthError("this endpoint needs a person to sign in (standalone launch): do it from the console")
            authorize_url = (self.endpoint.get("smart_config") or {}).get("authorization_endpoint")
            if not authorize_url:
                raise AuthError("no authorization endpoint in the server's smart-configuration")
            return self._keep(self._fetch(lambda: self._sign_in(client, authorize_url)))

    def _sign_in(self, client: OAuth2Client, authorize_url: str) -> dict:
        from core.fhir.launch import LoopbackRedirect

        verifier = generate_token(64)  # RFC 7636: 43 to 128 unreserved characters
        with LoopbackRedirect() as redirect:
            client.redirect_uri = redirect.uri
            client.code_challenge_method = "S256"
            url, state = client.create_authorization_url(authorize_url, code_verifier=verifier,
                                                         aud=self.endpoint["base_url"])
            self.authorize(url)
            answered = redirect.wait()
        return client.fetch_token(self.token_url, authorization_response=answered, code_verifier=verifier, state=state)

    def _keep(self, token: Token) -> Token:
        if token.refresh_token:
            secrets.put(owner(self.endpoint), "refresh_token", token.refresh_token)
        return token

    def _fetch(self, call: Callable[[], dict]) -> Token:
        try:
            t = call()
        except OAuthError as exc:  # a server may echo the request, secret and all
            said = getattr(exc, "description", None) or ""
            raise AuthError(secrets.scrub(f"the token endpoint refused: {exc.error}" + (f" ({said})" if said else "")
                                          + _meaning(said))) from None
        except httpx2.HTTPError as exc:
            raise AuthError(f"the token endpoint could not be reached: {connection_problem(exc)}") from None
        expires_in = t.get("expires_in")
        expires_at = self.now() + float(expires_in) if expires_in else t.get("expires_at")
        return Token(t["access_token"], float(expires_at) if expires_at else None, t.get("scope"), t.get("refresh_token"))


ACTIVATION_MISSING = "fhir app authentication is not enabled"


def _meaning(description: str) -> str:
    """What a token refusal means when its words are known: eClinicalWorks refuses an app
    the practice has not activated with these."""
    if ACTIVATION_MISSING in description.lower():
        return (": the practice has not activated this app for FHIR yet. Its eClinicalWorks administrator enables "
                "FHIR app authentication for the app (and, for backend services, registers its public key) in the "
                "practice's eCW settings; sign in again once they say it is done")
    return ""
