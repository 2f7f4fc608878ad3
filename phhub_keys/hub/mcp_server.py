"""The hub's MCP server (official ``mcp`` SDK, Streamable HTTP) and its tools.

Authentication happens before the SDK sees a request (see mcp_gate.py); the
gate leaves the caller's identity in the ASGI scope, where the tools read it
through the SDK's per-request context.
"""

from __future__ import annotations

import logging
from typing import Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp, StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from pydantic import BaseModel, Field

from .. import __version__
from .settings import HubSettings
from .store import KeyIdentity

IDENTITY_SCOPE_KEY = "phhub.identity"

_INSTRUCTIONS = (
    "Performance Hub (local reference hub). Tools act as the user who owns the MCP key "
    "this connection authenticates with."
)


class WhoAmI(BaseModel):
    email: str
    name: str
    user_id: str
    key_id: str = Field(description="Id of the MCP key this request authenticated with")
    key_label: str


class Facilities(BaseModel):
    facilities: list[str]


def _identity(ctx: Context[Any, Any]) -> KeyIdentity:
    request = ctx.request_context.request
    identity = getattr(request, "scope", {}).get(IDENTITY_SCOPE_KEY) if request is not None else None
    if not isinstance(identity, KeyIdentity):
        raise ToolError("This request carries no authenticated MCP key.")
    return identity


def build_mcp_server() -> MCPServer:
    """An MCPServer with the hub's tools. Logging must be configured before this runs."""
    # The SDK logs every session at INFO; keep that out of the hub's logs unless asked for.
    sdk_logger = logging.getLogger("mcp")
    if sdk_logger.level == logging.NOTSET:
        sdk_logger.setLevel(logging.WARNING)
    # log_level only matters when the process has no logging set up yet: the SDK then
    # calls basicConfig, and WARNING keeps its per-session INFO lines out of the way.
    server: MCPServer = MCPServer(
        name="phhub-keys", title="Performance Hub (local)", version=__version__,
        instructions=_INSTRUCTIONS, log_level="WARNING",
    )

    @server.tool(description="Who am I? The account this MCP key belongs to, and the key itself.")
    def whoami(ctx: Context) -> WhoAmI:
        identity = _identity(ctx)
        return WhoAmI(email=identity.user.email, name=identity.user.name, user_id=identity.user.id,
                      key_id=identity.key.id, key_label=identity.key.label)

    @server.tool(description="The facilities this account can reach (a key has its user's access).")
    def list_facilities(ctx: Context) -> Facilities:
        return Facilities(facilities=list(_identity(ctx).user.facilities))

    return server


def mcp_http_handler(server: MCPServer, settings: HubSettings) -> tuple[StreamableHTTPASGIApp,
                                                                          StreamableHTTPSessionManager]:
    """The Streamable HTTP ASGI handler and the session manager whose ``run()`` the lifespan must enter."""
    security = TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=settings.allowed_hosts(),
        allowed_origins=settings.allowed_origins(),
    )
    # Builds the SDK's session manager; we route to it ourselves behind the auth gate.
    server.streamable_http_app(
        streamable_http_path="/mcp", transport_security=security,
        max_request_body_size=settings.max_mcp_body_bytes,
    )
    manager = server.session_manager
    return StreamableHTTPASGIApp(manager), manager
