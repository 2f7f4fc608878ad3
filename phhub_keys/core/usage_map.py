"""Where is an MCP key used on this computer? (the usage map; no Qt, no network)

The app never keeps a key's secret, only its redacted preview (``phk_`` + first 4 +
last 6 characters, ``keyformat.redact``). So a config file "uses" a key when it holds
a well-formed key (checksum and all) whose preview equals the key's preview: with 10
base62 characters compared, a false match is about one in 10^17.

Which files: every client config file the app itself knows how to write, read from
the client registry (``client_setup.CLIENTS`` + ``config_install.config_path``), so a
client added to setup is scanned here too; plus any extra files the caller names
(a workspace ``.vscode/mcp.json``, ``--file``).

What is reported, per file:
- ``LiteralUse``: the key is written in the file (count, the server entries holding
  it, a fingerprint of the bytes so a later re-wire can tell the file changed);
- ``IndirectUse``: a server entry for this hub (its Server URL appears in the entry)
  that takes the key from an environment variable, an input prompt or a placeholder;
  nothing to replace in the file, so ``advice`` says what the user must change by hand;
- ``ScanProblem``: a file that exists but cannot be read (permissions, not a regular
  file, not text), with the reason.

The secret found in a file never leaves this module: reports hold previews only.
Re-wiring (replacing the literal key) lives in ``core.rewire``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from . import jsonc
from .client_setup import CLIENTS, KEY_PLACEHOLDER, ClientInfo
from .config_install import ConfigInstallError, config_path
from .keyformat import KEY_IN_TEXT, is_valid_key, redact
from .userfiles import FileRefused, NotRegularFile, TooLarge, read_regular, resolve_for_write

MAX_CONFIG_BYTES = 4 * 1024 * 1024  # a client config is a few KB; a bigger file is not one of ours

_ENV_PATTERNS = (
    re.compile(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}"),  # Cursor, Windsurf, VS Code
    re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}"),  # Claude Code .mcp.json, Gemini CLI, shells
    re.compile(r"(?<![\w$])\$([A-Za-z_][A-Za-z0-9_]*)"),  # $NAME
)
_INPUT_PATTERN = re.compile(r"\$\{input:([^}\s]+)\}")
# Keys whose value *is* the name of an environment variable holding the token (Codex).
_ENV_NAME_KEYS = ("bearer_token_env_var",)
_ENV_NAME_MAPS = ("env_http_headers",)  # header -> name of the variable holding its value (Codex)
_URL_KEYS = ("url", "serverUrl", "server_url", "httpUrl", "uri", "endpoint")


@dataclass(frozen=True, slots=True)
class ConfigFile:
    """One config file a client reads: which client, and where."""

    client_id: str
    client_name: str
    path: Path
    format: str  # the registry's format: "json" | "jsonc" | "toml" | "yaml" | ...

    def to_json(self) -> dict[str, Any]:
        return {"client": self.client_id, "client_name": self.client_name, "path": str(self.path)}


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What a file looked like when scanned: a re-wire refuses a file that no longer matches."""

    sha256: str
    size: int
    mtime_ns: int


@dataclass(frozen=True, slots=True)
class LiteralUse:
    """The key is written in this file (``count`` times, in ``servers``)."""

    file: ConfigFile
    real_path: Path  # symlinks resolved: the file a re-wire writes
    count: int
    servers: tuple[str, ...]
    fingerprint: Fingerprint

    def to_json(self) -> dict[str, Any]:
        return {**self.file.to_json(), "kind": "literal", "count": self.count, "servers": list(self.servers)}


@dataclass(frozen=True, slots=True)
class IndirectUse:
    """A server entry for this hub that reads its key from somewhere else; ``advice`` says what to do."""

    file: ConfigFile
    server: str
    kind: str  # "env" | "input" | "placeholder"
    name: str  # the variable, input id or placeholder text
    holds_key: bool | None  # env: this process's variable holds the key (None: unknown / not env)
    advice: str

    def to_json(self) -> dict[str, Any]:
        return {**self.file.to_json(), "kind": self.kind, "server": self.server, "name": self.name,
                "holds_key": self.holds_key, "advice": self.advice}


