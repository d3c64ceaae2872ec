"""Exact Online OAuth2 (authorization-code flow with rotating refresh tokens), §2.2.

* ``GET /api/oauth2/auth``: consent is granted at once (no browser needed) and the user agent is
  redirected to ``redirect_uri?code=…&state=…``. Codes live 3 minutes, are single use and contain
  ``!`` (so a client must URL-decode them, as with Exact's codes: ``%21`` -> ``!``).
* ``POST /api/oauth2/token`` (form-encoded): ``authorization_code`` and ``refresh_token`` grants with
  ``client_id``/``client_secret``; answers ``{"access_token","token_type":"bearer","expires_in":"600",
  "refresh_token"}`` (``expires_in`` is a STRING, as Exact sends it).
* Access tokens live 600 s on the sandbox clock. A refresh less than 570 s after the current access
  token was issued: 400 ``access_denied`` "Rate limit exceeded: access_token not expired" + header
  ``Reason: TooEarlyToRefreshTokens…`` (nothing rotates).
* Every refresh rotates the refresh token; presenting an old one: 401 ``unauthorized_client``
  "Old refresh token used." Conservative reading (the user must re-consent in practice, §2.10): the
  whole chain is revoked, including the newest refresh token and its access tokens.
* One chain per user and app: a new consent revokes the previous chain (§2.2, Skyvia docs).
"""

from __future__ import annotations

import hashlib
import threading
import urllib.parse
from typing import Any

CODE_TTL = 180.0
REFRESH_TTL = 30 * 86400.0  # unused refresh tokens expire after 30 days (§2.2)


class Chain:
    __slots__ = ("id", "client_id", "user_id", "refresh", "old_refresh", "refresh_issued", "access_issued",
                 "access", "revoked")

    def __init__(self, cid: int, client_id: str, user_id: str) -> None:
        self.id = cid
        self.client_id = client_id
        self.user_id = user_id
        self.refresh = ""
        self.old_refresh: set[str] = set()
        self.refresh_issued = 0.0
        self.access_issued = 0.0
        self.access: set[str] = set()
        self.revoked = False


