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
- **Claude Code** (code.claude.com/docs/en/mcp, "Environment variable expansion in
  .mcp.json"): ``claude mcp add --transport http -s user NAME URL --header 'Authorization: Bearer
  ${VAR}'``. Single quotes: the shell must NOT expand the variable, or ``~/.claude.json`` stores the
  key itself; Claude Code expands ``${VAR}`` when it connects (checked with Claude Code 2.1 by the
  ``realclients`` tests). Project scope: ``.mcp.json`` at the project root, ``mcpServers.NAME`` with
  ``"type": "http"`` (an entry without it is skipped), ``url`` and ``headers``; project servers
  need the user's approval in Claude Code.
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
- **Gemini CLI** (geminicli.com/docs/tools/mcp-server; what ``gemini mcp add -s user -t http NAME
  URL -H 'Authorization: Bearer ${VAR}'`` writes, checked with Gemini CLI 0.61 by the ``realclients``
  tests): ``~/.gemini/settings.json`` (or a project's ``.gemini/settings.json``), ``mcpServers.NAME``
  with ``url``, ``"type": "http"`` and ``headers``; string values expand ``$VAR``/``${VAR}``. The
  file may hold comments. Gemini CLI does not start a project's servers in an untrusted folder.
- **Zed** (zed.dev/docs/ai/mcp, "As Custom Servers"): ``context_servers.NAME`` with ``url`` and
  ``headers`` in Zed's ``settings.json`` (JSON with comments; ``~/.config/zed/settings.json``,
  ``%APPDATA%\\Zed\\settings.json`` on Windows). No variable expansion: placeholder or the key.
- **Cline** (docs.cline.bot/mcp/configuring-mcp-servers; Cline's McpHub schema: ``"type":
  "streamableHttp"``, without it a ``url`` entry is taken as SSE): ``cline_mcp_settings.json`` in
  VS Code's ``globalStorage/saoudrizwan.claude-dev/settings`` (the Cline CLI keeps one in
  ``~/.cline/data/settings``), ``mcpServers.NAME`` with ``type``, ``url``, ``headers``.
- **Continue** (docs.continue.dev/customize/deep-dives/mcp and the config.yaml reference): YAML;
  a workspace block file ``.continue/mcpServers/NAME.yaml`` (``name``/``version``/``schema`` then an
  ``mcpServers`` list) or the ``mcpServers`` list of ``~/.continue/config.yaml``; each item has
  ``name``, ``type: streamable-http``, ``url`` and ``requestOptions.headers``. ``${{ secrets.VAR }}``
  is read from ``.continue/.env`` / ``~/.continue/.env`` (or the environment).
- **Goose** (block.github.io/goose/docs/guides/config-files; goose's ``ExtensionConfig``
  ``streamable_http`` variant): ``~/.config/goose/config.yaml`` (``%APPDATA%\\Block\\goose\\config``
  on Windows), ``extensions.NAME`` with ``enabled``, ``type: streamable_http``, ``name``, ``uri``,
  ``headers``, ``timeout``. No variable expansion in headers: placeholder or the key.
- **LM Studio** (lmstudio.ai/docs/app/mcp and /docs/app/mcp/deeplink): ``~/.lmstudio/mcp.json`` in
  Cursor's notation (``mcpServers.NAME`` with ``url`` + ``headers``); one-click install
  ``lmstudio://add_mcp?name=NAME&config=BASE64`` of the entry's JSON. No variable expansion.
- **JetBrains AI Assistant** (jetbrains.com/help/ai-assistant/mcp.html): servers are added in
  Settings | Tools | AI Assistant | Model Context Protocol as Claude-Desktop-style JSON, so a remote
  server goes through the same ``mcp-remote`` bridge. ``Authorization:${AUTH_HEADER}`` keeps no
  space after the colon (the space lives in the env value), as mcp-remote's README asks for clients
  that split arguments on spaces.
- **OpenAI Responses API / Agent Builder** (developers.openai.com/api/docs/guides/
  tools-connectors-mcp): a tool ``{"type": "mcp", "server_label", "server_url",
  "authorization"}`` where ``authorization`` is the bare token (OpenAI sends it as a Bearer
  header; it is not stored, so it goes with every request). OpenAI's servers must be able to
  reach the URL, so a loopback hub cannot be used from there.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shlex
