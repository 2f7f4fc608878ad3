"""The hub as one ASGI app: management API, MCP endpoint, docs page, OpenAPI."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, RedirectResponse

from .. import __version__
from .api_routes import router
from .context import HubContext
from .date_header import HubDateHeader
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
    # An instance (not a function) is mounted as a raw ASGI app by Starlette; the stubs
    # only describe request -> response endpoints.
    app.router.add_route("/mcp", McpAuthGate(handler, ctx),  # type: ignore[arg-type]
                         include_in_schema=False)
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
    # Outermost: every answer, refusals included, dates itself by the hub's clock.
    app.add_middleware(HubDateHeader, clock=store.now)
    _openapi_with_policy(app, settings)
    return app


def _openapi_with_policy(app: FastAPI, settings: HubSettings) -> None:
    """The OpenAPI document states this hub's own policy limits (grace and lifetime maxima),
    so a schema-driven client (or fuzzer) knows what this hub accepts."""
    policy = settings.key_policy
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            models = schema.get("components", {}).get("schemas", {})
            grace = models.get("RotateRequest", {}).get("properties", {}).get("grace_seconds")
            if grace is not None:
                grace["maximum"] = policy.max_grace_seconds
            days = models.get("CreateKeyRequest", {}).get("properties", {}).get("expires_in_days")
            for option in (days or {}).get("anyOf", []):
                if option.get("type") == "integer":
                    option["maximum"] = policy.max_days
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
