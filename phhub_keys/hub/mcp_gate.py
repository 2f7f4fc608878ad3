"""The door in front of ``/mcp``: rate limit, key check, usage stamp (Host/Origin: middleware).

Every request is checked afresh (checksum first, then a hash lookup; no cache),
so a deactivated or deleted key is refused on its very next request, before the
MCP SDK sees any of it.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import OrderedDict
from typing import Protocol

from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..core.keyformat import key_problem
from .context import HubContext, client_address
from .mcp_server import IDENTITY_SCOPE_KEY
from .middleware import declared_too_large, read_limited_body, send_error
from .security import client_description
from .store import KeyIdentity

log = logging.getLogger("phhub_keys.hub")

CLIENT_INFO_META_KEY = "io.modelcontextprotocol/clientInfo"
CLIENT_INFO_KEY = b'clientInfo"'  # initialize's "clientInfo" and the end of the _meta key above
_SHALLOW = 200  # fewer brackets than this cannot nest deep enough to trip json's recursion limit
_WWW_AUTH = 'Bearer error="invalid_token"'
# What /mcp answers a well-formed key it will not take (the real-client tests look for it).
UNUSABLE_KEY = "This MCP key is unknown, deactivated, expired or deleted."


def challenge(problem: str) -> str:
    """The 401's ``WWW-Authenticate``: RFC 6750's ``error_description`` carries the reason, so
    clients that show only the challenge (Codex does) still tell the user why. Never a
    ``resource_metadata`` (that would advertise OAuth). ASCII with quotes escaped."""
    text = problem.encode("ascii", "replace").decode("ascii").replace("\\", "\\\\").replace('"', '\\"')
    return f'{_WWW_AUTH}, error_description="{text}"'


def credential_from_headers(headers: Headers) -> str | None:
    """The MCP key from ``Authorization: Bearer`` or ``X-API-Key``, or None."""
    auth = headers.get("authorization")
    if auth:
        scheme, _, value = auth.strip().partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
        return ""  # present but not a bearer credential: a failure, not "missing"
    api_key = headers.get("x-api-key")
    return api_key.strip() if api_key is not None else None


class BodyTooDeep(ValueError):
    """A JSON body nested deeper than the parser's recursion limit (refused with 400)."""


def client_from_body(body: bytes) -> str | None:
    """``"name version"`` from an ``initialize`` request's clientInfo, or from a
    2026-era request's ``_meta`` clientInfo; None when the body carries neither.

    Raises BodyTooDeep for JSON nested past the parser's limit: such a body is bad
    input (400), not a hub failure, and the MCP SDK would trip over it too.
    """
    if CLIENT_INFO_KEY not in body and body.count(b"{") + body.count(b"[") < _SHALLOW:
        # Most requests (every tools/call of a session) name no client and cannot be too deep:
        # no need to parse them here (the SDK parses them anyway). A key spelled with JSON
        # escapes ("client\u0049nfo") is missed: that costs only the client's name in last use.
        return None
    try:
        data = json.loads(body)
    except RecursionError:
        raise BodyTooDeep("The request body is nested too deeply.") from None
    except (ValueError, UnicodeDecodeError):
        return None
    messages = data if isinstance(data, list) else [data]
    for message in messages[:50]:
        if not isinstance(message, dict) or not isinstance(message.get("params"), dict):
            continue
        params = message["params"]
        if message.get("method") == "initialize":
            found = client_description(params.get("clientInfo"))
        else:
            meta = params.get("_meta")
            found = client_description(meta.get(CLIENT_INFO_META_KEY)) if isinstance(meta, dict) else None
        if found:
            return found
    return None


class UsageStore(Protocol):
    def record_key_use(self, key_id: str, client: str | None, ip: str | None) -> None: ...


class UsageRecorder:
    """Writes last_used_* at most once per ``interval`` per key, sooner if client or address changed."""

    def __init__(self, store: UsageStore, interval: float, *, max_entries: int = 100_000) -> None:
        self._store = store
        self._interval = interval
        self._last: OrderedDict[str, tuple[float, str | None, str]] = OrderedDict()
        self._lock = threading.Lock()
        self._max = max_entries

    def due(self, key_id: str, client: str | None, ip: str) -> bool:
        """Whether this use must be written now; if so it is noted as written (cheap, no I/O).

        Split from the write so the gate can decide on the event loop and hop to a
        worker thread only for the rare request that writes (a thread hop costs
        more than the rest of the gate's per-request work; see docs/performance.md).
        """
        now = time.monotonic()
        with self._lock:
            previous = self._last.get(key_id)
            if previous is not None:
                when, last_client, last_ip = previous
                same = (client is None or client == last_client) and ip == last_ip
                if same and now - when < self._interval:
                    return False
                client_to_keep = client or last_client
            else:
                client_to_keep = client
            self._last[key_id] = (now, client_to_keep, ip)
            self._last.move_to_end(key_id)
            while len(self._last) > self._max:
                self._last.popitem(last=False)
        return True

    def write(self, key_id: str, client: str | None, ip: str) -> None:
        self._store.record_key_use(key_id, client, ip)

    def record(self, key_id: str, client: str | None, ip: str) -> None:
        if self.due(key_id, client, ip):
            self.write(key_id, client, ip)