import unicodedata
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .net import http_refusal, is_loopback_url

DEFAULT_SERVER_NAME = "performance-hub"
DEFAULT_ENV_VAR = "PHHUB_MCP_KEY"
VSCODE_INPUT_ID = "phhub-mcp-key"
KEY_PLACEHOLDER = "YOUR_MCP_KEY"

USER = "user"
PROJECT = "project"

# A name every client accepts as a map key, a TOML bare key, a file name and a shell word:
# VS Code's own rule (letter first, then letters, digits, '-' or '_').
_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
_ENV_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")


class SetupError(ValueError):
    """A server name, URL or client that cannot be turned into a config; says why."""


class InsecureServerUrl(SetupError):
    """A plain-http Server URL to another computer, refused unless explicitly allowed
    (the same rule as signing in: ``core.net.http_refusal``)."""


@dataclass(frozen=True, slots=True)
class ClientInfo:
    """One AI client, as data (no Qt, no I/O): shared by setup and by anything that looks
    for our server in the clients' files.

    ``paths`` maps a platform ("linux", "darwin", "win32") to the user-level config file;
    ``~`` is the home folder and ``{APPDATA}``, ``{XDG_CONFIG_HOME}``, ``{CODEX_HOME}`` the
    usual variables (with their usual defaults, see ``user_config_path``). ``project_file``
    is the file inside a project folder for clients that have a project scope (``{name}`` is
    the server name). ``format`` is the user-level file's (or snippet's) format.
    """

    id: str
    name: str
    format: str  # "json" | "jsonc" | "toml" | "yaml" | "shell"
    container_key: str | None  # where server entries live in the user-level file, e.g. "mcpServers"
    docs_url: str
    file_based: bool
    paths: Mapping[str, str] = field(default_factory=dict)
    project_file: str | None = None
    project_format: str | None = None
    other_paths: tuple[str, ...] = ()  # more user-level files it reads (same template rules, every OS)

    @property
    def scopes(self) -> tuple[str, ...]:
        return (USER, PROJECT) if self.project_file else (USER,)


def _same(path: str) -> dict[str, str]:
    return {"linux": path, "darwin": path, "win32": path}


_VSCODE_DIR = {"linux": "{XDG_CONFIG_HOME}/Code", "darwin": "~/Library/Application Support/Code",
               "win32": "{APPDATA}/Code"}
_CLINE_FILE = "User/globalStorage/saoudrizwan.claude-dev/settings/cline_mcp_settings.json"

