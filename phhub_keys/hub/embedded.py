"""Run the hub inside this process, on a loopback port, on a background thread.

The GUI's ``--local`` mode and the tests use this. Stopping never hangs on an
open MCP stream: uvicorn gets a short graceful-shutdown timeout, then is forced.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from ..core.net import format_base_url
from .app import create_app
from .settings import HubSettings
from .store import HubStore

START_TIMEOUT = 15.0


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket (port 0 picks a free one); OSError when the port is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        if hasattr(socket, "SO_REUSEADDR"):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted connections inherit this: without it, keep-alive requests stall ~40 ms
        # on Nagle + delayed ACK (uvicorn writes headers and body separately).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host.strip("[]"), port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def uvicorn_config(app: FastAPI, *, log_level: str = "warning", access_log: bool = False,
                   trusted_proxies: Sequence[str] = ()) -> uvicorn.Config:
    """Uvicorn settings shared by the embedded and standalone hub.

    ``log_config=None`` leaves logging to the host application; access logs are
    off by default (noise, and paths are all they would add).

    Proxy headers are off unless ``trusted_proxies`` names the proxy: uvicorn's
    default believes ``X-Forwarded-For`` from any loopback peer, so anyone on this
    machine could pick the address the per-address limits count and
    ``last_used_ip`` records. With ``trusted_proxies`` only those peers are believed.

    Uvicorn's ``Date`` is off: the app's HubDateHeader sets it from the hub's clock.
    """
    return uvicorn.Config(
        app, log_config=None, log_level=log_level, access_log=access_log, lifespan="on", ws="none",
        timeout_graceful_shutdown=1, timeout_keep_alive=5, server_header=False, date_header=False,
        proxy_headers=bool(trusted_proxies), forwarded_allow_ips=list(trusted_proxies),
    )


class EmbeddedHub:
    """The hub on a background thread. ``start()`` returns once it accepts connections."""

    def __init__(self, db_path: Path | str, *, host: str = "127.0.0.1", port: int = 0,
                 public_url: str | None = None, settings: HubSettings | None = None,
                 access_log: bool = False, log_level: str = "warning") -> None:
        self.db_path = Path(db_path)
        self.host = host
        self.port = port
        self._public_url = public_url
        self._settings = settings or HubSettings()
        self._access_log = access_log
        self._log_level = log_level
        self.settings: HubSettings | None = None
        self.store: HubStore | None = None
        self.app: FastAPI | None = None  # the ASGI app being served (its state.hub holds limiters etc.)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The base URL to reach this hub from this machine, e.g. ``http://127.0.0.1:54321``."""
        return format_base_url(self.host, self.port)

    @property
    def public_url(self) -> str:
        return (self.settings.public_url if self.settings else self._public_url) or self.url

    def start(self) -> EmbeddedHub:
        if self._thread is not None:
            raise RuntimeError("this EmbeddedHub is already running")
        sock = bind_socket(self.host, self.port)
        self.port = sock.getsockname()[1]
        self.settings = replace(self._settings, public_url=self._public_url or self.url)
        try:
            self.store = HubStore(self.db_path, password_cost=self.settings.password_cost,
                                  event_retention_days=self.settings.event_retention_days)
            app = self.app = create_app(self.store, self.settings)
            config = uvicorn_config(app, access_log=self._access_log, log_level=self._log_level,
                                    trusted_proxies=self.settings.trusted_proxies)
            server = uvicorn.Server(config)
        except BaseException:
            sock.close()
            if self.store is not None:
                self.store.close()
            raise
        self._server = server
        self._thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]},
                                        name=f"phhub-hub-{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not server.started:
            if not self._thread.is_alive():
                sock.close()
                self._cleanup()
                raise RuntimeError("the local hub failed to start (see the log for why)")
            if time.monotonic() > deadline:
                self.stop()
                sock.close()
                raise RuntimeError(f"the local hub did not start within {START_TIMEOUT:.0f} s")
            time.sleep(0.01)
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving and close the database; safe to call twice."""
        server, thread = self._server, self._thread
        if server is not None and thread is not None:
            server.should_exit = True
            thread.join(timeout)
            if thread.is_alive():
                server.force_exit = True
                thread.join(timeout)
        self._cleanup()

    def _cleanup(self) -> None:
        if self.store is not None:
            self.store.close()
        self._server = None
        self._thread = None

    def __enter__(self) -> EmbeddedHub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
