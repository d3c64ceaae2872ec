"""The classic API's request signature ([SL-CALL], [SL-SDK] ``__get_api_url``).

Every call carries ``code`` (the connector code), ``time`` (UNIX seconds), ``unique`` (a random integer) and
``key256`` = sha256 hex of ``code + private key + time + unique`` (legacy: ``key`` = sha1 hex of the same). A
connector may hold several private keys ([SL-CONN]); any of them signs.

Order of checks (the first failure answers): ``code`` missing or unknown -> 2; ``time`` missing or not an
integer -> 12; ``time`` more than ``window`` seconds before the server clock -> 13, more than ``window``
after it -> 12; ``unique`` missing or not digits -> 3; ``key256``/``key`` missing, both given, or not a
lowercase hex digest of the right length -> 4; the digest matches no private key of the connector -> 9; the
``unique`` was already used by a signed call of this connector -> 3.

UNCERTAIN readings (the docs give the codes, not the rules):
* ``window`` = 300 s both ways (the docs say only that clock skew gives 12/13): a client that signs once
  and reuses the signature for a long run gets 13 (and 3 from its second call on).
* A ``unique`` is single-use per connector while its ``time`` is inside the window (older ones are
  refused by 13 anyway, so the sandbox forgets them); it is spent by every correctly signed call, even one
  then refused for another reason (a bad parameter, a temporary error): retry with a fresh signature.
* ``unique`` must be digits (the SDK sends ``mt_rand()``); 4 = the key parameter is malformed, 9 = it is
  well-formed but wrong (the private key differs). Hex digests must be lowercase (PHP's ``hash``).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import threading
from dataclasses import dataclass

from . import errors
from .errors import SalesLayerError

DIGITS = re.compile(r"\d{1,20}")
HEX = {"key256": re.compile(r"[0-9a-f]{64}"), "key": re.compile(r"[0-9a-f]{40}")}
DEFAULT_WINDOW = 300


@dataclass(frozen=True)
class Connector:
    code: str
    keys: tuple[str, ...]
    kind: str  # "export" (reads) or "import" (writes)


def sign(code: str, private_key: str, time: int, unique: int | str, cypher: str = "sha256") -> str:
    text = f"{code}{private_key}{time}{unique}".encode()
    return hashlib.sha256(text).hexdigest() if cypher == "sha256" else hashlib.sha1(text).hexdigest()


class Signatures:
    """Checks signatures and remembers the spent ``unique`` values of each connector."""

    def __init__(self, window: int = DEFAULT_WINDOW) -> None:
        self.window = int(window)
        self._lock = threading.Lock()
        self._spent: dict[str, dict[str, int]] = {}  # code -> unique -> time
        self.refused: dict[int, int] = {}

    def reset(self) -> None:
        with self._lock:
            self._spent.clear()

    def _refuse(self, code: int, detail: str) -> SalesLayerError:
        self.refused[code] = self.refused.get(code, 0) + 1
        return SalesLayerError(code, detail)

    def connector(self, params: dict[str, str], connectors: dict[str, Connector]) -> Connector:
        """The connector named by ``code`` (2 when missing or unknown)."""
        code = params.get("code")
        if not code:
            raise self._refuse(errors.INVALID_CODE, "the parameter code (connector code) is missing")
        connector = connectors.get(code)
        if connector is None:
            raise self._refuse(errors.INVALID_CODE, f"no connector has the code {code!r}")
        return connector

    def check(self, params: dict[str, str], connectors: dict[str, Connector], now: float) -> Connector:
        """The connector of a correctly signed call; :class:`SalesLayerError` otherwise (see the module)."""
        connector = self.connector(params, connectors)
        text = params.get("time")
        if not text or not DIGITS.fullmatch(text):
            raise self._refuse(errors.INCORRECT_TIME, "time must be the UNIX time in seconds (an integer)")
        stamp = int(text)
        if stamp < now - self.window:
            raise self._refuse(errors.EXPIRED_TIME, f"time {stamp} is more than {self.window} s before the server "
                               f"time {int(now)}")
        if stamp > now + self.window:
            raise self._refuse(errors.INCORRECT_TIME, f"time {stamp} is more than {self.window} s after the server "
                               f"time {int(now)}")
        unique = params.get("unique")
        if not unique or not DIGITS.fullmatch(unique):
            raise self._refuse(errors.WRONG_UNIQUE, "unique must be a random integer")
        given = [name for name in ("key256", "key") if params.get(name)]
        if len(given) != 1:
            raise self._refuse(errors.INVALID_CODIFICATION_KEY, "send key256 (sha256) or key (sha1), exactly one")
        name = given[0]
        digest = params[name]
        if not HEX[name].fullmatch(digest):
            raise self._refuse(errors.INVALID_CODIFICATION_KEY, f"{name} must be a lowercase hex "
                               f"{'sha256' if name == 'key256' else 'sha1'} digest")
        cypher = "sha256" if name == "key256" else "sha1"
        if not any(hmac.compare_digest(sign(connector.code, key, stamp, unique, cypher), digest)
                   for key in connector.keys):
            raise self._refuse(errors.INVALID_PRIVATE_KEY, f"{name} does not match the connector's private key")
        with self._lock:
            spent = self._spent.setdefault(connector.code, {})
            if unique in spent:
                raise self._refuse(errors.WRONG_UNIQUE, f"unique {unique} was already used")
            if len(spent) > 1000:
                for u in [u for u, t in spent.items() if t < now - self.window]:
                    del spent[u]
            spent[unique] = stamp
        return connector