CLIENTS: dict[str, ClientInfo] = {
    c.id: c
    for c in (
        ClientInfo("cursor", "Cursor", "json", "mcpServers", "https://cursor.com/docs/mcp", True,
                   _same("~/.cursor/mcp.json"), ".cursor/mcp.json", "json"),
        ClientInfo(
            "claude-desktop", "Claude Desktop", "json", "mcpServers",
            "https://modelcontextprotocol.io/quickstart/user", True,
            {"linux": "{XDG_CONFIG_HOME}/Claude/claude_desktop_config.json",
             "darwin": "~/Library/Application Support/Claude/claude_desktop_config.json",
             "win32": "{APPDATA}/Claude/claude_desktop_config.json"},
        ),
        ClientInfo("claude-code", "Claude Code", "shell", None, "https://code.claude.com/docs/en/mcp", False,
                   _same("~/.claude.json"), ".mcp.json", "json"),
        ClientInfo(
            "vscode", "VS Code", "jsonc", "servers",
            "https://code.visualstudio.com/docs/copilot/reference/mcp-configuration", True,
            {k: v + "/User/mcp.json" for k, v in _VSCODE_DIR.items()}, ".vscode/mcp.json", "jsonc",
        ),
        ClientInfo(
            "windsurf", "Windsurf", "json", "mcpServers",
            "https://docs.windsurf.com/windsurf/cascade/mcp", True,
            _same("~/.codeium/windsurf/mcp_config.json"),
        ),
        ClientInfo(
            "codex", "Codex CLI", "toml", "mcp_servers", "https://developers.openai.com/codex/mcp", True,
            _same("{CODEX_HOME}/config.toml"),
        ),
        ClientInfo(
            "gemini", "Gemini CLI", "jsonc", "mcpServers",
            "https://geminicli.com/docs/tools/mcp-server/", True,
            _same("~/.gemini/settings.json"), ".gemini/settings.json", "jsonc",
        ),
        ClientInfo(
            "zed", "Zed", "jsonc", "context_servers", "https://zed.dev/docs/ai/mcp", True,
            {"linux": "{XDG_CONFIG_HOME}/zed/settings.json", "darwin": "~/.config/zed/settings.json",
             "win32": "{APPDATA}/Zed/settings.json"},
        ),
        ClientInfo(
            "cline", "Cline", "json", "mcpServers",
            "https://docs.cline.bot/mcp/configuring-mcp-servers", True,
            {k: v + "/" + _CLINE_FILE for k, v in _VSCODE_DIR.items()},
            other_paths=("~/.cline/data/settings/cline_mcp_settings.json",),  # the Cline CLI's
        ),
        ClientInfo(
            "continue", "Continue", "yaml", "mcpServers", "https://docs.continue.dev/customize/deep-dives/mcp",
            True, _same("~/.continue/config.yaml"), ".continue/mcpServers/{name}.yaml", "yaml",
        ),
        ClientInfo(
            "goose", "Goose", "yaml", "extensions", "https://block.github.io/goose/docs/guides/config-files",
            True, {"linux": "{XDG_CONFIG_HOME}/goose/config.yaml", "darwin": "~/.config/goose/config.yaml",
                   "win32": "{APPDATA}/Block/goose/config/config.yaml"},
        ),
        ClientInfo("lmstudio", "LM Studio", "json", "mcpServers", "https://lmstudio.ai/docs/app/mcp", True,
                   _same("~/.lmstudio/mcp.json")),
        ClientInfo(
            "jetbrains", "JetBrains AI Assistant", "json", "mcpServers",
            "https://www.jetbrains.com/help/ai-assistant/mcp.html", False,
        ),
        ClientInfo(
            "openai", "OpenAI Agent Builder / Responses API", "json", None,
            "https://developers.openai.com/api/docs/guides/tools-connectors-mcp", False,
        ),
    )
}


def _platform_key(platform: str) -> str:
    if platform.startswith("win"):
        return "win32"
    return "darwin" if platform == "darwin" else "linux"


def user_config_path(
    client_id: str,
    *,
    platform: str | None = None,
    env: Mapping[str, str] | None = None,
    home: Path | None = None,
) -> Path | None:
    """Where ``client_id`` keeps its user-level MCP config on ``platform`` (None: it has none)."""
    import sys

    info = get_client(client_id)
    platform = sys.platform if platform is None else platform
    env = os.environ if env is None else env
    home = Path.home() if home is None else home
    template = info.paths.get(_platform_key(platform))
    if not template:
        return None
    return _expand(template, env, home)


def user_config_paths(
    client_id: str,
    *,
    platform: str | None = None,
    env: Mapping[str, str] | None = None,
    home: Path | None = None,
) -> list[Path]:
    """Every user-level file ``client_id`` reads MCP servers from (its main file first), also
    for clients we never write to (Claude Code's ~/.claude.json): for tools that look for keys."""
    main = user_config_path(client_id, platform=platform, env=env, home=home)
    env = os.environ if env is None else env
    home = Path.home() if home is None else home
    others = [_expand(t, env, home) for t in get_client(client_id).other_paths]
    return ([main] if main is not None else []) + [p for p in others if p != main]


def _expand(template: str, env: Mapping[str, str], home: Path) -> Path:
    values = {
        "APPDATA": env.get("APPDATA") or str(home / "AppData" / "Roaming"),
        "XDG_CONFIG_HOME": env.get("XDG_CONFIG_HOME") or str(home / ".config"),
        "CODEX_HOME": env.get("CODEX_HOME") or str(home / ".codex"),
    }
    if template.startswith("~/"):
        return home.joinpath(*template[2:].split("/"))
    var, _, rest = template.partition("}/")
    return Path(values[var.lstrip("{")]).joinpath(*rest.split("/"))


