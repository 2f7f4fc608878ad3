"""Per-client MCP configuration snippets for the hub's Server URL (no Qt, no I/O).

Each AI client wants the same two facts (the Server URL and an ``Authorization:
Bearer phk_…`` header) in its own shape. The shapes below were checked against
each client's documentation (searched 2026-11, stored copies of the pages named):

- **Cursor** (cursor.com/docs/mcp, cursor.com/docs/mcp/install-links): ``~/.cursor/mcp.json``,
  ``{"mcpServers": {NAME: {"url": URL, "headers": {...}}}}``; values in ``url`` and
  ``headers`` interpolate ``${env:NAME}``. Install deep link
  ``cursor://anysphere.cursor-deeplink/mcp/install?name=NAME&config=BASE64`` where the
  config is the server entry as JSON (Stripe's published link encodes ``{"url": ...}``).
- **Claude Desktop** (modelcontextprotocol.io quickstart; the ``mcp-remote`` README,
  github.com/geelen/mcp-remote): the config file only launches local (stdio) servers, so a
  remote server with a header goes through ``npx -y mcp-remote URL --header
  Authorization:${AUTH_HEADER}`` with ``env.AUTH_HEADER = "Bearer <key>"``. The README says
  Claude Desktop on Windows (and Cursor, Codex) mangle spaces inside ``args``, hence no space
  around the colon and the space living in the env value. ``mcp-remote`` refuses plain
  ``http://`` except for ``localhost``/``127.0.0.1`` unless ``--allow-http`` is given.
  Config path: macOS ``~/Library/Application Support/Claude/claude_desktop_config.json``,
  Windows ``%APPDATA%\\Claude\\claude_desktop_config.json``, Linux ``~/.config/Claude/…``.
  Claude Desktop does not expand environment variables in its config, so by default the
  snippet carries a placeholder the user replaces (or the fresh key, when they opt in).
- **Claude Code** (code.claude.com/docs/en/mcp): ``claude mcp add --transport http NAME URL
  --header "Authorization: Bearer TOKEN"``.
- **VS Code** (code.visualstudio.com/docs/copilot/reference/mcp-configuration): ``mcp.json``
  with top-level ``servers`` (``type: "http"``, ``url``, ``headers``) and ``inputs``
  (``{"type": "promptString", "id", "description", "password": true}``) referenced as
  ``${input:ID}``, so VS Code prompts once and keeps the key in its secret storage. The file
  is JSON with comments (JSONC). User file: ``Code/User/mcp.json`` in the VS Code user dir.
- **Windsurf** (docs.windsurf.com/windsurf/cascade/mcp): ``~/.codeium/windsurf/mcp_config.json``,
  remote servers use ``serverUrl``; ``headers`` interpolate ``${env:NAME}``.
- **Codex CLI** (developers.openai.com/codex/mcp; openai/codex PR 4317 and the
  ``codex mcp add --bearer-token-env-var`` help): ``~/.codex/config.toml``,
  ``[mcp_servers.NAME]`` with ``url`` and ``bearer_token_env_var``; an inline ``bearer_token``
  is rejected, a literal header goes in ``http_headers``.
- **OpenAI Responses API / Agent Builder** (developers.openai.com/api/docs/guides/
  tools-connectors-mcp): a tool ``{"type": "mcp", "server_label", "server_url",
  "authorization"}`` where ``authorization`` is the bare token (OpenAI sends it as a Bearer
  header; it is not stored, so it goes with every request). OpenAI's servers must be able to
  reach the URL, so a loopback hub cannot be used from there.
"""

from __future__ import annotations

import base64
import json
import re
import shlex
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from .net import is_loopback_url

DEFAULT_SERVER_NAME = "performance-hub"
DEFAULT_ENV_VAR = "PHHUB_MCP_KEY"
VSCODE_INPUT_ID = "phhub-mcp-key"
KEY_PLACEHOLDER = "YOUR_MCP_KEY"

