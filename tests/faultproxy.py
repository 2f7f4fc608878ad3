"""A fault-injecting HTTP proxy on loopback, for tests of what clients do when
the network misbehaves.

It sits between a client and an upstream HTTP server (the real hub) and, per
request, either forwards it untouched or injects a fault chosen by rules:

    with FaultProxy(hub.url) as proxy:
        client = HubClient(proxy.url, token)
        proxy.drop_response(method="POST", path="/api/v1/mcp/keys")  # next create only
        client.create_key("x")        # the hub commits, the client sees the connection drop

Actions (each rule matches method and path prefix, and applies ``times`` times,
or to every match when ``times=None``; rules are tried in the order added, and
a request no rule matches is forwarded):

- ``forward``: relay both ways, streaming (works for SSE too).
- ``drop_response``: forward the request, read the upstream's full answer (so
  the server has committed), then close the client connection without a byte.
- ``reset``: reset the client connection (RST) before anything is forwarded.
- ``truncate``: forward, then relay the status line, headers and half of the
  body, and reset the connection (a connection reset mid-body).
- ``delay``: wait ``seconds`` before forwarding (a slow hub).
- ``hang``: read the request and never answer (until the proxy stops).
- ``respond``: answer with a canned response (``status``, ``body``,
  ``headers``) without forwarding (5xx, malformed JSON, 429 + Retry-After ...).

To simulate a hub that is down, ``stop()`` the proxy (connections are refused)
and ``start()`` it again later: it rebinds the same port. ``set_upstream(url)``
retargets a running proxy. ``log`` records every request seen and what was
done to it (request headers are kept but not shown in repr).

One request per client connection: the proxy asks the upstream for
``Connection: close`` and closes the client connection after each answer, which
HTTP clients handle by opening a new connection.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

__all__ = ["Exchange", "FaultProxy", "Rule"]

ACTIONS = ("forward", "drop_response", "reset", "truncate", "delay", "hang", "respond")
_REASONS = {200: "OK", 201: "Created", 204: "No Content", 400: "Bad Request", 401: "Unauthorized",
            404: "Not Found", 409: "Conflict", 422: "Unprocessable Entity", 429: "Too Many Requests",
            500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
            504: "Gateway Timeout"}
MAX_HEADER_BYTES = 64 * 1024


@dataclass
class Rule:
    action: str
    method: str | None = None
    path: str | None = None
    times: int | None = 1
    seconds: float = 0.0
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        if self.method and self.method.upper() != method.upper():
            return False
        return not (self.path and not path.split("?", 1)[0].startswith(self.path))


@dataclass
class Exchange:
    """One request the proxy saw: what it was and what the proxy did to it.

    Logged as soon as the request is read (before the client gets any answer),
    so a test that got its answer always finds the exchange in ``log``;
    ``upstream_status`` is filled in before the answer is relayed.
    """

    method: str
    path: str
    action: str
    headers: dict[str, str] = field(repr=False)
    upstream_status: int | None = None

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


def _reset(sock: socket.socket) -> None:
    """Close with RST instead of FIN (SO_LINGER 0)."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()