def project_config_path(client_id: str, project_dir: Path, name: str = DEFAULT_SERVER_NAME) -> Path:
    """The file inside ``project_dir`` that holds ``client_id``'s project-scoped servers."""
    info = get_client(client_id)
    if not info.project_file:
        raise SetupError(f"{info.name} has no project-level configuration file.")
    validate_server_name(name)
    return Path(project_dir).joinpath(*info.project_file.format(name=name).split("/"))


@dataclass(frozen=True)
class Snippet:
    """A ready-to-paste configuration for one client, plus what "Add to" needs to merge it.

    ``entry`` is the server entry placed under ``container`` in the client's file (a map
    keyed by server name, or for ``container_kind == "list"`` a list whose items carry
    ``name``); ``new_file`` is the rest of a file we create; ``inputs`` are VS Code input
    definitions that go with the entry. ``embeds_secret`` says the text holds the plaintext
    key (so the caller must treat it as a secret: no logs); ``needs_key`` that it holds
    ``KEY_PLACEHOLDER`` for the user to replace.
    """

    client: ClientInfo
    server_name: str
    text: str
    entry: dict[str, Any] | None = None
    inputs: tuple[dict[str, Any], ...] = ()
    notes: tuple[str, ...] = ()
    embeds_secret: bool = False
    extra: dict[str, str] = field(default_factory=dict)
    scope: str = USER
    format: str = ""
    container: str | None = None
    container_kind: str = "map"
    new_file: dict[str, Any] = field(default_factory=dict)
    file_based: bool = False
    needs_key: bool = False

    def __repr__(self) -> str:  # the text may hold a key: never show it
        return (
            f"Snippet(client={self.client.id!r}, scope={self.scope!r}, server_name={self.server_name!r}, "
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
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in url):
        # A hub's answer lands in snippets printed to a terminal and pasted into shells.
        raise SetupError("The Server URL must not contain control or invisible characters.")
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


@dataclass(frozen=True)
class _Args:
    info: ClientInfo
    url: str
    name: str
    secret: str | None
    env_var: str
    scope: str


def generate(
    client_id: str,
    server_url: str,
    *,
    name: str = DEFAULT_SERVER_NAME,
    secret: str | None = None,
    env_var: str = DEFAULT_ENV_VAR,
    scope: str = USER,
    allow_insecure_http: bool = False,
) -> Snippet:
    """The snippet for ``client_id``. With ``secret`` the key is embedded; without it the
    snippet references ``env_var`` (or VS Code's input prompt, or a placeholder where the
    client can read neither). ``scope`` is "user" or, for clients that have one, "project".

    A plain ``http://`` Server URL to another computer raises InsecureServerUrl unless
    ``allow_insecure_http`` (the AI client would send the key unencrypted on every request).
    """
    info = get_client(client_id)
    url = validate_server_url(server_url)
    refusal = http_refusal(url, allow_insecure_http, what="your MCP key")
    if refusal:
        raise InsecureServerUrl(refusal)
    validate_server_name(name)
    validate_env_var(env_var)
    if scope not in info.scopes:
        raise SetupError(f"{info.name} has no {scope!r} configuration; use one of: {', '.join(info.scopes)}.")
    args = _Args(info, url, name, secret or None, env_var, scope)
    return _BUILDERS[client_id](args)


def _file_snippet(
    a: _Args, entry: dict[str, Any], notes: list[str], *, text: str | None = None, **kw: Any
) -> Snippet:
    """A snippet for a file with a map of servers under the client's container key."""
    project = a.scope == PROJECT
    fmt = (a.info.project_format if project else a.info.format) or a.info.format
    container = kw.pop("container", a.info.container_key)
    if text is None:
        text = _json({container: {a.name: entry}})
    needs_key = KEY_PLACEHOLDER in json.dumps(entry)
    return Snippet(
        a.info, a.name, text, entry=entry, notes=tuple(notes), embeds_secret=bool(a.secret),
        scope=a.scope, format=fmt, container=container, file_based=kw.pop("file_based", True),
        needs_key=needs_key, **kw,
    )


def _cursor(a: _Args) -> Snippet:
    entry = {"url": a.url, "headers": {"Authorization": _bearer(a.secret, f"${{env:{a.env_var}}}")}}
    notes = ["Global file: ~/.cursor/mcp.json (a project can have its own .cursor/mcp.json)."]
    if not a.secret:
        notes.append(
            f"Cursor reads the key from the environment variable {a.env_var}: set it where Cursor starts."
        )
    # The link goes to the OS URL handler (a process argument): never with the key in it.
    link_entry = {"url": a.url, "headers": {"Authorization": f"Bearer ${{env:{a.env_var}}}"}}
    return _file_snippet(a, entry, notes, extra={"deeplink": cursor_deeplink(a.name, link_entry)})


