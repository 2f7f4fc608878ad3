"""A lean concurrent MCP client for the throughput figure: raw HTTP/1.1 on asyncio.

The official ``mcp`` client spends far more CPU per call than the server does
(pydantic models, anyio streams), so on a 2-core machine it, not the hub,
would set the pace and hide the cost of authentication. This client speaks just
enough Streamable HTTP: one keep-alive connection per worker, ``initialize`` +
``notifications/initialized`` (the handshake every MCP client does), then
``tools/call whoami`` in a loop, checking every answer is the right user.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass

PROTOCOL_VERSION = "2025-11-25"


@dataclass(slots=True)
class LoadResult:
    calls: int
    seconds: float
    errors: int
    window_value: float = 0.0  # on_window() at the end of the window minus at its start

    @property
    def per_second(self) -> float:
        return self.calls / self.seconds if self.seconds else 0.0


class _Conn:
    def __init__(self, host: str, port: int, headers: dict[str, str]) -> None:
        self.host, self.port = host, port
        self.base_headers = headers
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()

    async def post(self, path: str, payload: dict, extra: dict[str, str] | None = None
                   ) -> tuple[int, dict[str, str], bytes]:
        assert self.reader is not None and self.writer is not None
        body = json.dumps(payload).encode()
        headers = {**self.base_headers, **(extra or {}), "Content-Length": str(len(body))}
        head = f"POST {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        self.writer.write(head.encode("latin-1") + body)
        await self.writer.drain()
        return await self._read_response()

    async def _read_response(self) -> tuple[int, dict[str, str], bytes]:
        assert self.reader is not None
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("server closed the connection")
        status = int(status_line.split()[1])
        headers: dict[str, str] = {}
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int((await self.reader.readline()).split(b";")[0], 16)
                if size == 0:
                    await self.reader.readline()  # the CRLF after the last chunk (no trailers)
                    break
                chunks.append(await self.reader.readexactly(size))
                await self.reader.readline()
            body = b"".join(chunks)
        else:
            body = await self.reader.read()
        return status, headers, body


def _jsonrpc_result(headers: dict[str, str], body: bytes) -> dict:
    """The JSON-RPC message of a JSON or SSE answer (the last ``data:`` event)."""
    if headers.get("content-type", "").startswith("text/event-stream"):
        data = [line[5:].strip() for line in body.decode().splitlines() if line.startswith("data:")]
        if not data:
            raise ValueError(f"no data event in {body[:200]!r}")
        return json.loads(data[-1])
    return json.loads(body)


async def _worker(host: str, port: int, secret: str | None, expect: str, deadline_box: list[float],
                  counts: list[int], errors: list[int], ready: asyncio.Event, go: asyncio.Event) -> None:
    base = {"Host": f"{host}:{port}", "Content-Type": "application/json",
            "Accept": "application/json, text/event-stream", "Connection": "keep-alive"}
    if secret:
        base["Authorization"] = f"Bearer {secret}"
    conn = _Conn(host, port, base)
    await conn.open()
    try:
        status, headers, body = await conn.post("/mcp", {
            "jsonrpc": "2.0", "id": 0, "method": "initialize",
            "params": {"protocolVersion": PROTOCOL_VERSION, "capabilities": {},
                       "clientInfo": {"name": "phhub-bench", "version": "1.0"}}})
        if status != 200:
            raise RuntimeError(f"initialize answered {status}: {body[:300]!r}")
        session = headers.get("mcp-session-id", "")
        version = _jsonrpc_result(headers, body)["result"]["protocolVersion"]
        extra = {"Mcp-Protocol-Version": version}
        if session:
            extra["Mcp-Session-Id"] = session
        status, _, body = await conn.post("/mcp", {"jsonrpc": "2.0", "method": "notifications/initialized"},
                                          extra)
        if status not in (200, 202):
            raise RuntimeError(f"initialized answered {status}: {body[:300]!r}")
        ready.set()
        await go.wait()
        call_id = 1
        while time.perf_counter() < deadline_box[0]:
            call_id += 1
            status, headers, body = await conn.post("/mcp", {
                "jsonrpc": "2.0", "id": call_id, "method": "tools/call",
                "params": {"name": "whoami", "arguments": {}}}, extra)
            if status == 200 and expect.encode() in body:
                counts[0] += 1
            else:
                errors[0] += 1
                if errors[0] == 1:
                    print(f"BENCH note=first-mcp-error-{status}:{body[:200]!r}", flush=True)
    finally:
        await conn.close()


async def _run(host: str, port: int, secret: str | None, expect: str, workers: int, seconds: float,
               warmup: float, on_window: Callable[[], float]) -> LoadResult:
    counts, errors = [0], [0]
    deadline = [float("inf")]
    go = asyncio.Event()
    readies = [asyncio.Event() for _ in range(workers)]
    tasks = [asyncio.create_task(_worker(host, port, secret, expect, deadline, counts, errors, r, go))
             for r in readies]
    all_ready = asyncio.create_task(asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), 30))
    await asyncio.wait([all_ready, *tasks], return_when=asyncio.FIRST_COMPLETED)
    for task in tasks:
        if task.done():  # a worker ends before "go" only by failing its handshake
            all_ready.cancel()
            for other in tasks:
                other.cancel()
            raise task.exception() or RuntimeError("an MCP worker stopped early")
    await all_ready
    go.set()
    # Warm-up: run, then reset the counters and measure a fresh window.
    deadline[0] = time.perf_counter() + warmup + seconds + 60
    await asyncio.sleep(warmup)
    counts[0] = errors[0] = 0
    before = on_window()
    start = time.perf_counter()
    await asyncio.sleep(seconds)
    calls, errs = counts[0], errors[0]
    elapsed = time.perf_counter() - start
    after = on_window()
    deadline[0] = 0.0
    await asyncio.gather(*tasks, return_exceptions=True)
    return LoadResult(calls, elapsed, errs, after - before)


def run_load(port: int, secret: str | None, expect: str, *, workers: int = 8, seconds: float = 5.0,
             warmup: float = 1.0, host: str = "127.0.0.1",
             on_window: Callable[[], float] = lambda: 0.0) -> LoadResult:
    """Calls of ``whoami`` per second with ``workers`` concurrent MCP sessions.

    ``on_window`` is read at the start and end of the measured window (e.g. the
    server's CPU time); the difference comes back as ``window_value``.
    """
    return asyncio.run(_run(host, port, secret, expect, workers, seconds, warmup, on_window))