class SessionClients:
    """MCP session id -> (key id, client name): later requests of a session carry no clientInfo."""

    def __init__(self, max_entries: int = 10_000) -> None:
        self._map: OrderedDict[str, tuple[str, str]] = OrderedDict()
        self._lock = threading.Lock()
        self._max = max_entries

    def remember(self, session_id: str, key_id: str, client: str) -> None:
        with self._lock:
            self._map[session_id] = (key_id, client)
            self._map.move_to_end(session_id)
            while len(self._map) > self._max:
                self._map.popitem(last=False)

    def lookup(self, session_id: str, key_id: str) -> str | None:
        with self._lock:
            entry = self._map.get(session_id)
        return entry[1] if entry and entry[0] == key_id else None


class McpAuthGate:
    """ASGI app for ``/mcp``: refuses bad requests, then hands good ones to the SDK."""

    def __init__(self, app: ASGIApp, ctx: HubContext) -> None:
        self.app = app
        self.ctx = ctx
        self.usage = UsageRecorder(ctx.store, ctx.settings.last_used_interval)
        self.sessions = SessionClients()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # Host and Origin were checked by HostOriginGuard in front of the whole hub.
        headers = Headers(scope=scope)
        # Host names are case-insensitive; the SDK's own (second) check compares exactly.
        scope["headers"] = [(k, v.lower() if k in (b"host", b"origin") else v) for k, v in scope["headers"]]
        address = client_address(scope.get("client"))
        wait = self.ctx.mcp_failures.retry_after(address)
        if wait:
            await send_error(send, 429, "rate_limited",
                             f"Too many rejected MCP keys from this address. Try again in {wait} s.",
                             {"Retry-After": str(wait)})
            return
        identity, problem = await self._authenticate(headers)
        if identity is None:
            self.ctx.mcp_failures.hit(address)
            self.ctx.mcp_refusals.note(address, problem)  # told again by the OAuth discovery answers
            await send_error(send, 401, "invalid_token", problem, {"WWW-Authenticate": challenge(problem)})
            return
        self.ctx.mcp_refusals.forget(address)
        limit = self.ctx.settings.max_mcp_body_bytes
        too_large = f"The request body is larger than {limit} bytes."
        if declared_too_large(scope, limit):
            await send_error(send, 413, "payload_too_large", too_large)
            return
        body, replay = await read_limited_body(receive, limit)
        if body is None:
            await send_error(send, 413, "payload_too_large", too_large)
            return
        key_id = identity.key.id
        session_id = headers.get("mcp-session-id")
        try:
            client = client_from_body(body) if body else None
        except BodyTooDeep as exc:
            await send_error(send, 400, "invalid_request", str(exc))
            return
        if client is None and session_id:
            client = self.sessions.lookup(session_id, key_id)
        elif client is not None and session_id:
            self.sessions.remember(session_id, key_id, client)
        if self.usage.due(key_id, client, address):
            await run_in_threadpool(self.usage.write, key_id, client, address)

        # The SDK binds each MCP session to the credential that opened it.
        scope["user"] = AuthenticatedUser(
            AccessToken(token=key_id, client_id=key_id, scopes=[], subject=identity.user.id)
        )
        scope[IDENTITY_SCOPE_KEY] = identity
        await self.app(scope, replay, self._capture_session(send, key_id, client, session_id))

    async def _authenticate(self, headers: Headers) -> tuple[KeyIdentity | None, str]:
        secret = credential_from_headers(headers)
        if secret is None:
            return None, "Send the MCP key as 'Authorization: Bearer phk_...' (or 'X-API-Key: phk_...')."
        # On the loop: a thread hop costs more than this indexed lookup (see authenticate_key_nowait).
        # A key accepted a moment ago, with nothing written since, is answered from the store's
        # cache without even the format check (the cache never outlives a change; see there).
        identity = self.ctx.store.cached_key_identity(secret)
        if identity is not None:
            return identity, ""
        problem = key_problem(secret)
        if problem is not None:
            return None, problem
        identity = self.ctx.store.authenticate_key_nowait(secret)
        if identity is None:
            return None, UNUSABLE_KEY
        return identity, ""

    def _capture_session(self, send: Send, key_id: str, client: str | None, session_id: str | None) -> Send:
        """Learn the session id the SDK assigns on initialize, to attribute later requests."""
        if client is None or session_id:
            return send

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                for name, value in message.get("headers", []):
                    if name.lower() == b"mcp-session-id":
                        self.sessions.remember(value.decode("latin-1"), key_id, client)
            await send(message)

        return wrapped