def _mcp_remote_entry(a: _Args) -> dict[str, Any]:
    """Claude Desktop's (and JetBrains') way to a remote server: the mcp-remote stdio bridge."""
    args = ["-y", "mcp-remote", a.url, "--header", "Authorization:${AUTH_HEADER}"]
    parts = urllib.parse.urlsplit(a.url)
    if parts.scheme == "http" and (parts.hostname or "").lower() not in ("localhost", "127.0.0.1"):
        # mcp-remote refuses other plain-http hosts without it; generate() let this URL through
        # only when it is loopback (e.g. [::1]) or the user allowed insecure http.
        args.append("--allow-http")
    return {"command": "npx", "args": args, "env": {"AUTH_HEADER": _bearer(a.secret, KEY_PLACEHOLDER)}}


def _claude_desktop(a: _Args) -> Snippet:
    notes = ["Needs Node.js (npx) for the mcp-remote bridge. Restart Claude Desktop afterwards."]
    if not a.secret:
        notes.append(
            f"Claude Desktop does not read your shell environment: replace {KEY_PLACEHOLDER} with your key."
        )
    return _file_snippet(a, _mcp_remote_entry(a), notes)


def _jetbrains(a: _Args) -> Snippet:
    notes = [
        "In your JetBrains IDE: Settings | Tools | AI Assistant | Model Context Protocol (MCP), "
        "Add, switch to 'As JSON' and paste this. Needs Node.js (npx) for the mcp-remote bridge.",
        "Keep 'Authorization:${AUTH_HEADER}' without a space: the space is in the AUTH_HEADER value.",
    ]
    if not a.secret:
        notes.append(f"Replace {KEY_PLACEHOLDER} with your key in the pasted JSON.")
    return _file_snippet(a, _mcp_remote_entry(a), notes, file_based=False)


def _claude_code(a: _Args) -> Snippet:
    if a.scope == PROJECT:
        entry = {"type": "http", "url": a.url,
                 "headers": {"Authorization": _bearer(a.secret, f"${{{a.env_var}}}")}}
        notes = [
            "Project file: .mcp.json at the project's root (share it through version control).",
            "Claude Code asks each user to approve a project's servers before it uses them.",
        ]
        if not a.secret:
            notes.append(f"Claude Code fills in ${{{a.env_var}}} from its environment when it connects.")
        else:
            notes.append("This file holds your key: do not commit it.")
        return _file_snippet(a, entry, notes, container="mcpServers")
    if a.secret:
        header = shlex.quote(f"Authorization: Bearer {a.secret}")
        shell_notes: tuple[str, ...] = (
            "The key ends up in your shell history; prefer the environment-variable form.",
        )
    else:
        # Single quotes: the shell must not expand the variable, so ~/.claude.json keeps the
        # reference and Claude Code expands it when it connects.
        header = f"'Authorization: Bearer ${{{a.env_var}}}'"
        shell_notes = (
            f"Claude Code reads {a.env_var} from its environment when it connects: export it where "
            "you start claude. Your key is not written to ~/.claude.json.",
        )
    text = (
        f"claude mcp add --transport http --scope user {shlex.quote(a.name)} {shlex.quote(a.url)} "
        f"--header {header}\n"
    )
    return Snippet(a.info, a.name, text, notes=shell_notes, embeds_secret=bool(a.secret), scope=a.scope,
                   format="shell")


def _vscode(a: _Args) -> Snippet:
    inputs: tuple[dict[str, Any], ...] = ()
    if a.secret:
        auth = _bearer(a.secret, "")
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
    entry = {"type": "http", "url": a.url, "headers": {"Authorization": auth}}
    doc: dict[str, Any] = {}
    if inputs:
        doc["inputs"] = list(inputs)
    doc["servers"] = {a.name: entry}
    notes = ["User file: Code/User/mcp.json (or .vscode/mcp.json in a workspace)."]
    if not a.secret:
        notes.append("VS Code asks for the key once and keeps it in its secret storage.")
    return _file_snippet(a, entry, notes, text=_json(doc), inputs=inputs)