# A name every client accepts as a map key, a TOML bare key and a shell word:
# VS Code's own rule (letter first, then letters, digits, '-' or '_').
_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
_ENV_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")


class SetupError(ValueError):
    """A server name, URL or client that cannot be turned into a config; says why."""


@dataclass(frozen=True, slots=True)
class ClientInfo:
    """One AI client: how its snippet is written and whether we can write its file."""

    id: str
    name: str
    format: str  # "json" | "jsonc" | "toml" | "shell"
    container_key: str | None  # the map holding server entries in the file, e.g. "mcpServers"
    docs_url: str
    file_based: bool


CLIENTS: dict[str, ClientInfo] = {
    c.id: c
    for c in (
        ClientInfo("cursor", "Cursor", "json", "mcpServers", "https://cursor.com/docs/mcp", True),
        ClientInfo(
            "claude-desktop", "Claude Desktop", "json", "mcpServers",
            "https://modelcontextprotocol.io/quickstart/user", True,
        ),
        ClientInfo("claude-code", "Claude Code", "shell", None, "https://code.claude.com/docs/en/mcp", False),
        ClientInfo(
            "vscode", "VS Code", "jsonc", "servers",
            "https://code.visualstudio.com/docs/copilot/reference/mcp-configuration", True,
        ),
        ClientInfo(
            "windsurf", "Windsurf", "json", "mcpServers",
            "https://docs.windsurf.com/windsurf/cascade/mcp", True,
        ),
        ClientInfo(
            "codex", "Codex CLI", "toml", "mcp_servers", "https://developers.openai.com/codex/mcp", True,
        ),
        ClientInfo(
            "openai", "OpenAI Agent Builder / Responses API", "json", None,
            "https://developers.openai.com/api/docs/guides/tools-connectors-mcp", False,
        ),
    )
}


