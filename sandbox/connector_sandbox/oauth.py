"""An OAuth 2.0 authorization server (authorization-code flow), parameterised by the vendor's rules.

* ``authorize``: consent is granted at once (no browser needed) and the user agent is redirected to
  ``redirect_uri?code=…&state=…``; codes are single use and expire (:attr:`TokenRules.code_ttl`). An
  unknown client or an unregistered redirect URI is answered here, never redirected to
  (RFC 6749 §4.1.2.1).
* ``token``: the ``authorization_code`` and ``refresh_token`` grants, client credentials in the body.
  :class:`TokenRules` say how the vendor refreshes: access token lifetime; with rotation (every
  refresh answers a new refresh token and the old one is refused from then on) or without (the
  refresh token stays and the answer carries none); refused while the access token is younger than
  ``min_refresh_age``; unused refresh tokens expiring; an old refresh token presented again revoking
  the whole chain; a new consent revoking the user's previous chain.
* PKCE (RFC 7636, when :attr:`TokenRules.pkce_methods` names methods): a ``code_challenge`` given to
  ``authorize`` must be answered by the matching ``code_verifier`` at the code exchange (``plain``
  when no method is named, as the RFC says); :attr:`TokenRules.pkce_required` refuses codes without one.
* Client authentication at the token endpoint: ``client_secret_post`` (credentials in the body)
  and/or ``client_secret_basic`` (HTTP Basic, RFC 6749 §2.3.1), as :attr:`TokenRules.client_auth_methods`
  allows.
* ``revoke`` (RFC 7009): a refresh token revokes its chain, an access token itself.
* Every error answer is the vendor's: :class:`OAuthError` entries by situation (RFC 6749 §5.2 by
  default, :data:`DEFAULT_ERRORS`), overridden in the rules.

A chain is one consent: its current refresh token, the ones it replaced, its access tokens.
:class:`OAuthControl` gives an emulator ``issue_tokens()`` / ``expire_tokens()`` and their control
routes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import threading
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec
from werkzeug.wrappers import Request, Response

from .responses import json_response


@dataclass(frozen=True)
class OAuthError:
    """One error answer: HTTP status, ``error`` code, ``error_description`` and extra headers."""

    status: int
    error: str
    description: str
    headers: Mapping[str, str] = field(default_factory=dict)

    def answer(self, **values: Any) -> tuple[int, dict[str, str], dict[str, str]]:
        return self.status, dict(self.headers), {"error": self.error,
                                                 "error_description": self.description.format(**values)}


DEFAULT_ERRORS: dict[str, OAuthError] = {
    # token endpoint
    "not_form_encoded": OAuthError(400, "invalid_request",
                                   "The request body must be application/x-www-form-urlencoded."),
    "invalid_client": OAuthError(400, "invalid_client", "Invalid client credentials."),
    "invalid_code": OAuthError(400, "invalid_grant", "The authorization code is invalid, expired or already used."),
    "old_refresh_token": OAuthError(400, "invalid_grant", "The refresh token was already used."),
    "invalid_refresh_token": OAuthError(400, "invalid_grant", "Invalid refresh token."),
    "expired_refresh_token": OAuthError(400, "invalid_grant", "The refresh token has expired."),
    "too_early": OAuthError(400, "invalid_request", "The access token is too young to be refreshed."),
    "invalid_code_verifier": OAuthError(400, "invalid_grant", "The code_verifier does not match the code_challenge."),
    "unsupported_grant_type": OAuthError(400, "unsupported_grant_type", "Unsupported grant_type {grant!r}."),
    # authorization endpoint (answered, not redirected)
    "unknown_client": OAuthError(400, "invalid_client", "Unknown client_id."),
    "redirect_mismatch": OAuthError(400, "invalid_request", "redirect_uri does not match."),
}


@dataclass(frozen=True)
class TokenRules:
    """How a vendor's authorization server behaves (the defaults: a plain RFC 6749 server)."""

    access_ttl: float = 3600.0
    code_ttl: float = 600.0
    refresh_ttl: float | None = None  # an unused refresh token expires after this many seconds
    rotate_refresh_token: bool = True  # every refresh answers a new refresh token (the old one dies)
    min_refresh_age: float = 0.0  # a refresh is refused while the access token is younger than this
    revoke_chain_on_reuse: bool = False  # an old refresh token presented again revokes its whole chain
    one_chain_per_user: bool = True  # a new consent revokes the user's previous chain
    token_type: str = "Bearer"
    expires_in_as_string: bool = False  # "600" instead of 600
    form_encoded_only: bool = True  # token requests must be form-encoded (else JSON bodies too)
    code_format: str = "sbx{digest}"  # an authorization code; {digest}: 40 hex characters
    # tokens by kind ("A" access, "R" refresh); {digest}: 88 hex characters (default "sbx{kind}.{digest}")
    token_formats: Mapping[str, str] = field(default_factory=dict)
    pkce_methods: tuple[str, ...] = ()  # code_challenge_method values honoured ("S256", "plain"); () ignores PKCE
    pkce_required: bool = False  # authorize refuses requests without a code_challenge
    client_auth_methods: tuple[str, ...] = ("client_secret_post",)  # and/or "client_secret_basic"
    errors: Mapping[str, OAuthError] = field(default_factory=dict)  # overrides of DEFAULT_ERRORS

    def error(self, situation: str, **values: Any) -> tuple[int, dict[str, str], dict[str, str]]:
        return (self.errors.get(situation) or DEFAULT_ERRORS[situation]).answer(**values)


