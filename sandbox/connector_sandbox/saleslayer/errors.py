"""Sales Layer's error answer: HTTP 200 and a JSON body whose ``error`` field carries the code ([SL-SDK],
[SL-PDF]): ``{"version": "1.18", "time": 1767225600, "error": 9, "error_message": "Invalid private key"}``.

The codes and their messages are the SDK's list (``api_catalog.json`` ``api.errors``): 1 validation error,
2 invalid connector code, 3 wrong unique key, 4 invalid codification key, 5 incorrect last_update, 6 API
version nonexistent, 7 wrong output mode, 8 invalid compression type, 9 invalid private key, 10/11 service
temporarily blocked/unavailable, 12 incorrect timestamp, 13 expired timestamp, 14 updating data.

UNCERTAIN: ``error_message`` (a third-party client's model names it; the SDK maps codes to messages itself) is
the SDK's message followed by the sandbox's detail after ": " (which parameter, which value). Clients must key
on ``error``. Error answers carry no ``action`` and no data.
"""

from __future__ import annotations

from typing import Any

VALIDATION = 1
INVALID_CODE = 2
WRONG_UNIQUE = 3
INVALID_CODIFICATION_KEY = 4
INCORRECT_LAST_UPDATE = 5
VERSION_NONEXISTENT = 6
WRONG_OUTPUT_MODE = 7
INVALID_COMPRESSION = 8
INVALID_PRIVATE_KEY = 9
TEMPORARILY_BLOCKED = 10
TEMPORARILY_UNAVAILABLE = 11
INCORRECT_TIME = 12
EXPIRED_TIME = 13
UPDATING_DATA = 14
TEMPORARY = (TEMPORARILY_BLOCKED, TEMPORARILY_UNAVAILABLE, UPDATING_DATA)


class SalesLayerError(Exception):
    """A refused call: answered with HTTP 200 and ``error: code``."""

    def __init__(self, code: int, detail: str = "") -> None:
        super().__init__(detail or str(code))
        self.code, self.detail = int(code), detail


def error_body(code: int, messages: dict[int, str], version: str, now: int, detail: str = "") -> dict[str, Any]:
    message = messages.get(code, "API error")
    return {"version": version, "time": now, "error": code,
            "error_message": f"{message}: {detail}" if detail else message}
