"""Exact Online's error answers (§2.7): ``{"error": {"code": "", "message": {"lang": "", "value": …}}}``
in JSON, ``<error>`` in XML when JSON was not asked for."""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape as xml_escape

from werkzeug.wrappers import Response

from ..responses import json_response


class ApiError(Exception):
    def __init__(self, status: int, message: str | None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message or "")
        self.status, self.message, self.headers = status, message, headers or {}


def error_body(message: str) -> dict[str, Any]:
    # §2.7: {"error": {"code": "", "message": {"lang": "", "value": "…"}}}. UNCERTAIN: whether code/lang
    # are ever filled; they are empty strings here (clients rely on message.value only).
    return {"error": {"code": "", "message": {"lang": "", "value": message}}}


def error_response(status: int, message: str | None, fmt: str, headers: dict[str, str] | None = None) -> Response:
    """The error answer in the negotiated format (``json``, else XML)."""
    if fmt == "json":
        return json_response(error_body(message or ""), status, headers)
    xml = ('<?xml version="1.0" encoding="utf-8"?><error xmlns="http://schemas.microsoft.com/ado/2007/08/'
           f'dataservices/metadata"><code></code><message xml:lang="">{xml_escape(message or "")}</message></error>')
    resp = Response(xml, status=status, content_type="application/xml; charset=utf-8")
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp
