"""HTTP answers every emulator writes."""

from __future__ import annotations

from typing import Any

import msgspec
from werkzeug.wrappers import Response

_json_encode = msgspec.json.Encoder().encode


def json_response(obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = obj if isinstance(obj, (bytes, bytearray)) else _json_encode(obj)
    resp = Response(body, status=status, content_type="application/json; charset=utf-8")
    if headers:
        for k, v in headers.items():
            resp.headers[k] = v
    return resp