class OAuthServer:
    def __init__(self, clock: Any, *, seed: int, client_id: str, client_secret: str, redirect_uri: str | None,
                 user_id: str, access_ttl: float = 600.0, min_refresh_age: float = 570.0,
                 revoke_chain_on_reuse: bool = True) -> None:
        self.clock = clock
        self.seed = seed
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.user_id = user_id
        self.access_ttl = float(access_ttl)
        self.min_refresh_age = float(min_refresh_age)
        self.revoke_chain_on_reuse = revoke_chain_on_reuse
        self._lock = threading.Lock()
        self._n = 0
        self._codes: dict[str, tuple[str, str, float]] = {}
        self._access: dict[str, tuple[Chain, float]] = {}
        self._refresh: dict[str, Chain] = {}
        self._chains: list[Chain] = []
        self.counters = {"authorizations": 0, "token_requests": 0, "code_exchanges": 0, "refreshes": 0,
                         "too_early": 0, "old_refresh_token": 0, "invalid_grant": 0, "invalid_client": 0}

    # ------------------------------------------------------------------ tokens
    def _token(self, kind: str) -> str:
        self._n += 1
        digest = hashlib.sha256(f"{self.seed}|{kind}|{self._n}".encode()).hexdigest()
        return f"sbx{kind}.{digest}{digest[:24]}"

    def _new_chain(self) -> Chain:
        for old in self._chains:
            if old.client_id == self.client_id and old.user_id == self.user_id and not old.revoked:
                self._revoke(old)
        chain = Chain(len(self._chains) + 1, self.client_id, self.user_id)
        self._chains.append(chain)
        return chain

    def _issue(self, chain: Chain) -> dict[str, str]:
        now = self.clock.timestamp()
        access = self._token("A")
        refresh = self._token("R")
        if chain.refresh:
            chain.old_refresh.add(chain.refresh)
            self._refresh.pop(chain.refresh, None)
        chain.refresh = refresh
        chain.refresh_issued = now
        chain.access_issued = now
        chain.access.add(access)
        self._access[access] = (chain, now + self.access_ttl)
        self._refresh[refresh] = chain
        return {"access_token": access, "token_type": "bearer", "expires_in": str(int(self.access_ttl)),
                "refresh_token": refresh}

    def _revoke(self, chain: Chain) -> None:
        chain.revoked = True
        for a in chain.access:
            self._access.pop(a, None)
        self._refresh.pop(chain.refresh, None)

    def issue_tokens(self) -> dict[str, str]:
        """A fresh consent without the browser round trip (a valid token pair for tests)."""
        with self._lock:
            return self._issue(self._new_chain())

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
        with self._lock:
            now = self.clock.timestamp()
            for k, (chain, _) in list(self._access.items()):
                self._access[k] = (chain, now)
            return len(self._access)

    # ------------------------------------------------------------------ endpoints
    def authorize(self, args: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        """(status, headers, body) for GET /api/oauth2/auth."""
        client_id = args.get("client_id", "")
        redirect = args.get("redirect_uri", "")
        if client_id != self.client_id:
            return 400, {}, {"error": "invalid_client", "error_description": "Unknown client_id."}
        if not redirect or (self.redirect_uri is not None and redirect != self.redirect_uri):
            # Never redirect to an unregistered URI (RFC 6749 §4.1.2.1): answer the error here.
            return 400, {}, {"error": "invalid_request", "error_description": "redirect_uri does not match."}
        state = args.get("state")
        params: dict[str, str] = {}
        if args.get("response_type") != "code":
            params["error"] = "unsupported_response_type"
        else:
            with self._lock:
                self._n += 1
                code = "sbx!" + hashlib.sha256(f"{self.seed}|code|{self._n}".encode()).hexdigest()[:40] + "!a"
                self._codes[code] = (client_id, redirect, self.clock.timestamp())
                self.counters["authorizations"] += 1
            params["code"] = code
        if state is not None:
            params["state"] = state
        sep = "&" if "?" in redirect else "?"
        location = redirect + sep + urllib.parse.urlencode(params, quote_via=urllib.parse.quote, safe="")
        return 302, {"Location": location}, None

    def token(self, form: dict[str, str], content_type: str) -> tuple[int, dict[str, str], dict[str, str]]:
        """(status, headers, JSON body) for POST /api/oauth2/token."""
        with self._lock:
            self.counters["token_requests"] += 1
            if "application/x-www-form-urlencoded" not in (content_type or "").lower():
                return 400, {}, {"error": "invalid_request",
                                 "error_description": "The request body must be application/x-www-form-urlencoded."}
            # UNCERTAIN: Exact's answer to wrong client credentials is not in the contract; RFC 6749
            # §5.2 invalid_client with 400.
            if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
                self.counters["invalid_client"] += 1
                return 400, {}, {"error": "invalid_client", "error_description": "Invalid client credentials."}
            grant = form.get("grant_type")
            now = self.clock.timestamp()
            if grant == "authorization_code":
                code = form.get("code", "")
                hit = self._codes.pop(code, None)
                if hit is None or now - hit[2] > CODE_TTL or hit[0] != form.get("client_id") or \
                        hit[1] != form.get("redirect_uri"):
                    self.counters["invalid_grant"] += 1
                    return 400, {}, {"error": "invalid_grant",
                                     "error_description": "The authorization code is invalid, expired or already used."}
                self.counters["code_exchanges"] += 1
                return 200, {}, self._issue(self._new_chain())
            if grant == "refresh_token":
                token = form.get("refresh_token", "")
                chain = self._refresh.get(token)
                if chain is None:
                    old = next((c for c in self._chains if token in c.old_refresh), None)
                    if old is not None:
                        self.counters["old_refresh_token"] += 1
                        if self.revoke_chain_on_reuse and not old.revoked:
                            self._revoke(old)
                        return 401, {}, {"error": "unauthorized_client", "error_description": "Old refresh token used."}
                    self.counters["invalid_grant"] += 1
                    return 400, {}, {"error": "invalid_grant", "error_description": "Invalid refresh token."}
                if now - chain.refresh_issued > REFRESH_TTL:
                    self.counters["invalid_grant"] += 1
                    self._revoke(chain)
                    return 400, {}, {"error": "invalid_grant", "error_description": "The refresh token has expired."}
                if now - chain.access_issued < self.min_refresh_age:
                    self.counters["too_early"] += 1
                    # websmurf/laravel-exact-online #31 shows the header as
                    # "TooEarlyToRefreshTokens: Rate limit exceeded: access_token not expired".
                    return 400, {"Reason": "TooEarlyToRefreshTokens: Rate limit exceeded: access_token not expired"}, {
                        "error": "access_denied", "error_description": "Rate limit exceeded: access_token not expired"}
                self.counters["refreshes"] += 1
                return 200, {}, self._issue(chain)
            return 400, {}, {"error": "unsupported_grant_type", "error_description": f"Unsupported grant_type {grant!r}."}

    def reset(self) -> None:
        with self._lock:
            self._codes.clear()
            self._access.clear()
            self._refresh.clear()
            self._chains.clear()
            for k in self.counters:
                self.counters[k] = 0
