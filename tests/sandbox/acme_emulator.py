"""A made-up vendor ("Acme") on the shared emulator kit: what a new vendor's emulator needs at the least.

One list endpoint, ``GET /api/items?page=N&per_page=M`` (pages of up to 100, ``next_page`` in the body),
behind a bearer token from an OAuth authorization server (codes, refresh without rotation, revocation),
a sliding 5-minute quota per client answered with ``X-RateLimit-*`` headers and an HTTP-date
``Retry-After``, seeded rows of any size with an overlay of writes, and the whole control plane.
It is the example of the "Adding a vendor's emulator" section of ``sandbox/README.md``.
"""

from __future__ import annotations

import argparse
from typing import Any

from werkzeug.wrappers import Request, Response

from connector_sandbox.control import Rows
from connector_sandbox.oauth import AuthorizationServer, OAuthControl, TokenRules
from connector_sandbox.quota import Quota, Window
from connector_sandbox.registry import Emulator
from connector_sandbox.responses import json_response
from connector_sandbox.seeding import row_rand
from connector_sandbox.server import SandboxServer
from connector_sandbox.store import LazyStore

NAMES = ("Anvil", "Rocket", "Magnet", "Spring", "Glue")


class ItemStore(LazyStore):
    def __init__(self, seed: int, size: int) -> None:
        super().__init__(seed)
        self.size = size

    def base_row(self, i: int) -> dict[str, Any] | None:
        if not 1 <= i <= self.size:
            return None
        return {"id": i, "name": f"{NAMES[row_rand(self.salt('items'), i) % 5]} {i}", "version": i}

    def get(self, i: int) -> dict[str, Any] | None:
        return self.current("items", i, self.base_row)

    def write(self, i: int, row: dict[str, Any] | None) -> None:
        ov = self.overlay_for("items")
        if row is None:
            ov.remove(i, base=i <= self.size)
        else:
            ov.put(i, {**row, "id": i, "version": self.next_row_version()}, base=i <= self.size)
        self.wrote()


class AcmeRows(Rows):
    def set_size(self, path: str, n: int, tenant: Any) -> None:
        self.store.size = n

    def count(self, path: str, tenant: Any) -> int:
        return self.store.table_listing("items", 1, self.store.size).count()

    def get(self, path: str, row_id: Any, tenant: Any) -> dict[str, Any] | None:
        return self.store.get(int(row_id))

    def touch(self, path: str, row_id: Any, field: str | None, tenant: Any) -> dict[str, Any]:
        row = self.store.get(int(row_id))
        if row is None:
            raise KeyError(f"item {row_id} not found")
        self.store.write(int(row_id), {**row, field or "name": row[field or "name"] + " *"})
        return self.store.get(int(row_id))

    def create(self, path: str, record: dict[str, Any], tenant: Any) -> dict[str, Any]:
        if not isinstance(record.get("name"), str):
            raise ValueError("name: a string is required")
        i = self.store.overlay_for("items").allocate(self.store.size + 1)
        self.store.write(i, {"name": record["name"]})
        return self.store.get(i)

    def delete(self, path: str, row_id: Any, tenant: Any) -> bool:
        if self.store.get(int(row_id)) is None:
            return False
        self.store.write(int(row_id), None)
        return True


class AcmeSandbox(OAuthControl, SandboxServer):
    vendor = "acme"

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, seed: int = 42, items: int = 100,
                 per_5_minutes: int | None = None, clock: Any = None) -> None:
        super().__init__(host, port, clock=clock)
        self.store = ItemStore(seed, items)
        self.rows = AcmeRows(self)
        self.oauth = AuthorizationServer(self.clock, TokenRules(rotate_refresh_token=False), seed=seed,
                                         client_id="acme-app", client_secret="acme-secret", redirect_uri=None,
                                         user_id="user-1", routes={"/oauth/authorize": "authorize",
                                                                   "/oauth/token": "token", "/oauth/revoke": "revoke"})
        window = Window("5min", per_5_minutes, 300, aligned=False, limit_header="X-RateLimit-Limit",
                        remaining_header="X-RateLimit-Remaining")
        self.quota = Quota(self.clock, [window], retry_after="http-date",
                           refusal_body=lambda d: {"error": "Too Many Requests", "message": "Rate limiting enforced"})

    def handle_api(self, request: Request) -> Response:
        answer = self.oauth.handle(request)
        if answer is not None:
            return answer
        if request.path != "/api/items" or request.method != "GET":
            return json_response({"error": "Not Found"}, 404)
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        chain, problem = self.oauth.check_access(token) if scheme == "Bearer" else (None, "missing")
        if chain is None or problem:
            return json_response({"error": "Unauthorized", "message": f"access token {problem}"}, 401)
        decision = self.quota.check(chain.client_id)
        if not decision.allowed:
            return self.quota.refusal(decision, self.clock.timestamp())
        try:
            page, per_page = int(request.args.get("page", 1)), int(request.args.get("per_page", 25))
        except ValueError:
            page = per_page = 0
        if page < 1 or not 1 <= per_page <= 100:
            return json_response({"error": "Bad Request", "message": "page >= 1, per_page 1..100"}, 400)
        listing = self.store.table_listing("items", 1, self.store.size)
        ids = listing.slice((page - 1) * per_page, per_page + 1)
        more = len(ids) > per_page
        rows = [self.store.get(i) for i in ids[:per_page]]
        return json_response({"data": rows, "next_page": page + 1 if more else None}, 200, decision.headers)


class AcmeEmulator(Emulator):
    name = "acme"
    summary = "Acme Items API (example)"
    issues_tokens = True

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--per-5-minutes", type=int, default=None)

    def build(self, args: argparse.Namespace) -> AcmeSandbox:
        return AcmeSandbox(args.host, args.port, seed=args.seed, items=dict(args.size).get("/api/items", 100),
                           per_5_minutes=args.per_5_minutes)
