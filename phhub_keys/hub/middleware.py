"""ASGI middleware: refuse foreign Host/Origin and oversized bodies before any endpoint runs."""

from __future__ import annotations

from collections import deque

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import error_bytes


async def send_error(send: Send, status: int, code: str, message: str,
                     headers: dict[str, str] | None = None) -> None:
    """Send an error envelope straight over ASGI (for code that runs outside FastAPI's handlers)."""
    body = error_bytes(code, message)
    raw_headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw_headers += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})


async def read_limited_body(receive: Receive, limit: int) -> tuple[bytes | None, Receive]:
    """Read the whole request body if it is at most ``limit`` bytes.

    Returns ``(body, replay)`` where ``replay`` hands the body to the next app as
    if unread; ``body`` is None when the limit was exceeded.
    """
    chunks = bytearray()
    pending: deque[Message] = deque()
    while True:
        message = await receive()
        if message["type"] != "http.request":
            pending.append(message)
            break
        chunks.extend(message.get("body", b""))
        if len(chunks) > limit:
            return None, receive
        if not message.get("more_body", False):
            break
    pending.appendleft({"type": "http.request", "body": bytes(chunks), "more_body": False})

    async def replay() -> Message:
        if pending:
            return pending.popleft()
        return await receive()

    return bytes(chunks), replay


def declared_too_large(scope: Scope, limit: int) -> bool:
    length = Headers(scope=scope).get("content-length")
    if length is None:
        return False
    try:
        return int(length) > limit
    except ValueError:
        return False


class BodySizeLimit:
    """413 for bodies over ``limit`` bytes on every path except those under ``skip_prefix``.

    The MCP endpoint (``skip_prefix``) enforces its own, larger limit.
    """

    def __init__(self, app: ASGIApp, limit: int, skip_prefix: str = "/mcp") -> None:
        self.app = app
        self.limit = limit
        self.skip_prefix = skip_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path == self.skip_prefix or path.startswith(self.skip_prefix + "/"):
            await self.app(scope, receive, send)
            return
        message = f"The request body is larger than {self.limit} bytes."
        if declared_too_large(scope, self.limit):
            await send_error(send, 413, "payload_too_large", message)
            return
        body, replay = await read_limited_body(receive, self.limit)
        if body is None:
            await send_error(send, 413, "payload_too_large", message)
            return
        await self.app(scope, replay, send)


def _listed(value: str, allowed: list[str]) -> bool:
    """``value`` is one of ``allowed``, case-insensitively; a ``name:*`` pattern allows any port."""
    value = value.lower()
    for pattern in allowed:
        pattern = pattern.lower()
        if value == pattern or (pattern.endswith(":*") and value.startswith(pattern[:-1])
                                and value[len(pattern) - 1:].isdigit()):
            return True
    return False


def host_allowed(host: str | None, allowed: list[str]) -> bool:
    """Host header check against DNS rebinding (``name:*`` allows any port)."""
    if not host:
        return False
    return _listed(host, allowed)


def origin_allowed(origin: str | None, allowed: list[str]) -> bool:
    """Browsers send Origin; other clients usually do not (absent is fine)."""
    if not origin:
        return True
    return _listed(origin, allowed)


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class HostOriginGuard:
    """DNS-rebinding and cross-site defence for the whole hub, not only ``/mcp``.

    A web page that rebinds its name to 127.0.0.1 reaches the local hub with its own
    name in ``Host``: 421 for any Host that is not this hub. A browser page of
    another site sends its ``Origin``: 403 on sign-in and every state-changing call
    (and on every ``/mcp`` request, whose GET opens an event stream). Clients that
    are not browsers send no Origin and are not affected.
    """

    def __init__(self, app: ASGIApp, allowed_hosts: list[str], allowed_origins: list[str],
                 all_methods_prefix: str = "/mcp") -> None:
        self.app = app
        self.allowed_hosts = allowed_hosts
        self.allowed_origins = allowed_origins
        self.all_methods_prefix = all_methods_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if not host_allowed(headers.get("host"), self.allowed_hosts):
            await send_error(send, 421, "invalid_host", "This hub does not serve that Host name.")
            return
        path = scope.get("path", "")
        prefix = self.all_methods_prefix
        every_method = path == prefix or path.startswith(prefix + "/")
        if (every_method or scope.get("method", "GET").upper() not in SAFE_METHODS) and not origin_allowed(
            headers.get("origin"), self.allowed_origins
        ):
            await send_error(send, 403, "invalid_origin", "Requests from that web origin are not allowed.")
            return
        await self.app(scope, receive, send)
