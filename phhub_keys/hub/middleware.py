"""ASGI middleware: refuse oversized request bodies before any endpoint parses them."""

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