@dataclass(frozen=True, slots=True)
class ScanProblem:
    file: ConfigFile
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {**self.file.to_json(), "reason": self.reason}


@dataclass
class UsageReport:
    """Everything one scan found for one key preview."""

    preview: str
    literal: list[LiteralUse] = field(default_factory=list)
    indirect: list[IndirectUse] = field(default_factory=list)
    problems: list[ScanProblem] = field(default_factory=list)
    scanned: list[ConfigFile] = field(default_factory=list)  # files that exist and were read
    missing: list[ConfigFile] = field(default_factory=list)  # known files not on this computer

    @property
    def found(self) -> bool:
        return bool(self.literal or self.indirect)

    def to_json(self) -> dict[str, Any]:
        """The ``where-used --json`` shape (documented in README)."""
        return {
            "key": self.preview,
            "literal": [u.to_json() for u in self.literal],
            "indirect": [u.to_json() for u in self.indirect],
            "problems": [p.to_json() for p in self.problems],
            "scanned": [f.to_json() for f in self.scanned],
            "not_present": [f.to_json() for f in self.missing],
        }

    def summary_lines(self) -> list[str]:
        """Plain lines for a terminal or a label: one per use, then problems."""
        lines = []
        for use in self.literal:
            where = f" (server {', '.join(use.servers)})" if use.servers else ""
            times = f", {use.count} times" if use.count > 1 else ""
            lines.append(f"{use.file.client_name}: {use.file.path}{where}{times} - "
                         "the key is written in the file")
        for ind in self.indirect:
            lines.append(f"{ind.file.client_name}: {ind.file.path} (server {ind.server}) - {ind.advice}")
        for problem in self.problems:
            lines.append(f"{problem.file.client_name}: {problem.file.path} - not scanned: {problem.reason}")
        if not lines:
            known = len(self.scanned) + len(self.missing) + len(self.problems)
            lines.append(f"No client config on this computer holds {self.preview} "
                         f"({len(self.scanned)} of {known} known files exist).")
        return lines


# ---------------------------------------------------------------- which files


def known_config_files(
    *,
    platform: str | None = None,
    env: Mapping[str, str] | None = None,
    home: Path | None = None,
    extra: Iterable[ConfigFile] = (),
) -> list[ConfigFile]:
    """Every config file of every client in the registry that has one, plus ``extra``.

    Clients whose registry entry offers several files (``config_paths``) contribute
    each; others their one ``config_path``. Duplicates (two clients sharing a file)
    are listed once, under the first client.
    """
    files: list[ConfigFile] = []
    seen: set[Path] = set()
    for info in CLIENTS.values():
        for path in _paths_for(info, platform, env, home):
            if path not in seen:
                seen.add(path)
                files.append(ConfigFile(info.id, info.name, path, info.format))
    for item in extra:
        if item.path not in seen:
            seen.add(item.path)
            files.append(item)
    return files


def _paths_for(info: ClientInfo, platform: str | None, env: Mapping[str, str] | None,
               home: Path | None) -> list[Path]:
    from . import config_install

    several = getattr(config_install, "config_paths", None)  # a registry that knows more than one file
    try:
        if callable(several):
            return [Path(p) for p in several(info.id, platform=platform, env=env, home=home)]
        return [config_path(info.id, platform=platform, env=env, home=home)]
    except ConfigInstallError:  # a client with no file (copy-paste only)
        return []