@dataclass(frozen=True)
class Snippet:
    """A ready-to-paste configuration for one client, plus what "Add to" needs to merge it.

    ``entry`` is the server entry placed under ``container_key`` in the client's file;
    ``inputs`` are VS Code input definitions that go with it. ``embeds_secret`` says the
    text holds the plaintext key (so the caller must treat it as a secret: no logs).
    """

    client: ClientInfo
    server_name: str
    text: str
    entry: dict[str, Any] | None = None
    inputs: tuple[dict[str, Any], ...] = ()
    notes: tuple[str, ...] = ()
    embeds_secret: bool = False
    extra: dict[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:  # the text may hold a key: never show it
        return (
            f"Snippet(client={self.client.id!r}, server_name={self.server_name!r}, "
            f"embeds_secret={self.embeds_secret})"
        )

    __str__ = __repr__


def validate_server_name(name: str) -> str:
    """Return ``name`` or raise SetupError: letters, digits, '-' and '_', starting with a letter."""
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise SetupError(
            "A server name is 1-64 characters: letters, digits, '-' or '_', starting with a letter "
            f"(got {name!r})."
        )
    return name


def validate_env_var(name: str) -> str:
    if not isinstance(name, str) or not _ENV_RE.match(name):
        raise SetupError(f"Not a usable environment variable name: {name!r}.")
    return name


def validate_server_url(url: str) -> str:
    """The Server URL must be an absolute http(s) URL with a host; returned unchanged."""
    parts = urllib.parse.urlsplit(url.strip() if isinstance(url, str) else "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SetupError(f"The Server URL must be an http:// or https:// address, got {url!r}.")
    if any(ch.isspace() for ch in url.strip()):
        raise SetupError("The Server URL must not contain spaces.")
    return url.strip()


def client_ids() -> list[str]:
    return list(CLIENTS)


def get_client(client_id: str) -> ClientInfo:
    try:
        return CLIENTS[client_id]
    except KeyError:
        raise SetupError(
            f"Unknown client {client_id!r}; choose one of: {', '.join(CLIENTS)}."
        ) from None


def _json(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _bearer(secret: str | None, reference: str) -> str:
    return f"Bearer {secret}" if secret else f"Bearer {reference}"


def generate(
    client_id: str,
    server_url: str,
    *,
    name: str = DEFAULT_SERVER_NAME,
    secret: str | None = None,
    env_var: str = DEFAULT_ENV_VAR,
) -> Snippet:
    """The snippet for ``client_id``. With ``secret`` the key is embedded; without it the
    snippet references ``env_var`` (or VS Code's input prompt, or a placeholder where the
    client can read neither)."""
    info = get_client(client_id)
    url = validate_server_url(server_url)
    validate_server_name(name)
    validate_env_var(env_var)
    embed = bool(secret)
    builder = _BUILDERS[client_id]
    return builder(info, url, name, secret if embed else None, env_var)


def _cursor(info: ClientInfo, url: str, name: str, secret: str | None, env_var: str) -> Snippet:
    entry = {"url": url, "headers": {"Authorization": _bearer(secret, f"${{env:{env_var}}}")}}
    notes = ["Global file: ~/.cursor/mcp.json (a project can have its own .cursor/mcp.json)."]
    if not secret:
        notes.append(
            f"Cursor reads the key from the environment variable {env_var}: set it where Cursor starts."
        )
    # The link goes to the OS URL handler (a process argument): never with the key in it.
    link_entry = {"url": url, "headers": {"Authorization": f"Bearer ${{env:{env_var}}}"}}
    return Snippet(
        info, name, _json({"mcpServers": {name: entry}}), entry=entry, notes=tuple(notes),
        embeds_secret=bool(secret), extra={"deeplink": cursor_deeplink(name, link_entry)},
    )


def _claude_desktop(info: ClientInfo, url: str, name: str, secret: str | None, env_var: str) -> Snippet:
    args = ["-y", "mcp-remote", url, "--header", "Authorization:${AUTH_HEADER}"]
    if urllib.parse.urlsplit(url).scheme == "http" and (
        urllib.parse.urlsplit(url).hostname or ""
    ).lower() not in ("localhost", "127.0.0.1"):
        args.append("--allow-http")  # mcp-remote refuses other plain-http hosts without it
    entry = {"command": "npx", "args": args, "env": {"AUTH_HEADER": _bearer(secret, KEY_PLACEHOLDER)}}
    notes = ["Needs Node.js (npx) for the mcp-remote bridge. Restart Claude Desktop afterwards."]
    if not secret:
        notes.append(
            f"Claude Desktop does not read your shell environment: replace {KEY_PLACEHOLDER} with your key."
        )
    return Snippet(
        info, name, _json({"mcpServers": {name: entry}}), entry=entry, notes=tuple(notes),
        embeds_secret=bool(secret),
    )


def _claude_code(info: ClientInfo, url: str, name: str, secret: str | None, env_var: str) -> Snippet:
    if secret:
        header = shlex.quote(f"Authorization: Bearer {secret}")
        notes = ("The key ends up in your shell history; prefer the environment-variable form.",)
    else:
        # Double quotes so the shell expands the variable when the command runs.
        header = f'"Authorization: Bearer ${env_var}"'
        notes = (f"Run it in a shell where {env_var} holds your key (POSIX shells: bash, zsh).",)
    text = (
        f"claude mcp add --transport http {shlex.quote(name)} {shlex.quote(url)} --header {header}\n"
    )
    return Snippet(info, name, text, notes=notes, embeds_secret=bool(secret))


def _vscode(info: ClientInfo, url: str, name: str, secret: str | None, env_var: str) -> Snippet:
    inputs: tuple[dict[str, Any], ...] = ()
    if secret:
        auth = _bearer(secret, "")
    else:
        auth = f"Bearer ${{input:{VSCODE_INPUT_ID}}}"
        inputs = (
            {
                "type": "promptString",
                "id": VSCODE_INPUT_ID,
                "description": "Performance Hub MCP key (phk_…)",
                "password": True,
            },
        )
    entry = {"type": "http", "url": url, "headers": {"Authorization": auth}}
    doc: dict[str, Any] = {}
    if inputs:
        doc["inputs"] = list(inputs)
    doc["servers"] = {name: entry}
    notes = ["User file: Code/User/mcp.json (or .vscode/mcp.json in a workspace)."]
    if not secret:
        notes.append("VS Code asks for the key once and keeps it in its secret storage.")
    return Snippet(
        info, name, _json(doc), entry=entry, inputs=inputs, notes=tuple(notes), embeds_secret=bool(secret)
    )


def _windsurf(info: ClientInfo, url: str, name: str, secret: str | None, env_var: str) -> Snippet:
    entry = {"serverUrl": url, "headers": {"Authorization": _bearer(secret, f"${{env:{env_var}}}")}}
    notes = ["File: ~/.codeium/windsurf/mcp_config.json. Press refresh in Windsurf's MCP panel afterwards."]
    if not secret:
        notes.append(f"Windsurf reads the key from the environment variable {env_var}.")
    return Snippet(
        info, name, _json({"mcpServers": {name: entry}}), entry=entry, notes=tuple(notes),
        embeds_secret=bool(secret),
    )


def _toml_str(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string


def _codex(info: ClientInfo, url: str, name: str, secret: str | None, env_var: str) -> Snippet:
    entry: dict[str, Any] = {"url": url}
    if secret:
        entry["http_headers"] = {"Authorization": f"Bearer {secret}"}
        auth_line = f"http_headers = {{ Authorization = {_toml_str('Bearer ' + secret)} }}\n"
        notes = ("Codex rejects an inline bearer_token; a literal header goes in http_headers.",)
    else:
        entry["bearer_token_env_var"] = env_var
        auth_line = f"bearer_token_env_var = {_toml_str(env_var)}\n"
        notes = (f"Codex sends the key from the environment variable {env_var} as a Bearer token.",)
    text = f"[mcp_servers.{name}]\nurl = {_toml_str(url)}\n{auth_line}"
    return Snippet(info, name, text, entry=entry, notes=notes, embeds_secret=bool(secret))


def _openai(info: ClientInfo, url: str, name: str, secret: str | None, env_var: str) -> Snippet:
    tool = {
        "type": "mcp",
        "server_label": name.replace("-", "_"),
        "server_description": "Performance Hub: your account's MCP tools",
        "server_url": url,
        "authorization": secret or f"<value of {env_var}>",
    }
    notes = [
        "Add this object to the request's tools list. 'authorization' is the bare key (no 'Bearer');"
        " OpenAI does not store it, so send it with every request.",
    ]
    if is_loopback_url(url):
        notes.append("OpenAI's servers cannot reach a hub on this computer; use the hub's public Server URL.")
    return Snippet(info, name, _json(tool), entry=tool, notes=tuple(notes), embeds_secret=bool(secret))


_BUILDERS = {
    "cursor": _cursor,
    "claude-desktop": _claude_desktop,
    "claude-code": _claude_code,
    "vscode": _vscode,
    "windsurf": _windsurf,
    "codex": _codex,
    "openai": _openai,
}


def cursor_deeplink(name: str, entry: dict[str, Any]) -> str:
    """Cursor's one-click install link: name + base64 of the server entry's JSON."""
    validate_server_name(name)
    config = base64.b64encode(json.dumps(entry, separators=(",", ":")).encode("utf-8")).decode("ascii")
    query = urllib.parse.urlencode({"name": name, "config": config})
    return f"cursor://anysphere.cursor-deeplink/mcp/install?{query}"


def decode_cursor_deeplink(link: str) -> tuple[str, dict[str, Any]]:
    """The (name, entry) a Cursor install link carries; the inverse of cursor_deeplink."""
    parts = urllib.parse.urlsplit(link)
    if (parts.scheme, parts.netloc, parts.path) != ("cursor", "anysphere.cursor-deeplink", "/mcp/install"):
        raise SetupError("Not a Cursor MCP install link.")
    query = urllib.parse.parse_qs(parts.query, strict_parsing=True)
    name = query["name"][0]
    entry = json.loads(base64.b64decode(query["config"][0], validate=True))
    return name, entry