def _status_of(response_head: bytes) -> int | None:
    try:
        return int(response_head.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return None


class FaultProxy:
    def __init__(self, upstream: str, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.set_upstream(upstream)
        self.host = host
        self.port = port
        self.log: list[Exchange] = []
        self._rules: list[Rule] = []
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._listener is not None

    def set_upstream(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        if parts.scheme != "http" or not parts.hostname or not parts.port:
            raise ValueError(f"upstream must be http://host:port, got {upstream!r}")
        self.upstream = (parts.hostname, parts.port)

    def start(self) -> FaultProxy:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._stopping = threading.Event()
        self._listener = listener
        self._thread = threading.Thread(target=self._accept_loop, args=(listener,), name="faultproxy-accept",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and cut every open connection; ``start()`` reopens the same port."""
        self._stopping.set()
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        with self._lock:
            conns, self._open = list(self._open), set()
        for sock in conns:
            _reset(sock)
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- rules -------------------------------------------------------------

    def add(self, action: str, *, method: str | None = None, path: str | None = None,
            times: int | None = 1, **params: object) -> Rule:
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}; one of {ACTIONS}")
        rule = Rule(action, method, path, times, **params)  # type: ignore[arg-type]
        with self._lock:
            self._rules.append(rule)
        return rule

    def drop_response(self, **match: object) -> Rule:
        return self.add("drop_response", **match)  # type: ignore[arg-type]

    def reset(self, **match: object) -> Rule:
        return self.add("reset", **match)  # type: ignore[arg-type]

    def truncate(self, **match: object) -> Rule:
        return self.add("truncate", **match)  # type: ignore[arg-type]

    def delay(self, seconds: float, **match: object) -> Rule:
        return self.add("delay", seconds=seconds, **match)  # type: ignore[arg-type]

    def hang(self, **match: object) -> Rule:
        return self.add("hang", **match)  # type: ignore[arg-type]

    def respond(self, status: int, body: bytes | str = b"", headers: dict[str, str] | None = None,
                **match: object) -> Rule:
        data = body.encode() if isinstance(body, str) else body
        return self.add("respond", status=status, body=data, headers=dict(headers or {}), **match)  # type: ignore[arg-type]

    def clear(self) -> None:
        """Forget all rules: from now on everything is forwarded."""
        with self._lock:
            self._rules.clear()

    def exchanges(self, method: str | None = None, path: str | None = None) -> list[Exchange]:
        with self._lock:
            return [e for e in self.log if (not method or e.method == method.upper())
                    and (not path or e.path.startswith(path))]

    def _choose(self, method: str, path: str) -> Rule:
        with self._lock:
            for rule in self._rules:
                if rule.matches(method, path):
                    rule.hits += 1
                    return rule
        return Rule("forward", times=None)

    # -- plumbing ----------------------------------------------------------

    def _track(self, sock: socket.socket) -> None:
        with self._lock:
            self._open.add(sock)

    def _untrack(self, sock: socket.socket) -> None:
        with self._lock:
            self._open.discard(sock)

    def _accept_loop(self, listener: socket.socket) -> None:
        while not self._stopping.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            self._track(conn)
            threading.Thread(target=self._serve, args=(conn,), name="faultproxy-conn", daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        upstream: socket.socket | None = None
        try:
            request = self._read_request(client)
            if request is None:
                client.close()
                return
            method, path, headers, raw = request
            rule = self._choose(method, path)
            action = rule.action
            exchange = Exchange(method, path, action, headers)
            with self._lock:
                self.log.append(exchange)
            if action == "reset":
                _reset(client)
                return
            if action == "hang":
                self._stopping.wait()
                return
            if action == "respond":
                head = [f"HTTP/1.1 {rule.status} {_REASONS.get(rule.status, 'Status')}",
                        f"Content-Length: {len(rule.body)}", "Connection: close"]
                head += [f"{k}: {v}" for k, v in rule.headers.items()]
                exchange.upstream_status = rule.status
                client.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + rule.body)
                client.close()
                return
            if action == "delay" and self._stopping.wait(rule.seconds):
                return
            upstream = socket.create_connection(self.upstream, timeout=30)
            self._track(upstream)
            upstream.sendall(raw)
            if action in ("forward", "delay"):
                self._pipe(upstream, client, exchange)
                client.close()
                return
            answer = self._read_all(upstream)
            exchange.upstream_status = _status_of(answer)
            if action == "drop_response":
                client.close()
                return
            # truncate: headers and half of the body, then RST
            head_end = answer.find(b"\r\n\r\n") + 4
            body_len = len(answer) - head_end
            client.sendall(answer[: head_end + max(1, body_len // 2)] if body_len else answer[:head_end])
            time.sleep(0.05)
            _reset(client)
        except OSError:
            _reset(client)
        finally:
            self._untrack(client)
            if upstream is not None:
                self._untrack(upstream)
                with contextlib.suppress(OSError):
                    upstream.close()

    def _read_request(self, client: socket.socket) -> tuple[str, str, dict[str, str], bytes] | None:
        """Read one request; return (method, path, headers, bytes to send upstream)."""
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = client.recv(65536)
            if not chunk:
                return None
            data += chunk
            if len(data) > MAX_HEADER_BYTES:
                return None
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, path, version = lines[0].split(" ", 2)
        headers: dict[str, str] = {}
        kept: list[str] = []
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
            if name.strip().lower() not in ("connection", "keep-alive", "proxy-connection"):
                kept.append(line)
        if "chunked" in headers.get("transfer-encoding", "").lower():
            raise OSError("chunked request bodies are not supported by FaultProxy")
        length = int(headers.get("content-length", "0") or 0)
        while len(rest) < length:
            chunk = client.recv(65536)
            if not chunk:
                return None
            rest += chunk
        upstream_head = "\r\n".join([f"{method} {path} {version}", *kept, "Connection: close"])
        return method.upper(), path, headers, upstream_head.encode("latin-1") + b"\r\n\r\n" + rest

    def _read_all(self, sock: socket.socket) -> bytes:
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)

    def _pipe(self, upstream: socket.socket, client: socket.socket, exchange: Exchange) -> None:
        """Relay the upstream's answer to the client as it arrives, noting its status."""
        first = True
        upstream.settimeout(None)
        while True:
            chunk = upstream.recv(65536)
            if not chunk:
                return
            if first:
                exchange.upstream_status = _status_of(chunk)
                first = False
            client.sendall(chunk)