def extra_file(path: str | os.PathLike[str], client_id: str | None = None) -> ConfigFile:
    """A file the user names (``--file``), attributed to ``client_id`` or guessed from its name."""
    target = Path(path).expanduser()
    info = CLIENTS.get(client_id or "")
    if info is None:
        fmt = {".toml": "toml", ".yaml": "yaml", ".yml": "yaml"}.get(target.suffix.lower(), "jsonc")
        return ConfigFile(client_id or "file", target.name, target, fmt)
    return ConfigFile(info.id, info.name, target, info.format)


# ---------------------------------------------------------------- scanning


class _Unreadable(Exception):
    pass


def read_config_bytes(path: Path) -> tuple[Path, bytes, Fingerprint] | None:
    """(real path, bytes, fingerprint) of a config file; None when absent; _Unreadable with a reason."""
    # The same rules as "Add to" (core.userfiles): a regular file only, opened without blocking,
    # never more than the limit, and never through another user's link in a shared folder.
    try:
        real = resolve_for_write(path)
        data = read_regular(real, MAX_CONFIG_BYTES)
        after = os.stat(real)
    except FileNotFoundError:
        return None
    except TooLarge as exc:
        raise _Unreadable(f"too big for a config file ({exc.size} bytes)") from None
    except NotRegularFile as exc:
        raise _Unreadable(f"not a regular file ({exc.kind})") from None
    except FileRefused as exc:
        raise _Unreadable(str(exc)) from None
    except OSError as exc:
        raise _Unreadable(exc.strerror or str(exc)) from None
    digest = hashlib.sha256(data).hexdigest()
    return real, data, Fingerprint(digest, len(data), after.st_mtime_ns)


