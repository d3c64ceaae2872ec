"""SuperOffice's error answer (REST WebAPI page, "Errors"): the HTTP status and
``{"Error": true, "ErrorType": "SoNotFoundException", "ErrorMessage": "Contact id 99999 not found",
"ErrorSource": "SuperOffice.Services.Implementation"}``.

UNCERTAIN: the docs show one example (404). The ErrorType/ErrorSource of the other answers (401, 421,
429, 400, 503) are not documented; they are .NET-style names chosen here, in the same body. Clients
must key on the HTTP status, never on ErrorType.
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from ..responses import json_response

SERVICES = "SuperOffice.Services.Implementation"
WEBAPI = "SuperOffice.WebApi"


class ApiError(Exception):
    def __init__(self, status: int, error_type: str, message: str, source: str = WEBAPI,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.error_type, self.message, self.source = status, error_type, message, source
        self.headers = headers or {}

    def response(self) -> Response:
        return error_response(self.status, self.error_type, self.message, self.source, self.headers)


def error_body(error_type: str, message: str, source: str = WEBAPI) -> dict[str, Any]:
    return {"Error": True, "ErrorType": error_type, "ErrorMessage": message, "ErrorSource": source}


def error_response(status: int, error_type: str, message: str, source: str = WEBAPI,
                   headers: dict[str, str] | None = None) -> Response:
    return json_response(error_body(error_type, message, source), status, headers)


def bad_request(message: str, error_type: str = "ArgumentException") -> ApiError:
    return ApiError(400, error_type, message)


def not_found(entity: str, key: Any) -> ApiError:
    return ApiError(404, "SoNotFoundException", f"{entity} id {key} not found", SERVICES)
