"""One error envelope for every failure: ``{"error": {"code": ..., "message": ...}}``.

FastAPI's own errors (validation, unknown route, wrong method, unparseable body)
are rewritten into the same shape, and anything unexpected becomes a 500 with a
generic message: a client never sees a stack trace or an HTML page.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Route

from .api_models import KeyOut

log = logging.getLogger("phhub_keys.hub")

_STATUS_CODES = {
    400: "invalid_request",
    401: "invalid_token",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    421: "invalid_host",
    422: "invalid_request",
    429: "rate_limited",
}


class ErrorBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str
    message: str
    key: KeyOut | None = Field(
        default=None,
        description="Only with 409 idempotency_replay_unavailable: the key the first request created "
                    "(its current state; its secret can no longer be sent); with 409 already_rotated: "
                    "the successor, the key this one was rotated to.",
    )
    rule: Literal["past", "policy_max", "no_expiry", "format", "both", "grace"] | None = Field(
        default=None,
        description="Only with 422 invalid_expiry: which rule was broken (the message says it in words).",
    )


class ErrorEnvelope(BaseModel):
    """The body of every error response."""

    model_config = ConfigDict(extra="forbid")
    error: ErrorBody


class ApiError(Exception):
    """Raised by endpoints; becomes the envelope with ``status`` and optional headers."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None,
                 extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.extra = extra or {}  # more fields of the error object (see ErrorBody)


def error_body(code: str, message: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **(extra or {})}}


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None,
                   extra: dict[str, Any] | None = None) -> JSONResponse:
    return JSONResponse(error_body(code, message, extra), status_code=status, headers=headers)


def error_bytes(code: str, message: str) -> bytes:
    return json.dumps(error_body(code, message)).encode("utf-8")


def unauthorized(message: str) -> ApiError:
    return ApiError(401, "invalid_token", message, {"WWW-Authenticate": 'Bearer error="invalid_token"'})


def _describe_validation(exc: RequestValidationError) -> tuple[int, str, str]:
    """Status, code and a human message for the first validation problem."""
    errors = exc.errors()
    if not errors:
        return 422, "invalid_request", "The request is not valid."
    first = errors[0]
    kind = str(first.get("type", ""))
    loc = [str(part) for part in first.get("loc", ()) if part != "body"]
    field = ".".join(loc)
    if kind == "json_invalid":
        return 400, "invalid_json", "The request body is not valid JSON."
    if kind == "extra_forbidden":
        return 422, "invalid_request", f"Unknown field {field!r}: this hub does not accept it."
    if loc[:1] and loc[0] in ("expires_at", "expires_in_days", "grace_seconds") and kind != "missing":
        wanted = "an RFC 3339 time or null" if loc[0] == "expires_at" else "a whole number"
        return 422, "invalid_expiry", f"The field {loc[0]!r} must be {wanted}."
    if "label" in loc[:1]:
        if kind == "missing":
            return 422, "invalid_label", "Enter a label, e.g. where the key will be used."
        return 422, "invalid_label", "The label must be text."
    if kind == "missing" and not field:
        return 422, "invalid_request", "The request needs a JSON object body."
    if kind == "missing":
        return 422, "invalid_request", f"The field {field!r} is required."
    if kind in ("model_attributes_type", "dict_type") and not field:
        return 422, "invalid_request", "The request body must be a JSON object."
    where = f"The field {field!r}" if field else "The request body"
    return 422, "invalid_request", f"{where} is not valid: {first.get('msg', 'wrong type')}."


def _path_methods(app: FastAPI) -> list[tuple[re.Pattern[str], set[str]]]:
    """(path regex, methods) for every documented operation, built once per app."""
    table = getattr(app.state, "path_methods", None)
    if table is None:
        table = []
        for template, item in app.openapi().get("paths", {}).items():
            regex = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
            table.append((re.compile(f"^{regex}$"), {method.upper() for method in item}))
        app.state.path_methods = table
    return table


def _allowed_methods(request: Request) -> str:
    """Every method served at this path. FastAPI has one route per method, so Starlette's
    own Allow header would name only the first one it tried."""
    path = request.url.path
    methods: set[str] = set()
    for regex, documented in _path_methods(request.app):
        if regex.match(path):
            methods |= documented
    for route in request.app.router.routes:  # undocumented routes (docs page, openapi.json)
        if isinstance(route, Route) and route.methods and route.matches(request.scope)[0] is not Match.NONE:
            methods |= route.methods
    return ", ".join(sorted(methods))


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, exc.headers, exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        status, code, message = _describe_validation(exc)
        # A wrong type for an expiry field breaks the format rule (see api_routes._expiry_error).
        extra = {"rule": "format"} if code == "invalid_expiry" else None
        return error_response(status, code, message, extra=extra)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, "error")
        if exc.status_code == 404:
            message = "There is nothing at this address."
        elif exc.status_code == 405:
            message = "This address does not accept that method."
        elif exc.status_code == 400:
            message = "The request body could not be read (it must be UTF-8 JSON)."
        else:
            message = str(exc.detail) if isinstance(exc.detail, str) else "The request was refused."
        headers = dict(exc.headers) if exc.headers else {}
        if exc.status_code == 405:
            headers["Allow"] = _allowed_methods(request)
        return error_response(exc.status_code, code, message, headers or None)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.error("unexpected error handling a request: %s", type(exc).__name__)
        return error_response(500, "internal_error", "The hub hit an unexpected error; try again.")
