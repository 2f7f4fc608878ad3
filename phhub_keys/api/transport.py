"""Bounds for every HubClient call: an overall deadline and a cap on the bytes read.

Why: ``requests``' read timeout is per socket read, so a server that drips one
byte every few seconds (headers or body) can hold a call for as long as it
likes; and a body is read whole into memory, so a server announcing 2 GiB can
grow the app past a gigabyte. Here:

- ``DeadlineAdapter`` remembers which pooled connections the current call (this
  thread) uses; ``CallDeadline`` arms a timer that, when the call's time is up,
  shuts those sockets down, so whatever read is blocked returns at once.
- ``read_capped`` reads a streamed response up to a limit (checked against
  ``Content-Length`` first, then counted as decoded bytes arrive, so a gzip bomb
  is caught too) and keeps it as the response's content.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from types import TracebackType
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

READ_CHUNK = 64 * 1024

_current = threading.local()


class BodyTooLarge(Exception):
    """The answer is (or announced itself as) larger than the client reads."""

    def __init__(self, limit: int, declared: int | None = None) -> None:
        super().__init__(limit, declared)
        self.limit = limit
        self.declared = declared


class CallDeadline:
    """``with CallDeadline(seconds):`` around one call; ``expired`` says whether it fired."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self._conns: list[Any] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def track(self, conn: Any) -> None:
        with self._lock:
            self._conns.append(conn)
            expired = self.expired
        if expired:  # a retry after the deadline: cut it off too
            _shut(conn)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            conns = list(self._conns)
        for conn in conns:
            _shut(conn)

    def __enter__(self) -> CallDeadline:
        _current.deadline = self
        self._timer.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._timer.cancel()
        _current.deadline = None


def _shut(conn: Any) -> None:
    sock = getattr(conn, "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


class _TrackedPool:
    """Pool mixin: hand each connection the current call takes to its CallDeadline."""

    def _get_conn(self, timeout: float | None = None) -> Any:
        conn = super()._get_conn(timeout)  # type: ignore[misc]
        deadline = getattr(_current, "deadline", None)
        if deadline is not None:
            deadline.track(conn)
        return conn


class _TrackedHTTPPool(_TrackedPool, HTTPConnectionPool):
    pass


class _TrackedHTTPSPool(_TrackedPool, HTTPSConnectionPool):
    pass


class DeadlineAdapter(HTTPAdapter):
    """An HTTPAdapter whose connections a CallDeadline can cut off."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _TrackedHTTPPool, "https": _TrackedHTTPSPool}

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        manager.pool_classes_by_scheme = {"http": _TrackedHTTPPool, "https": _TrackedHTTPSPool}
        return manager


def read_capped(response: requests.Response, limit: int) -> bytes:
    """The whole body of a ``stream=True`` response, at most ``limit`` bytes (decoded).

    Raises BodyTooLarge (the connection is dropped, not drained) or a
    ``requests`` exception. On success the connection goes back to the pool and
    ``response.content`` holds the body.
    """
    declared = response.headers.get("Content-Length", "").strip()
    if declared.isdigit() and int(declared) > limit:
        response.close()
        raise BodyTooLarge(limit, int(declared))
    body = bytearray()
    try:
        for chunk in response.iter_content(READ_CHUNK):
            body += chunk
            if len(body) > limit:
                raise BodyTooLarge(limit)
    except BaseException:
        response.close()  # content not consumed: closes the connection instead of reusing it
        raise
    content = bytes(body)
    response._content = content  # requests' own cache behind .content / .text / .json()
    response._content_consumed = True  # type: ignore[attr-defined]  # private, not in the stubs
    response.close()  # consumed: just returns the connection to the pool
    return content
