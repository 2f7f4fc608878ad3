"""The hub as one ASGI app: management API, MCP endpoint, docs page, OpenAPI."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, RedirectResponse

from .. import __version__
from .api_routes import router
from .context import HubContext
from .docs_page import mcp_docs_html
from .errors import install_error_handlers
from .mcp_gate import McpAuthGate
from .mcp_server import build_mcp_server, mcp_http_handler
from .middleware import BodySizeLimit, HostOriginGuard
from .oauth_probe import install_oauth_probe_answers
from .settings import HubSettings
from .store import HubStore


def create_app(store: HubStore, settings: HubSettings | None = None) -> FastAPI:
    """A fresh hub app over ``store``. Each app can be served once (the MCP session
    manager cannot be restarted), so build a new one per server start."""
    settings = settings or HubSettings()
    ctx = HubContext(store=store, settings=settings)
    mcp = build_mcp_server()
    handler, manager = mcp_http_handler(mcp, settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with manager.run():
            yield

    app = FastAPI(
        title="Performance Hub key API (phhub-keys local hub)", version=__version__,
        summary="Manage personal MCP keys; the MCP endpoint itself is /mcp (Streamable HTTP).",
        docs_url=None, redoc_url=None, lifespan=lifespan,
    )
    app.state.hub = ctx
    install_error_handlers(app)
    app.include_router(router)
    app.router.add_route("/mcp", McpAuthGate(handler, ctx), include_in_schema=False)
    install_oauth_probe_answers(app, ctx.mcp_refusals)

    docs_html = mcp_docs_html(settings)

    @app.get("/docs/mcp", response_class=HTMLResponse, include_in_schema=False)
    def mcp_docs() -> HTMLResponse:
        return HTMLResponse(docs_html)

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/docs/mcp")

    app.add_middleware(BodySizeLimit, limit=settings.max_api_body_bytes)
    # Added last, so it runs first: a foreign Host or Origin is refused before anything is read.
    app.add_middleware(HostOriginGuard, allowed_hosts=settings.allowed_hosts(),
                       allowed_origins=settings.allowed_origins())
    return app