def decode_config(data: bytes) -> str:
    """UTF-8 text of a config file (a BOM is allowed); _Unreadable when it is not text."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _Unreadable(f"not UTF-8 text (byte {exc.start})") from None


def keys_in_text(text: str, preview: str) -> list[str]:
    """The well-formed keys in ``text`` whose preview is ``preview`` (in order, repeats kept)."""
    return [m.group(0) for m in KEY_IN_TEXT.finditer(text)
            if redact(m.group(0)) == preview and is_valid_key(m.group(0))]


def scan(
    preview: str,
    *,
    server_url: str | None = None,
    files: Iterable[ConfigFile] | None = None,
    env: Mapping[str, str] | None = None,
    home: Path | None = None,
    platform: str | None = None,
) -> UsageReport:
    """Look through every known client config file for the key whose preview is ``preview``.

    ``server_url`` (the hub's MCP Server URL) lets the scan recognise entries for this
    hub that take the key from elsewhere; ``env`` is the environment both for config
    locations and for "does that variable hold the key" (default: this process's).
    """
    env = os.environ if env is None else env
    targets = list(files) if files is not None else known_config_files(platform=platform, env=env, home=home)
    report = UsageReport(preview)
    for item in targets:
        try:
            found = read_config_bytes(item.path)
            if found is None:
                report.missing.append(item)
                continue
            real, data, fingerprint = found
            text = decode_config(data)
        except _Unreadable as exc:
            report.problems.append(ScanProblem(item, str(exc)))
            continue
        report.scanned.append(item)
        doc = _parse(text, item)
        hits = keys_in_text(text, preview)
        host = urlsplit(server_url.strip()).netloc.lower() if server_url else ""
        walk = bool(host) and host in text.lower()  # no entry can point at this hub otherwise
        try:
            servers = _servers_holding(doc, item, set(hits)) if hits and doc is not None else ()
            indirect = _indirect(doc, text, item, server_url or "", preview, env) if walk else []
        except RecursionError:  # parsed, but nested too deeply to walk: the text search still counts
            servers, indirect = (), []
        if hits:
            report.literal.append(LiteralUse(item, real, len(hits), servers, fingerprint))
        report.indirect.extend(indirect)
    return report


# ---------------------------------------------------------------- structure


def _parse(text: str, item: ConfigFile) -> Any | None:
    """The parsed document, or None (then only the text is searched)."""
    fmt = item.format
    suffix = item.path.suffix.lower()
    try:
        if fmt == "toml" or suffix == ".toml":
            return tomllib.loads(text)
        if fmt == "yaml" or suffix in (".yaml", ".yml"):
            return _yaml(text)
        if not text.strip():
            return None
        try:  # most files are plain JSON: the C parser first, comments only when it refuses
            return json.loads(text)
        except ValueError:
            return jsonc.loads(text, comments=True)
    except (ValueError, jsonc.JsoncError, tomllib.TOMLDecodeError, RecursionError):  # deep nesting too
        return None


def _yaml(text: str) -> Any | None:
    """ruamel's C loader (libyaml, ~4x the pure-Python one: most of a scan's time, and of
    Rotate…'s re-wiring, docs/performance.md) for a document that cannot nest deeply; the pure
    loader otherwise. Why: the C loader builds the tree by recursing on the C stack, and a deep
    enough document crashes the process (measured) where the pure loader raises RecursionError,
    which is caught here like any other YAML error."""
    try:
        from ruamel.yaml import YAML
    except ImportError:
        return None
    try:
        return YAML(typ="safe", pure=_may_nest_deeper_than(text, C_YAML_MAX_DEPTH)).load(text)
    except Exception:  # any YAML error, RecursionError included: fall back to the text search
        return None


# Below what the C loader survives on a 512 KB thread stack (macOS's default for threads, the
# scan runs on a worker): 1,000 levels were fine there, 2,000 crashed (measured on Linux).
C_YAML_MAX_DEPTH = 500


def _may_nest_deeper_than(text: str, depth: int) -> bool:
    """False only when ``text`` certainly nests less than ``depth`` levels: each level opens a
    bracket or a brace, or takes at least one more column of its line (indentation, "- ")."""
    openers = text.count("[") + text.count("{")
    return openers + max(map(len, text.splitlines()), default=0) >= depth


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """(path, value) of every scalar; dict keys are part of the path."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _leaves(inner, (*path, key))
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            yield from _leaves(inner, (*path, i))
    else:
        yield path, value


def _entries(doc: Any, item: ConfigFile) -> Iterator[tuple[str, Any]]:
    """(server name, entry) pairs: the items of the client's server container when the registry
    names one and the file has it, else every object that looks like a server (has a URL or a
    command)."""
    info = CLIENTS.get(item.client_id)
    container = info.container_key if info else None
    holder = doc.get(container) if isinstance(doc, dict) and container else None
    if isinstance(holder, dict):
        for name, entry in holder.items():
            yield str(name), entry
        return
    if isinstance(holder, list):
        for i, entry in enumerate(holder):
            name = entry.get("name") if isinstance(entry, dict) else None
            yield str(name or f"#{i + 1}"), entry
        return
    yield from _server_like(doc, "")


def _server_like(value: Any, name: str) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        if any(k in value for k in (*_URL_KEYS, "command", "server_url")):
            yield str(value.get("name") or value.get("server_label") or name or "?"), value
            return
        for key, inner in value.items():
            yield from _server_like(inner, str(key))
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            yield from _server_like(inner, f"{name}#{i + 1}" if name else f"#{i + 1}")


def _servers_holding(doc: Any, item: ConfigFile, secrets: set[str]) -> tuple[str, ...]:
    names = []
    for name, entry in _entries(doc, item):
        if any(isinstance(v, str) and any(s in v for s in secrets) for _p, v in _leaves(entry)):
            names.append(name)
    return tuple(dict.fromkeys(names))


def _same_server(text: str, server_url: str) -> bool:
    """Whether ``text`` mentions the hub's Server URL (scheme/host case-insensitive, path exact)."""
    want = urlsplit(server_url.strip())
    host = (want.netloc or "").lower()
    if not host or host not in text.lower():
        return False
    for match in re.finditer(r"https?://[^\s\"'<>]+", text):
        got = urlsplit(match.group(0))
        if got.netloc.lower() == host and got.path.rstrip("/") == want.path.rstrip("/"):
            return True
    return False


def _indirect(doc: Any, text: str, item: ConfigFile, server_url: str, preview: str,
              env: Mapping[str, str]) -> list[IndirectUse]:
    """Entries for this hub whose key comes from a variable, a prompt or a placeholder."""
    out: list[IndirectUse] = []
    if doc is None:
        pieces = [("?", text)] if _same_server(text, server_url) else []
        named: list[tuple[str, list[tuple[tuple[Any, ...], Any]]]] = [
            (name, [((), piece)]) for name, piece in pieces
        ]
    else:
        named = []
        for name, entry in _entries(doc, item):
            leaves = list(_leaves(entry))
            if any(isinstance(v, str) and _same_server(v, server_url) for _p, v in leaves):
                named.append((name, leaves))
    for name, leaves in named:
        strings = [v for _p, v in leaves if isinstance(v, str)]
        if any(keys_in_text(s, preview) for s in strings):
            continue  # the key itself is there: a literal use, reported as such
        seen: set[tuple[str, str]] = set()
        for path, value in leaves:
            if not isinstance(value, str):
                continue
            refs: list[tuple[str, str]] = []
            if path and (path[-1] in _ENV_NAME_KEYS or (len(path) >= 2 and path[-2] in _ENV_NAME_MAPS)):
                refs.append(("env", value))
            refs += [("input", m) for m in _INPUT_PATTERN.findall(value)]
            if "bearer" in value.lower() or "authorization" in value.lower() or _auth_path(path):
                for pattern in _ENV_PATTERNS:
                    refs += [("env", m) for m in pattern.findall(value)]
                if KEY_PLACEHOLDER in value:
                    refs.append(("placeholder", KEY_PLACEHOLDER))
            for kind, ref in refs:
                if (kind, ref) not in seen and not _defined_in_entry(leaves, ref, kind):
                    seen.add((kind, ref))
                    out.append(_advice(item, name, kind, ref, preview, env))
    return out


def _auth_path(path: tuple[Any, ...]) -> bool:
    return any(isinstance(p, str) and p.lower() in ("authorization", "auth_header", "headers", "http_headers",
                                                     "env_http_headers", "bearer_token", "token", "apikey",
                                                     "api_key") for p in path)


def _defined_in_entry(leaves: list[tuple[tuple[Any, ...], Any]], ref: str, kind: str) -> bool:
    """``${AUTH_HEADER}`` set in the entry's own ``env`` block (Claude Desktop's mcp-remote bridge)
    is not the user's environment: the value there is what counts (a literal or a placeholder)."""
    return kind == "env" and any(len(p) >= 2 and p[-2] == "env" and p[-1] == ref for p, _v in leaves)


def _advice(item: ConfigFile, server: str, kind: str, ref: str, preview: str,
            env: Mapping[str, str]) -> IndirectUse:
    client = item.client_name
    if kind == "env":
        current = env.get(ref)
        holds = bool(current) and any(redact(k) == preview for k in KEY_IN_TEXT.findall(current or ""))
        if current is None:
            state = "it is not set in this app's environment, so this app cannot tell which key it holds"
        elif holds:
            state = f"here it holds {preview}"
        else:
            state = "here it holds a different value"
        advice = (f"reads the key from the environment variable {ref} ({state}). Set {ref} to the new key "
                  f"where {client} starts (your shell profile or launch settings), then restart {client}.")
        return IndirectUse(item, server, kind, ref, holds if current is not None else None, advice)
    if kind == "input":
        advice = (f"{client} asked for the key once (input '{ref}') and keeps it in its own secret storage. "
                  f"Clear that stored value in {client} and paste the new key when it asks again.")
        return IndirectUse(item, server, kind, ref, None, advice)
    advice = (f"has the placeholder {ref} instead of a key: replace it with the new key "
              f"(or use Set up a client), then restart {client}.")
    return IndirectUse(item, server, kind, ref, None, advice)
