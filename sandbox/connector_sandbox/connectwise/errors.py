"""ConnectWise's error answers (§1.5): the envelope ``{"code", "message", "errors"}``."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from ..responses import json_response


class ApiError(Exception):
    """An error answer, raised anywhere below a request and written by the emulator."""

    def __init__(self, status: int, code: str, message: str, errors: list[dict[str, Any]] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.errors, self.headers = status, code, message, errors, headers


def cw_error(status: int, code: str, message: str, errors: Any = None,
             headers: dict[str, str] | None = None) -> Response:
    # Error envelope {code, message, errors} — §1.5 ([AIC] ErrorResponseMessage / ValidationError).
    return json_response({"code": code, "message": message, "errors": errors}, status, headers)


def invalid(resource: str, code: str, message: str, field: str) -> ApiError:
    """400 ``InvalidObject`` with one entry in ``errors`` (the documented validation shape)."""
    return ApiError(400, "InvalidObject", f"{resource} object is invalid",
                    [{"code": code, "message": message, "resource": resource, "field": field}])
