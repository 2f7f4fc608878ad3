"""Prove a key works before the user walks away: "Test a key".

The check does what an AI client does, with the official ``mcp`` client over
Streamable HTTP: initialize, tools/list, then call ``whoami``. It reports who
the key belongs to, or exactly why it failed (rejected, unreachable, TLS,
timeout...), because "it doesn't work" is what users otherwise get from their
AI client.

The checksum is validated first, offline and instantly, so a typo never costs a
network round trip. ``KeyCheck.run()`` blocks (call it on a worker thread);
``cancel()`` may be called from any thread and ends the check promptly.

The key is sent only in the Authorization header of requests to the given
Server URL, over TLS unless the host is loopback (or insecure http is
explicitly allowed); it never appears in results, messages or repr.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import json
import ssl
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import Implementation

from .. import __version__
from ..core.keyformat import key_problem, redact
from ..core.net import MAX_RESPONSE_BYTES, http_refusal, proxy_for

DEFAULT_TIMEOUT = 15.0
CLIENT_NAME = "phhub-keys key check"


class CheckStatus(enum.StrEnum):
    OK = "ok"
    BAD_FORMAT = "bad_format"  # checksum/format wrong: caught offline
    REJECTED = "rejected"  # the hub answered 401: unknown, deleted or deactivated key
    UNREACHABLE = "unreachable"  # no connection (refused, DNS, reset)
    TLS_ERROR = "tls_error"  # certificate or TLS handshake failure
    TIMEOUT = "timeout"
    SERVER_ERROR = "server_error"  # connected, but not a working MCP endpoint (404, 5xx, bad answer)
    INSECURE_URL = "insecure_url"  # plain http to a non-loopback host: the key would travel in clear
    INVALID_URL = "invalid_url"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class KeyCheckResult:
    """What the check found. Never holds the key itself (only its redacted form)."""

    status: CheckStatus
    message: str
    server_url: str
    key_preview: str = ""
    account_email: str | None = None
    account_name: str | None = None
    key_id: str | None = None
    key_label: str | None = None
    tool_count: int | None = None
    latency_ms: float | None = None
    http_status: int | None = None

    @property
    def ok(self) -> bool:
        return self.status is CheckStatus.OK

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "status": self.status.value,
            "message": self.message,
            "server_url": self.server_url,
            "key": self.key_preview,
            "account_email": self.account_email,
            "account_name": self.account_name,
            "key_id": self.key_id,
            "key_label": self.key_label,
            "tool_count": self.tool_count,
            "latency_ms": None if self.latency_ms is None else round(self.latency_ms, 1),
            "http_status": self.http_status,
        }


class _Refused(Exception):
    """An answer the check will not read (too large, or compressed though we asked for none)."""


class _CappedStream(httpx2.AsyncByteStream):
    """A response body that stops (raises) once more than ``limit`` bytes arrived."""

    def __init__(self, inner: httpx2.AsyncByteStream, limit: int, refuse: Any) -> None:
        self._inner, self._limit, self._refuse = inner, limit, refuse

    async def __aiter__(self) -> Any:
        total = 0
        async for chunk in self._inner:
            total += len(chunk)
            if total > self._limit:
                raise self._refuse()
            yield chunk

    async def aclose(self) -> None:
        await self._inner.aclose()


class _CappedTransport(httpx2.AsyncBaseTransport):
    """Every answer the check reads is at most ``limit`` bytes, uncompressed (so the
    count is the real size: a small gzip body could inflate to gigabytes)."""

    def __init__(self, inner: httpx2.AsyncBaseTransport, limit: int, refuse: Any) -> None:
        self._inner, self._limit, self._refuse = inner, limit, refuse

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        response = await self._inner.handle_async_request(request)
        declared = response.headers.get("content-length", "").strip()
        encoding = response.headers.get("content-encoding", "").strip().lower()
        if (declared.isdigit() and int(declared) > self._limit) or encoding not in ("", "identity"):
            await response.aclose()
            raise self._refuse()
        response.stream = _CappedStream(response.stream, self._limit, self._refuse)  # type: ignore[arg-type]
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


class _Rejected(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


def _leaves(exc: BaseException) -> list[BaseException]:
    """The non-group exceptions inside ``exc`` (anyio wraps failures in ExceptionGroups)."""
    if isinstance(exc, BaseExceptionGroup):
        out: list[BaseException] = []
        for inner in exc.exceptions:
            out.extend(_leaves(inner))
        return out
    return [exc]


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _is_tls(exc: BaseException) -> bool:
    for link in _chain(exc):
        if isinstance(link, ssl.SSLError):
            return True
        text = str(link)
        if "CERTIFICATE_VERIFY_FAILED" in text or "SSL" in text or "TLS" in text:
            return True
    return False


def _tool_payload(result: Any) -> dict[str, Any]:
    """whoami's answer as a dict: structured content, or JSON in the first text block."""
    structured = getattr(result, "structured_content", None) or getattr(result, "structuredContent", None)
    if isinstance(structured, dict):
        return structured
    for block in getattr(result, "content", None) or []:
        text = getattr(block, "text", None)
        if isinstance(text, str):
            try:
                data = json.loads(text)
            except ValueError:
                continue
            if isinstance(data, dict):
                return data
    return {}