class Chain:
    """One consent: its current refresh token, the ones it replaced, its access tokens."""

    __slots__ = ("id", "client_id", "user_id", "refresh", "old_refresh", "refresh_issued", "access_issued",
                 "access", "revoked")

    def __init__(self, cid: int, client_id: str, user_id: str) -> None:
        self.id = cid
        self.client_id = client_id
        self.user_id = user_id
        self.refresh = ""
        self.old_refresh: set[str] = set()
        self.refresh_issued = 0.0  # when the refresh token was issued or last used
        self.access_issued = 0.0
        self.access: set[str] = set()
        self.revoked = False


class AuthorizationServer:
    """Codes, tokens and chains of one registered client on the sandbox clock."""

    def __init__(self, clock: Any, rules: TokenRules, *, seed: int, client_id: str, client_secret: str,
                 redirect_uri: str | None, user_id: str, routes: Mapping[str, str] | None = None,
                 token_extras: Callable[[Chain], Mapping[str, Any]] | None = None) -> None:
        self.clock = clock
        self.rules = rules
        self.seed = seed
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.user_id = user_id
        self.token_extras = token_extras  # more members of every token answer (an OIDC id_token...)
        # the vendor's URLs: path -> "authorize" | "token" | "revoke" (matched case-insensitively)
        self.routes = {k.lower().rstrip("/"): (k.rstrip("/"), v) for k, v in (routes or {}).items()}
        self._lock = threading.Lock()
        self._n = 0
        self._codes: dict[str, tuple[str, str, float, str | None, str]] = {}
        self._access: dict[str, tuple[Chain, float]] = {}
        self._refresh: dict[str, Chain] = {}
        self._chains: list[Chain] = []
        self.counters = {"authorizations": 0, "token_requests": 0, "code_exchanges": 0, "refreshes": 0,
                         "too_early": 0, "old_refresh_token": 0, "invalid_grant": 0, "invalid_client": 0}

    # ------------------------------------------------------------------ tokens
    def _digest(self, kind: str) -> str:
        self._n += 1
        return hashlib.sha256(f"{self.seed}|{kind}|{self._n}".encode()).hexdigest()

    def _token(self, kind: str) -> str:
        digest = self._digest(kind)
        fmt = self.rules.token_formats.get(kind)
        if fmt is not None:
            return fmt.format(kind=kind, digest=digest + digest[:24])
        return f"sbx{kind}.{digest}{digest[:24]}"

    def _new_chain(self) -> Chain:
        if self.rules.one_chain_per_user:
            for old in self._chains:
                if old.client_id == self.client_id and old.user_id == self.user_id and not old.revoked:
                    self._revoke(old)
        chain = Chain(len(self._chains) + 1, self.client_id, self.user_id)
        self._chains.append(chain)
        return chain

    def _issue(self, chain: Chain, *, new_refresh: bool = True) -> dict[str, Any]:
        now = self.clock.timestamp()
        access = self._token("A")
        if new_refresh:
            refresh = self._token("R")
            if chain.refresh:
                chain.old_refresh.add(chain.refresh)
                self._refresh.pop(chain.refresh, None)
            chain.refresh = refresh
            self._refresh[refresh] = chain
        chain.refresh_issued = now
        chain.access_issued = now
        chain.access.add(access)
        self._access[access] = (chain, now + self.rules.access_ttl)
        ttl = int(self.rules.access_ttl)
        out: dict[str, Any] = {"access_token": access, "token_type": self.rules.token_type,
                               "expires_in": str(ttl) if self.rules.expires_in_as_string else ttl}
        if new_refresh:
            out["refresh_token"] = chain.refresh
        if self.token_extras is not None:
            out.update(self.token_extras(chain))
        return out

    def _revoke(self, chain: Chain) -> None:
        chain.revoked = True
        for a in chain.access:
            self._access.pop(a, None)
        self._refresh.pop(chain.refresh, None)

    def issue_tokens(self) -> dict[str, Any]:
        """A fresh consent without the browser round trip (a valid token pair for tests)."""
        with self._lock:
            return self._issue(self._new_chain())

    def revoke_all(self) -> int:
        """Every consent is withdrawn (the user or an admin revoked the app): its refresh and access
        tokens stop working; returns how many chains were live."""
        with self._lock:
            live = [c for c in self._chains if not c.revoked]
            for chain in live:
                self._revoke(chain)
            return len(live)

    def check_access(self, token: str) -> tuple[Chain | None, str]:
        """(chain, "") when valid, else (chain or None, "invalid" | "expired")."""
        with self._lock:
            hit = self._access.get(token)
            if hit is None:
                return None, "invalid"
            chain, expires = hit
            if chain.revoked:
                return None, "invalid"
            if self.clock.timestamp() >= expires:
                return chain, "expired"
            return chain, ""

    def expire_access_tokens(self) -> int:
        """Every issued access token expires now (refresh tokens stay valid)."""
        with self._lock:
            now = self.clock.timestamp()
            for k, (chain, _) in list(self._access.items()):
                self._access[k] = (chain, now)
            return len(self._access)

    def reset(self) -> None:
        with self._lock:
            self._codes.clear()
            self._access.clear()
            self._refresh.clear()
            self._chains.clear()
            for k in self.counters:
                self.counters[k] = 0

    # ------------------------------------------------------------------ endpoints
    def authorize(self, args: Mapping[str, str]) -> tuple[int, dict[str, str], Any]:
        """(status, headers, body) of the authorization endpoint."""
        client_id = args.get("client_id", "")
        redirect = args.get("redirect_uri", "")
        if client_id != self.client_id:
            return self.rules.error("unknown_client")
        if not redirect or (self.redirect_uri is not None and redirect != self.redirect_uri):
            return self.rules.error("redirect_mismatch")
        state = args.get("state")
        params: dict[str, str] = {}
        challenge = args.get("code_challenge") or None
        method = args.get("code_challenge_method") or "plain"
        pkce = bool(self.rules.pkce_methods)
        if args.get("response_type") != "code":
            params["error"] = "unsupported_response_type"
        elif pkce and challenge is not None and method not in self.rules.pkce_methods:
            params["error"] = "invalid_request"
            params["error_description"] = f"code_challenge_method must be one of {', '.join(self.rules.pkce_methods)}"
        elif pkce and self.rules.pkce_required and challenge is None:
            params["error"] = "invalid_request"
            params["error_description"] = "code_challenge is required"
        else:
            with self._lock:
                code = self.rules.code_format.format(digest=self._digest("code")[:40])
                self._codes[code] = (client_id, redirect, self.clock.timestamp(), challenge if pkce else None, method)
                self.counters["authorizations"] += 1
            params["code"] = code
        if state is not None:
            params["state"] = state
        sep = "&" if "?" in redirect else "?"
        location = redirect + sep + urllib.parse.urlencode(params, quote_via=urllib.parse.quote, safe="")
        return 302, {"Location": location}, None

    def _form_ok(self, content_type: str) -> bool:
        ctype = (content_type or "").lower()
        return "application/x-www-form-urlencoded" in ctype or (
            not self.rules.form_encoded_only and "application/json" in ctype)

    def _client(self, form: Mapping[str, str], basic: tuple[str, str] | None) -> bool:
        """Whether the request authenticates the registered client by a method the rules allow."""
        methods = self.rules.client_auth_methods
        if basic is not None and "client_secret_basic" in methods:  # (a Basic header is ignored otherwise)
            client_id, secret = basic
            if form.get("client_id") not in (None, "", client_id) or form.get("client_secret") not in (None, "", secret):
                return False
        else:
            if "client_secret_post" not in methods:
                return False
            client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        return hmac.compare_digest(client_id, self.client_id) and hmac.compare_digest(secret, self.client_secret)

    @staticmethod
    def _verifier_ok(challenge: str, method: str, verifier: str | None) -> bool:
        if not verifier:
            return False
        if method == "S256":
            digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
            return hmac.compare_digest(base64.urlsafe_b64encode(digest).rstrip(b"=").decode(), challenge)
        return hmac.compare_digest(verifier, challenge)

    def token(self, form: Mapping[str, str], content_type: str,
              basic: tuple[str, str] | None = None) -> tuple[int, dict[str, str], dict[str, Any]]:
        """(status, headers, JSON body) of the token endpoint (``basic``: HTTP Basic client credentials)."""
        rules = self.rules
        with self._lock:
            self.counters["token_requests"] += 1
            if not self._form_ok(content_type):
                return rules.error("not_form_encoded")
            if not self._client(form, basic):
                self.counters["invalid_client"] += 1
                return rules.error("invalid_client")
            grant = form.get("grant_type")
            now = self.clock.timestamp()
            if grant == "authorization_code":
                hit = self._codes.pop(form.get("code", ""), None)
                if hit is None or now - hit[2] > rules.code_ttl or hit[0] != self.client_id or \
                        hit[1] != form.get("redirect_uri"):
                    self.counters["invalid_grant"] += 1
                    return rules.error("invalid_code")
                if hit[3] is not None and not self._verifier_ok(hit[3], hit[4], form.get("code_verifier")):
                    self.counters["invalid_grant"] += 1
                    return rules.error("invalid_code_verifier")
                self.counters["code_exchanges"] += 1
                return 200, {}, self._issue(self._new_chain())
            if grant == "refresh_token":
                token = form.get("refresh_token", "")
                chain = self._refresh.get(token)
                if chain is None:
                    old = next((c for c in self._chains if token in c.old_refresh), None)
                    if old is not None:
                        self.counters["old_refresh_token"] += 1
                        if rules.revoke_chain_on_reuse and not old.revoked:
                            self._revoke(old)
                        return rules.error("old_refresh_token")
                    self.counters["invalid_grant"] += 1
                    return rules.error("invalid_refresh_token")
                if rules.refresh_ttl is not None and now - chain.refresh_issued > rules.refresh_ttl:
                    self.counters["invalid_grant"] += 1
                    self._revoke(chain)
                    return rules.error("expired_refresh_token")
                if now - chain.access_issued < rules.min_refresh_age:
                    self.counters["too_early"] += 1
                    return rules.error("too_early")
                self.counters["refreshes"] += 1
                return 200, {}, self._issue(chain, new_refresh=rules.rotate_refresh_token)
            return rules.error("unsupported_grant_type", grant=grant)

    def revoke(self, form: Mapping[str, str], content_type: str,
               basic: tuple[str, str] | None = None) -> tuple[int, dict[str, str], dict[str, Any]]:
        """RFC 7009: 200 for any token of this client (unknown ones included)."""
        with self._lock:
            if not self._form_ok(content_type):
                return self.rules.error("not_form_encoded")
            if not self._client(form, basic):
                self.counters["invalid_client"] += 1
                return self.rules.error("invalid_client")
            token = form.get("token", "")
            chain = self._refresh.get(token)
            if chain is not None:
                self._revoke(chain)
            elif token in self._access:
                chain, _ = self._access.pop(token)
                chain.access.discard(token)
            return 200, {}, {}

    # ------------------------------------------------------------------ HTTP
    def handle(self, request: Request) -> Response | None:
        """Answer a request to one of :attr:`routes` (None: not an OAuth route)."""
        hit = self.routes.get(request.path.lower().rstrip("/"))
        if hit is None:
            return None
        request.environ["sandbox.route"], endpoint = hit
        method = "GET" if endpoint == "authorize" else "POST"
        if request.method != method:
            return json_response({"error": "invalid_request"}, 405, {"Allow": method})
        if endpoint == "authorize":
            status, headers, body = self.authorize(request.args.to_dict())
            if status == 302:
                return Response(status=302, headers=headers)
            return json_response(body, status, headers)
        content_type = request.headers.get("Content-Type", "")
        fields: Mapping[str, Any] = request.form.to_dict()
        if "application/json" in content_type.lower() and not self.rules.form_encoded_only:
            try:
                fields = msgspec.json.decode(request.get_data() or b"{}")
            except msgspec.DecodeError:
                fields = {}
            if not isinstance(fields, dict):
                fields = {}
        answer = self.token if endpoint == "token" else self.revoke
        status, headers, body = answer(fields, content_type, basic_credentials(request.headers.get("Authorization")))
        return json_response(body, status, {"Cache-Control": "no-store", **headers})


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    """(client_id, client_secret) of an ``Authorization: Basic`` header (form-decoded, RFC 6749 §2.3.1)."""
    scheme, _, value = (header or "").partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        return None
    try:
        text = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return ("", "")
    client_id, _, secret = text.partition(":")
    return urllib.parse.unquote_plus(client_id), urllib.parse.unquote_plus(secret)


class OAuthControl:
    """Mixed into an emulator that has an :class:`AuthorizationServer` as ``self.oauth``."""

    oauth: AuthorizationServer

    def issue_tokens(self) -> dict[str, Any]:
        """A valid token pair, as after a consent and the code exchange (revokes the previous chain)."""
        return self.oauth.issue_tokens()

    def expire_tokens(self) -> int:
        """Every issued access token expires now (refresh tokens stay valid)."""
        return self.oauth.expire_access_tokens()

    def control_extra(self, action: str, request: Request, body: dict[str, Any]) -> Response | None:
        if action == "tokens" and request.method == "POST":
            return json_response(self.issue_tokens())
        if action == "expire-tokens" and request.method == "POST":
            return json_response({"expired": self.expire_tokens()})
        return super().control_extra(action, request, body)  # type: ignore[misc]