def _windsurf(a: _Args) -> Snippet:
    entry = {"serverUrl": a.url, "headers": {"Authorization": _bearer(a.secret, f"${{env:{a.env_var}}}")}}
    notes = ["File: ~/.codeium/windsurf/mcp_config.json. Press refresh in Windsurf's MCP panel afterwards."]
    if not a.secret:
        notes.append(f"Windsurf reads the key from the environment variable {a.env_var}.")
    return _file_snippet(a, entry, notes)


def _toml_str(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string


def _codex(a: _Args) -> Snippet:
    entry: dict[str, Any] = {"url": a.url}
    if a.secret:
        entry["http_headers"] = {"Authorization": f"Bearer {a.secret}"}
        auth_line = f"http_headers = {{ Authorization = {_toml_str('Bearer ' + a.secret)} }}\n"
        notes = ["Codex rejects an inline bearer_token; a literal header goes in http_headers."]
    else:
        entry["bearer_token_env_var"] = a.env_var
        auth_line = f"bearer_token_env_var = {_toml_str(a.env_var)}\n"
        notes = [f"Codex sends the key from the environment variable {a.env_var} as a Bearer token."]
    text = f"[mcp_servers.{a.name}]\nurl = {_toml_str(a.url)}\n{auth_line}"
    return _file_snippet(a, entry, notes, text=text)


def _gemini(a: _Args) -> Snippet:
    entry = {"url": a.url, "type": "http",
             "headers": {"Authorization": _bearer(a.secret, f"${{{a.env_var}}}")}}
    notes = [
        "User file: ~/.gemini/settings.json; a project's own: .gemini/settings.json.",
        "Gemini CLI does not start MCP servers in a folder you have not trusted: trust it when asked "
        "(or with /permissions).",
    ]
    if not a.secret:
        notes.append(f"Gemini CLI fills in ${{{a.env_var}}} from its environment.")
    return _file_snippet(a, entry, notes)


def _placeholder_note(a: _Args, client: str) -> list[str]:
    if a.secret:
        return []
    return [f"{client} does not read environment variables here: replace {KEY_PLACEHOLDER} with your key."]


def _zed(a: _Args) -> Snippet:
    entry = {"url": a.url, "headers": {"Authorization": _bearer(a.secret, KEY_PLACEHOLDER)}}
    notes = ["Zed's settings file: ~/.config/zed/settings.json (Zed: open settings file). "
             "Zed picks up the change by itself.", *_placeholder_note(a, "Zed")]
    return _file_snippet(a, entry, notes)


def _cline(a: _Args) -> Snippet:
    entry = {"type": "streamableHttp", "url": a.url,
             "headers": {"Authorization": _bearer(a.secret, KEY_PLACEHOLDER)}, "disabled": False}
    notes = [
        "Cline: MCP Servers icon > Configure > Configure MCP Servers opens this file "
        "(the Cline CLI uses ~/.cline/data/settings/cline_mcp_settings.json).",
        "Keep \"type\": \"streamableHttp\": without it Cline talks the older SSE transport.",
        *_placeholder_note(a, "Cline"),
    ]
    return _file_snippet(a, entry, notes)


def _continue(a: _Args) -> Snippet:
    auth = _bearer(a.secret, f"${{{{ secrets.{a.env_var} }}}}")
    entry = {"name": a.name, "type": "streamable-http", "url": a.url,
             "requestOptions": {"headers": {"Authorization": auth}}}
    header: dict[str, Any] = {"name": "Performance Hub MCP", "version": "0.0.1", "schema": "v1"}
    notes = [
        "Project file: .continue/mcpServers/<name>.yaml in your workspace; for every workspace, the "
        "mcpServers list of ~/.continue/config.yaml.",
        "MCP tools work in Continue's Agent mode.",
    ]
    if not a.secret:
        notes.append(f"Continue reads {a.env_var} from ~/.continue/.env (a line {a.env_var}=phk_…) "
                     "or from its environment.")
    text = _yaml_text({**header, "mcpServers": [entry]})
    return _file_snippet(a, entry, notes, text=text, container_kind="list", new_file=header)


def _goose(a: _Args) -> Snippet:
    entry = {
        "enabled": True, "type": "streamable_http", "name": a.name,
        "description": "Performance Hub MCP tools", "uri": a.url,
        "headers": {"Authorization": _bearer(a.secret, KEY_PLACEHOLDER)}, "timeout": 300,
    }
    notes = ["File: ~/.config/goose/config.yaml (goose configure edits the same file). Restart goose "
             "afterwards.", *_placeholder_note(a, "Goose")]
    return _file_snippet(a, entry, notes, text=_yaml_text({"extensions": {a.name: entry}}))


def _lmstudio(a: _Args) -> Snippet:
    entry = {"url": a.url, "headers": {"Authorization": _bearer(a.secret, KEY_PLACEHOLDER)}}
    notes = ["LM Studio: Program tab > Install > Edit mcp.json opens this file (~/.lmstudio/mcp.json).",
             *_placeholder_note(a, "LM Studio")]
    link_entry = {"url": a.url, "headers": {"Authorization": f"Bearer {KEY_PLACEHOLDER}"}}
    return _file_snippet(a, entry, notes, extra={"deeplink": lmstudio_deeplink(a.name, link_entry)})


def _openai(a: _Args) -> Snippet:
    tool = {
        "type": "mcp",
        "server_label": a.name.replace("-", "_"),
        "server_description": "Performance Hub: your account's MCP tools",
        "server_url": a.url,
        "authorization": a.secret or f"<value of {a.env_var}>",
    }
    notes = [
        "Add this object to the request's tools list. 'authorization' is the bare key (no 'Bearer');"
        " OpenAI does not store it, so send it with every request.",
    ]
    if is_loopback_url(a.url):
        notes.append("OpenAI's servers cannot reach a hub on this computer; use the hub's public Server URL.")
    return Snippet(a.info, a.name, _json(tool), entry=tool, notes=tuple(notes), embeds_secret=bool(a.secret),
                   format="json")


_BUILDERS = {
    "cursor": _cursor,
    "claude-desktop": _claude_desktop,
    "claude-code": _claude_code,
    "vscode": _vscode,
    "windsurf": _windsurf,
    "codex": _codex,
    "gemini": _gemini,
    "zed": _zed,
    "cline": _cline,
    "continue": _continue,
    "goose": _goose,
    "lmstudio": _lmstudio,
    "jetbrains": _jetbrains,
    "openai": _openai,
}


def _yaml_text(data: dict[str, Any]) -> str:
    """Block-style YAML for a snippet (ruamel.yaml, the same library that merges the files)."""
    import io

    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.sort_base_mapping_type_on_output = False  # type: ignore[assignment]  # declared None
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def _b64_link(prefix: str, name: str, entry: dict[str, Any]) -> str:
    validate_server_name(name)
    config = base64.b64encode(json.dumps(entry, separators=(",", ":")).encode("utf-8")).decode("ascii")
    return f"{prefix}?{urllib.parse.urlencode({'name': name, 'config': config})}"


def cursor_deeplink(name: str, entry: dict[str, Any]) -> str:
    """Cursor's one-click install link: name + base64 of the server entry's JSON."""
    return _b64_link("cursor://anysphere.cursor-deeplink/mcp/install", name, entry)


def lmstudio_deeplink(name: str, entry: dict[str, Any]) -> str:
    """LM Studio's "Add to LM Studio" link (lmstudio.ai/docs/app/mcp/deeplink): same encoding."""
    return _b64_link("lmstudio://add_mcp", name, entry)


def decode_deeplink(link: str) -> tuple[str, dict[str, Any]]:
    """The (name, entry) a Cursor or LM Studio install link carries."""
    parts = urllib.parse.urlsplit(link)
    if (parts.scheme, parts.netloc, parts.path) not in (
        ("cursor", "anysphere.cursor-deeplink", "/mcp/install"), ("lmstudio", "add_mcp", ""),
    ):
        raise SetupError("Not a Cursor or LM Studio MCP install link.")
    query = urllib.parse.parse_qs(parts.query, strict_parsing=True)
    name = query["name"][0]
    entry = json.loads(base64.b64decode(query["config"][0], validate=True))
    return name, entry


decode_cursor_deeplink = decode_deeplink
