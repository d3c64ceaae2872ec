"""The interactive "Grant access" flow: consent URL, loopback redirect, code exchange, store."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import html
import logging
import secrets
import socket
import sys
import time
import typing as t
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import requests
import requests.auth

from connector_core.oauth.endpoint import DEFAULT_TOKEN_RETRY, TokenEndpoint
from connector_core.oauth.errors import LOG, AuthorizationError
from connector_core.oauth.store import OAuthTokens, TokenStorage
from connector_core.redaction import REDACTOR, SecretRedactor
from connector_core.retry import (
    RetryPolicy,
)

_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>{title}</title></head>
<body style="font-family: sans-serif; margin: 3em;">
<h1>{title}</h1><p>{text}</p></body></html>
"""


def build_consent_url(
    auth_url: str,
    *,
    client_id: str,
    redirect_uri: str,
    state: str,
    scopes: t.Sequence[str] | None = None,
    extra_params: t.Mapping[str, str] | None = None,
) -> str:
    """``{auth_url}?client_id=…&redirect_uri=…&response_type=code&state=…`` plus extras."""
    params: dict[str, str] = {
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "response_type": "code",
        "state": state,
    }
    if scopes:
        params["scope"] = " ".join(scopes)
    params.update(extra_params or {})
    separator = "&" if urlsplit(auth_url).query else "?"
    return f"{auth_url}{separator}{urlencode(params)}"


def _print_consent_url(url: str) -> None:
    sys.stderr.write(
        "\nOpen this address in a browser, sign in and grant access:\n\n"
        f"  {url}\n\nWaiting for the browser to come back...\n"
    )
    sys.stderr.flush()


class _IPv6HTTPServer(HTTPServer):
    address_family = socket.AF_INET6


