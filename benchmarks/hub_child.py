"""A hub in its own process, so its CPU time never competes with the measuring process's GIL.

``python -m benchmarks.hub_child DB [--mode hub|mcp-noauth] [--delay SECONDS]``
prints ``BENCH port=<port>`` once it accepts connections and serves until its
stdin closes (the parent exiting, even by a crash, stops it).

Modes:
- ``hub``: the real hub app (``create_app``): management API and the MCP
  endpoint behind ``McpAuthGate``.
- ``mcp-noauth``: the baseline for the MCP figure. The very same hub app
  (``create_app``: middleware, routes, MCP server, lifespan) with only the
  ``McpAuthGate`` on ``/mcp`` swapped for a wrapper that puts the bench key's
  identity (looked up once at start) in the ASGI scope, so ``whoami`` gives the
  same answer without any per-request auth.
"""

from __future__ import annotations

import argparse
import sys
import threading
from dataclasses import replace
from pathlib import Path

import uvicorn

from phhub_keys.core.net import format_base_url
from phhub_keys.hub.embedded import bind_socket, uvicorn_config
from phhub_keys.hub.settings import HubSettings
from phhub_keys.hub.store import HubStore


def _noauth_app(store: HubStore, settings: HubSettings, secret: str) -> object:
    """The real hub app with its ``/mcp`` gate swapped for a wrapper that only sets the identity."""
    from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
    from mcp.server.auth.provider import AccessToken
    from starlette.routing import Route

    from phhub_keys.hub.app import create_app
    from phhub_keys.hub.mcp_gate import McpAuthGate
    from phhub_keys.hub.mcp_server import IDENTITY_SCOPE_KEY

    identity = store.authenticate_key(secret)
    if identity is None:
        raise SystemExit("the bench MCP key is not in this database")
    user = AuthenticatedUser(AccessToken(token=identity.key.id, client_id=identity.key.id, scopes=[],
                                         subject=identity.user.id))
    app = create_app(store, settings)
    routes = [r for r in app.router.routes if isinstance(r, Route) and r.path == "/mcp"]
    if len(routes) != 1 or not isinstance(routes[0].app, McpAuthGate):
        raise SystemExit("the hub app no longer mounts /mcp behind McpAuthGate: update hub_child")
    handler = routes[0].app.app  # the SDK's Streamable HTTP handler the gate guards

    class NoAuth:
        """Stands where the gate stood: the same scope keys, none of the checks."""

        async def __call__(self, scope, receive, send):  # type: ignore[no-untyped-def]
            scope["user"] = user
            scope[IDENTITY_SCOPE_KEY] = identity
            await handler(scope, receive, send)

    routes[0].app = routes[0].endpoint = NoAuth()
    return app


def _delayed(app: object, seconds: float) -> object:
    """The hub, answering every management API request ``seconds`` late (without blocking others)."""
    import asyncio

    async def slow(scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] == "http" and scope["path"].startswith("/api/"):
            await asyncio.sleep(seconds)
        await app(scope, receive, send)  # type: ignore[operator]

    return slow


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("db", type=Path)
    parser.add_argument("--mode", choices=["hub", "mcp-noauth"], default="hub")
    parser.add_argument("--delay", type=float, default=0.0,
                        help="answer every /api request only after this many seconds (a slow hub)")
    args = parser.parse_args(argv)

    # Benchmarks hammer one key from one address: lift the abuse limits that would
    # otherwise (correctly) throttle that traffic; they are not what is measured.
    base = HubSettings(mcp_auth_failures_per_ip=10**9, login_failures_per_ip=10**9,
                       login_failures_per_account=10**9, creates_per_user=10**9)
    sock = bind_socket("127.0.0.1", 0)
    port = sock.getsockname()[1]
    settings = replace(base, public_url=format_base_url("127.0.0.1", port))
    store = HubStore(args.db)
    if args.mode == "hub":
        from phhub_keys.hub.app import create_app

        app = create_app(store, settings)
    else:
        # The key comes on stdin, never argv (argv is visible to every local user).
        app = _noauth_app(store, settings, sys.stdin.readline().strip())
    if args.delay:
        app = _delayed(app, args.delay)
    server = uvicorn.Server(uvicorn_config(app))

    def watch_stdin() -> None:
        sys.stdin.read()  # returns at EOF: the parent is gone or wants us to stop
        server.should_exit = True

    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            return 1
        threading.Event().wait(0.01)
    print(f"BENCH port={port}", flush=True)
    watch_stdin()
    thread.join(5)
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