class KeyCheck:
    """One key check; ``run()`` on a worker thread, ``cancel()`` from anywhere."""

    def __init__(
        self,
        server_url: str,
        key: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        allow_insecure_http: bool = False,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        self.server_url = server_url.strip() if isinstance(server_url, str) else ""
        self._key = key.strip() if isinstance(key, str) else ""
        self.timeout = timeout
        self.allow_insecure_http = allow_insecure_http
        self._verify = verify  # tests may pass a context trusting a test CA; never False by default
        self._lock = threading.Lock()
        self._cancelled = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[KeyCheckResult] | None = None
        self.max_response_bytes = MAX_RESPONSE_BYTES
        self._refused_answer = False

    def __repr__(self) -> str:
        return f"KeyCheck({self.server_url!r}, key={redact(self._key) if self._key else ''!r})"

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def cancel(self) -> None:
        """Stop the check as soon as possible; ``run()`` then returns CANCELLED."""
        with self._lock:
            self._cancelled = True
            loop, task = self._loop, self._task
        if loop is not None and task is not None:
            with contextlib.suppress(RuntimeError):  # the loop already finished
                loop.call_soon_threadsafe(task.cancel)

    def _result(self, status: CheckStatus, message: str, **kw: Any) -> KeyCheckResult:
        preview = redact(self._key) if self._key else ""
        return KeyCheckResult(status, message, self.server_url, preview, **kw)

    def precheck(self) -> KeyCheckResult | None:
        """The offline part (key checksum, URL): a result when it already fails, else None."""
        problem = key_problem(self._key)
        if problem is not None:
            return self._result(CheckStatus.BAD_FORMAT, problem)
        try:
            parts = urlsplit(self.server_url)
            scheme, host = parts.scheme.lower(), parts.hostname
            _ = parts.port  # raises ValueError for a malformed port
        except ValueError:
            scheme, host = "", None
        if scheme not in ("http", "https") or not host or any(ch.isspace() for ch in self.server_url):
            return self._result(
                CheckStatus.INVALID_URL,
                "Not a usable Server URL: it should look like https://hub.example.org/mcp.",
            )
        if http_refusal(self.server_url, self.allow_insecure_http):
            return self._result(
                CheckStatus.INSECURE_URL,
                "The Server URL uses plain http:// to another computer: the key would travel unencrypted. "
                "Use the hub's https:// address.",
            )
        return None

    def run(self) -> KeyCheckResult:
        """Run the whole check (blocking). Safe to call once per KeyCheck."""
        early = self.precheck()
        if early is not None:
            return early
        loop = asyncio.new_event_loop()
        try:
            with self._lock:
                if self._cancelled:
                    return self._result(CheckStatus.CANCELLED, "The check was cancelled.")
                task = loop.create_task(self._check())
                self._loop, self._task = loop, task
            try:
                return loop.run_until_complete(task)
            except asyncio.CancelledError:
                return self._result(CheckStatus.CANCELLED, "The check was cancelled.")
        finally:
            with self._lock:
                self._loop = self._task = None
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _check(self) -> KeyCheckResult:
        statuses: list[int] = []

        async def on_response(response: httpx2.Response) -> None:
            statuses.append(response.status_code)
            if response.status_code in (401, 403):
                raise _Rejected(response.status_code)

        # The proxy is core.net's decision (never one for a hub on this machine), as for
        # HubClient; trust_env=False keeps httpx from adding the environment's proxies
        # itself. The environment's CA settings (SSL_CERT_FILE) still apply.
        verify = httpx2.create_ssl_context(True) if self._verify is True else self._verify

        def refuse() -> _Refused:
            self._refused_answer = True
            return _Refused()

        # Every answer is capped (MAX_RESPONSE_BYTES, uncompressed) and the whole check has
        # one deadline (asyncio.timeout below), so a hostile server can neither fill memory
        # nor hold the check by dripping bytes.
        inner = httpx2.AsyncHTTPTransport(verify=verify, proxy=proxy_for(self.server_url), trust_env=False)
        http = httpx2.AsyncClient(
            headers={"Authorization": f"Bearer {self._key}", "Accept-Encoding": "identity"},
            timeout=httpx2.Timeout(self.timeout),
            transport=_CappedTransport(inner, self.max_response_bytes, refuse),
            trust_env=False,
            event_hooks={"response": [on_response]},
        )
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.timeout), http:
                return await self._exchange(http, started, statuses)
        except asyncio.CancelledError:
            if self._cancelled:
                return self._result(CheckStatus.CANCELLED, "The check was cancelled.")
            raise
        except BaseException as exc:  # classified below; nothing escapes unexplained
            if isinstance(exc, KeyboardInterrupt | SystemExit):
                raise
            return self._classify(exc, statuses)

    async def _exchange(
        self, http: httpx2.AsyncClient, started: float, statuses: list[int]
    ) -> KeyCheckResult:
        """initialize + tools/list + whoami, as an AI client would."""
        transport = streamable_http_client(self.server_url, http_client=http, terminate_on_close=True)
        info = Implementation(name=CLIENT_NAME, version=__version__)
        client = Client(transport, mode="legacy", client_info=info, read_timeout_seconds=self.timeout)
        async with client:
            tools = await client.list_tools()
            names = [tool.name for tool in tools.tools]
            if "whoami" not in names:
                return self._result(
                    CheckStatus.SERVER_ERROR,
                    "Connected, but this MCP server has no 'whoami' tool: is this the hub's Server URL?",
                    tool_count=len(names),
                )
            answer = await client.call_tool("whoami", {})
        latency = (time.perf_counter() - started) * 1000
        if getattr(answer, "is_error", False) or getattr(answer, "isError", False):
            return self._result(CheckStatus.SERVER_ERROR, "The hub answered whoami with an error.",
                                tool_count=len(names), latency_ms=latency)
        who = _tool_payload(answer)
        account = who.get("email") or who.get("name") or "your account"
        label = who.get("key_label")
        return self._result(
            CheckStatus.OK,
            f"The key works: signed in as {account}"
            + (f" with key “{label}”" if label else "")
            + f"; {len(names)} tools available ({latency:.0f} ms).",
            account_email=who.get("email"),
            account_name=who.get("name"),
            key_id=who.get("key_id"),
            key_label=label,
            tool_count=len(names),
            latency_ms=latency,
            http_status=statuses[-1] if statuses else None,
        )

    def _classify(self, exc: BaseException, statuses: list[int]) -> KeyCheckResult:
        if self._refused_answer:
            return self._result(
                CheckStatus.SERVER_ERROR,
                "The server sent an answer larger than this app reads "
                f"({self.max_response_bytes // 2**20} MiB) or compressed though none was asked for; "
                "it stopped reading. Is this the hub's Server URL?",
            )
        leaves = _leaves(exc)
        rejected = next((leaf for leaf in leaves if isinstance(leaf, _Rejected)), None)
        status_code = rejected.status if rejected else next((s for s in statuses if s in (401, 403)), None)
        if status_code is not None:
            return self._result(
                CheckStatus.REJECTED,
                "The hub rejected this key: it is unknown, deleted or deactivated. "
                "Check the key list, or create a new key.",
                http_status=status_code,
            )
        if any(isinstance(leaf, TimeoutError | httpx2.TimeoutException) for leaf in leaves):
            return self._result(CheckStatus.TIMEOUT, f"The hub did not answer within {self.timeout:g} s.")
        if any(_is_tls(leaf) for leaf in leaves if isinstance(leaf, httpx2.TransportError | ssl.SSLError)):
            return self._result(
                CheckStatus.TLS_ERROR,
                "Secure connection failed (TLS): the server's certificate is not trusted or the server "
                "does not speak https at this address.",
            )
        if any(isinstance(leaf, httpx2.TransportError) for leaf in leaves):
            return self._result(
                CheckStatus.UNREACHABLE,
                "Cannot reach the MCP server at this address (connection refused, no such host, "
                "or the connection dropped). Is the hub running and the Server URL right?",
            )
        bad = [s for s in statuses if s >= 400]
        if bad:
            code = bad[-1]
            hint = {404: "no MCP endpoint at this URL", 429: "too many attempts; wait a minute"}.get(
                code, "the server failed"
            )
            return self._result(CheckStatus.SERVER_ERROR, f"The server answered HTTP {code} ({hint}).",
                                http_status=code)
        first = leaves[0] if leaves else exc
        return self._result(
            CheckStatus.SERVER_ERROR,
            f"The MCP exchange failed: {type(first).__name__}: {str(first)[:200]}",
        )


def check_key(server_url: str, key: str, **kwargs: Any) -> KeyCheckResult:
    """Run a key check synchronously (see KeyCheck)."""
    return KeyCheck(server_url, key, **kwargs).run()