def authorize(
    *,
    auth_url: str,
    token_url: str,
    client_id: str,
    client_secret: str,
    redirect_uri: str,
    store: TokenStorage,
    scopes: t.Sequence[str] | None = None,
    extra_params: t.Mapping[str, str] | None = None,
    pkce: bool = False,
    timeout: float = 300.0,
    show_url: t.Callable[[str], None] = _print_consent_url,
    open_browser: bool = False,
    session: requests.Session | None = None,
    retry_policy: RetryPolicy = DEFAULT_TOKEN_RETRY,
    client_auth: str = "body",
    default_lifetime: float = 3600.0,
    request_timeout: float = 60.0,
    clock: t.Callable[[], float] = time.time,
    logger: logging.Logger | logging.LoggerAdapter | None = None,
    redactor: SecretRedactor = REDACTOR,
) -> OAuthTokens:
    """Run the "Grant access" flow and store the tokens; returns them.

    1. Listen on the loopback address of ``redirect_uri`` (``http://127.0.0.1:PORT/path``
       or ``localhost``; port 0 picks a free port and rewrites the redirect URI,
       for vendors that accept any loopback port);
    2. ``show_url(consent_url)`` (default: print it to stderr); with
       ``open_browser`` the default browser opens it too;
    3. wait up to ``timeout`` seconds for the browser to come back with
       ``?code=…&state=…``; check ``state``; exchange the code
       (``grant_type=authorization_code``); write ``store`` under its lock;
    4. answer the browser with a short page saying whether it worked.

    With ``pkce`` (RFC 7636) the consent URL carries an S256 ``code_challenge`` and the code
    exchange its ``code_verifier``.

    Raises :class:`AuthorizationError` on a declined consent, a wrong
    ``state`` or a timeout, :class:`TokenEndpointError` if the code exchange fails.
    """
    log = logger or LOG
    parts = urlsplit(redirect_uri)
    host = (parts.hostname or "").lower()
    if parts.scheme != "http" or host not in _LOOPBACK_HOSTS:
        raise ValueError(
            f"redirect_uri must be a plain-http loopback address such as "
            f"http://127.0.0.1:8765/callback so that this command can receive the browser's "
            f"redirect; got {redirect_uri!r}"
        )
    try:
        port = parts.port if parts.port is not None else 80
    except ValueError:
        raise ValueError(f"redirect_uri has an invalid port: {redirect_uri!r}") from None
    path = parts.path or "/"
    redactor.add(client_secret)
    endpoint = TokenEndpoint(
        token_url=token_url,
        client_id=client_id,
        client_secret=client_secret,
        session=session or requests.Session(),
        retry_policy=retry_policy,
        client_auth=client_auth,
        timeout=request_timeout,
        default_lifetime=float(default_lifetime),
        clock=clock,
        logger=log,
        redactor=redactor,
    )
    state = secrets.token_urlsafe(24)
    verifier = secrets.token_urlsafe(48) if pkce else None
    if verifier is not None:
        redactor.add(verifier)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=")
        extra_params = {**(extra_params or {}), "code_challenge": challenge.decode("ascii"),
                        "code_challenge_method": "S256"}
    outcome: dict[str, t.Any] = {}

    server_class = _IPv6HTTPServer if host == "::1" else HTTPServer
    bind_host = "::1" if host == "::1" else "127.0.0.1"

    def exchange(code: str, effective_redirect: str) -> OAuthTokens:
        redactor.add(code)
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": effective_redirect}
        if verifier is not None:
            form["code_verifier"] = verifier
        response, sent_at = endpoint.post(form)
        tokens = endpoint.tokens_from(response, sent_at)
        with store.lock():
            store.write(tokens)
        return tokens

    class Handler(BaseHTTPRequestHandler):
        timeout = 10  # a browser's idle pre-connection must not hang the command

        def log_message(self, format: str, *args: t.Any) -> None:  # noqa: A002
            pass  # the request line holds the authorization code

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            request = urlsplit(self.path)
            if request.path != path:
                self._answer(404, "Not found", "This address is not part of the sign-in.")
                return
            query = parse_qs(request.query, keep_blank_values=True)

            def first(name: str) -> str | None:
                values = query.get(name)
                return values[0] if values else None

            code, error = first("code"), first("error")
            redactor.add(code)
            got_state = first("state")
            if got_state is None or not hmac.compare_digest(got_state, state):
                detail = f" (the redirect carried error={error!r})" if error else ""
                outcome["error"] = AuthorizationError(
                    "The browser came back with a wrong or missing state parameter, so the answer "
                    "was refused: it does not belong to this sign-in (an old browser tab, or a "
                    f"forged request){detail}. Run the command again."
                )
                self._answer(400, "Sign-in refused", "The answer does not match this sign-in. "
                             "Run the command again.")
                return
            if error is not None:
                description = first("error_description")
                text = f"error={error}" + (f": {description}" if description else "")
                if error == "access_denied":
                    message = (
                        f"Access was not granted ({text}). "
                        "Run the command again and approve access."
                    )
                else:
                    message = f"The authorization server refused the sign-in ({text})."
                outcome["error"] = AuthorizationError(redactor.redact(message))
                self._answer(400, "Access not granted", html.escape(redactor.redact(message)))
                return
            if not code:
                outcome["error"] = AuthorizationError(
                    "The browser came back without an authorization code. Run the command again."
                )
                self._answer(400, "Sign-in failed", "No authorization code was received.")
                return
            try:
                outcome["tokens"] = exchange(code, outcome["redirect_uri"])
            except Exception as exc:  # noqa: BLE001 - reported to the user below
                outcome["error"] = exc
                self._answer(500, "Sign-in failed",
                             "The code could not be exchanged for tokens; see the terminal.")
                return
            self._answer(200, "Access granted",
                         "The connector is authorized. You can close this tab.")

        def _answer(self, status: int, title: str, text: str) -> None:
            page = _PAGE.format(title=html.escape(title), text=text).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("Referrer-Policy", "no-referrer")
            self.end_headers()
            self.wfile.write(page)

    try:
        httpd = server_class((bind_host, port), Handler)
    except OSError as exc:
        raise AuthorizationError(
            f"cannot listen on {bind_host}:{port} for the browser's redirect: {exc.strerror or exc}"
        ) from None
    with httpd:
        bound_port = httpd.server_address[1]
        effective = redirect_uri
        if port == 0:
            netloc = f"[{host}]" if host == "::1" else host
            effective = urlunsplit((parts.scheme, f"{netloc}:{bound_port}", path, parts.query, ""))
        outcome["redirect_uri"] = effective
        url = build_consent_url(
            auth_url,
            client_id=client_id,
            redirect_uri=effective,
            state=state,
            scopes=scopes,
            extra_params=extra_params,
        )
        show_url(url)
        if open_browser:
            import webbrowser

            with contextlib.suppress(Exception):
                webbrowser.open(url)
        deadline = time.monotonic() + timeout
        while "tokens" not in outcome and "error" not in outcome:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AuthorizationError(
                    f"The browser did not come back to {effective} within {timeout:.0f} s. "
                    "Run the command again and finish the sign-in in time."
                )
            httpd.timeout = remaining
            httpd.handle_request()
    if "error" in outcome:
        raise outcome["error"]
    tokens: OAuthTokens = outcome["tokens"]
    log.info("Access granted; OAuth tokens saved to %s", store.location)
    return tokens
