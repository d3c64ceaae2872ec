"""``Authorization: Bearer`` on every request, one refresh and resend after a 401."""

from __future__ import annotations

import typing as t

import requests
import requests.auth

from connector_core.oauth.refresher import OAuthRefresher

_RETRIED_ATTR = "_connector_core_oauth_retried"


class BearerAuth(requests.auth.AuthBase):
    """``Authorization: Bearer <token>`` from an :class:`OAuthRefresher`, per request.

    With ``retry_on_401`` (the default) a 401 answer makes the refresher
    refresh (single flight, ``rejected=`` the token that was refused) and the
    request is sent once more with the new token, if the body can be resent.
    """

    def __init__(self, refresher: OAuthRefresher, *, retry_on_401: bool = True) -> None:
        self.refresher = refresher
        self.retry_on_401 = retry_on_401

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self.refresher.access_token()}"
        if self.retry_on_401 and self._handle_401 not in r.hooks["response"]:
            # singer-sdk applies the auth twice (session.auth and per attempt).
            r.register_hook("response", self._handle_401)
        return r

    def _handle_401(self, response: requests.Response, **kwargs: t.Any) -> requests.Response:
        request = response.request
        if response.status_code != 401 or getattr(request, _RETRIED_ATTR, False):
            return response
        body = request.body
        if body is not None and not isinstance(body, (bytes, str)):
            return response  # a stream cannot be sent twice
        header = request.headers.get("Authorization") or ""
        used = (header.decode("latin-1") if isinstance(header, bytes) else header).removeprefix("Bearer ").strip()
        token = self.refresher.access_token(rejected=used or None)
        if not token or token == used:
            return response
        response.content  # noqa: B018 - drain so the connection can be reused
        response.close()
        retry = request.copy()
        retry.headers["Authorization"] = f"Bearer {token}"
        setattr(retry, _RETRIED_ATTR, True)
        retry.hooks = {"response": []}
        second = response.connection.send(retry, **kwargs)
        second.history.append(response)
        second.request = retry
        return second
