"""Answers for OAuth discovery: this hub signs in with MCP keys only.

Clients built on the MCP SDKs (mcp-remote, which Claude Desktop and JetBrains use
for remote servers, Inspector, Gemini CLI...) treat a 401 from ``/mcp`` as "start
OAuth": they probe ``/.well-known/oauth-protected-resource[/mcp]``,
``/.well-known/oauth-authorization-server``, ``/.well-known/openid-configuration``
and finally ``POST /register``, and show the user only the last answer. A plain 404
there read "Dynamic Client Registration rejected (HTTP 404): There is nothing at this
address." and the real reason (a deactivated key) never reached the user.

So every such path answers 404 with the error envelope and a message that says how
this hub signs in, and, when ``/mcp`` refused a key from the same address a moment
ago, why. Nothing here is OAuth metadata: a server that advertises OAuth makes
Cursor and Claude Code ignore a configured ``Authorization`` header.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from .context import client_address
from .errors import error_response
from .refusals import RecentRefusals

PROBE_PATHS = (
    "/.well-known/oauth-protected-resource{rest:path}",
    "/.well-known/oauth-authorization-server{rest:path}",
    "/.well-known/openid-configuration{rest:path}",
    "/mcp/.well-known/{rest:path}",
    "/register",
    "/authorize",
    "/token",
)
CODE = "oauth_not_supported"
HOW = ("This hub signs in with MCP keys only, not OAuth: send your key in the header "
       "'Authorization: Bearer phk_…' (or 'X-API-Key: phk_…') with every request to the MCP Server URL.")
NO_RECENT = ("If your client sent a key, the hub refused it: check in Manage MCP Keys that it is active "
             "and copied whole.")


def probe_message(reason: str | None) -> str:
    """The one message every discovery path answers with."""
    if reason:
        return f"{HOW} The key sent from your address was refused: {reason}"
    return f"{HOW} {NO_RECENT}"


def install_oauth_probe_answers(app: FastAPI, refusals: RecentRefusals) -> None:
    """Answer every OAuth discovery/registration path with 404 and ``probe_message``."""

    async def answer(request: Request) -> JSONResponse:
        peer = (request.client.host, request.client.port) if request.client else None
        reason = refusals.recent(client_address(peer))
        return error_response(404, CODE, probe_message(reason), {"Cache-Control": "no-store"})

    for path in PROBE_PATHS:
        app.router.add_route(path, answer, methods=["GET", "POST", "HEAD", "OPTIONS"],
                             include_in_schema=False)
