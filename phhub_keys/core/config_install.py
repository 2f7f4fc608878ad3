"""Merge our server entry into an AI client's config file, safely ("Add to <client>").

Rules, because the file is the user's and may hold other servers' secrets:
- a file that does not parse is refused with the reason and left untouched;
- every other entry, comment and the file's formatting stay as they were (JSON is
  spliced as text, see core.jsonc; TOML goes through tomlkit, which keeps layout);
- an entry of the same name is reported (``EntryExists``) and replaced only when the
  caller says so; an identical entry is left alone;
- before any change the old file is copied to ``<name>.phhub-backup-<timestamp>``
  (never overwriting an earlier backup), then the new text is written atomically
  (temp file + rename) so a crash leaves either the old or the new file;
- backups and files that now hold a key are owner-only (0600);
- only a regular file is read, backed up or replaced (never a device, pipe or socket),
  and at most MAX_CONFIG_BYTES of it; a symlink another user planted in a shared
  folder is not followed (core.userfiles);
- a file nested too deeply to merge, or a folder we cannot write to, is a clear
  error and the file stays as it was.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import tomlkit
import tomlkit.exceptions

from . import jsonc
from .client_setup import Snippet
from .safefile import write_private_text
from .userfiles import FileRefused, TooLarge, read_regular, resolve_for_write

MAX_CONFIG_BYTES = 4 * 1024 * 1024  # a client config is a few KB; a bigger file is not a client config


class ConfigInstallError(Exception):
    """The entry could not be added; the message says why and what to do."""


class ConfigParseError(ConfigInstallError):
    """The existing file does not parse; it was not touched."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(
            f"{path} is not valid {'TOML' if path.suffix == '.toml' else 'JSON'} ({reason}). "
            "It was left untouched: fix it (or move it away) and try again."
        )
        self.path = path
        self.reason = reason


class EntryExists(ConfigInstallError):
    """A different entry of the same name exists; ask the user, then call again with replace=True."""

    def __init__(self, path: Path, name: str) -> None:
        super().__init__(f"{path} already has a server named {name!r}.")
        self.path = path
        self.name = name


@dataclass(frozen=True)
class InstallResult:
    path: Path
    action: str  # "created" | "added" | "replaced" | "unchanged"
    backup: Path | None = None


# ---------------------------------------------------------------- paths


def config_path(
    client_id: str,
    *,
    platform: str | None = None,
    env: Mapping[str, str] | None = None,
    home: Path | None = None,
) -> Path:
    """Where ``client_id`` keeps its user-level MCP config on this OS."""
    platform = sys.platform if platform is None else platform
    env = os.environ if env is None else env
    home = Path.home() if home is None else home
    windows = platform.startswith("win")
    mac = platform == "darwin"

    def appdata() -> Path:
        return Path(env["APPDATA"]) if env.get("APPDATA") else home / "AppData" / "Roaming"

    def xdg_config() -> Path:
        return Path(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else home / ".config"

    if client_id == "cursor":
        return home / ".cursor" / "mcp.json"
    if client_id == "windsurf":
        return home / ".codeium" / "windsurf" / "mcp_config.json"
    if client_id == "codex":
        return (Path(env["CODEX_HOME"]) if env.get("CODEX_HOME") else home / ".codex") / "config.toml"
    if client_id == "claude-desktop":
        if mac:
            base = home / "Library" / "Application Support" / "Claude"
        elif windows:
            base = appdata() / "Claude"
        else:
            base = xdg_config() / "Claude"
        return base / "claude_desktop_config.json"
    if client_id == "vscode":
        if mac:
            base = home / "Library" / "Application Support" / "Code"
        elif windows:
            base = appdata() / "Code"
        else:
            base = xdg_config() / "Code"
        return base / "User" / "mcp.json"
    raise ConfigInstallError(f"{client_id!r} has no config file to add to; copy its snippet instead.")


# ---------------------------------------------------------------- reading


@dataclass(frozen=True)
class _Existing:
    """The config file as read once: its text (None when absent), BOM, mode and exact bytes."""

    text: str | None
    bom: bool = False
    mode: int | None = None
    data: bytes = b""


def _read_config(path: Path) -> _Existing:
    try:
        data = read_regular(path, MAX_CONFIG_BYTES)
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return _Existing(None)
    except TooLarge as exc:
        raise ConfigInstallError(
            f"{path} is too large for a client config ({exc.size:,} bytes; at most {MAX_CONFIG_BYTES:,}). "
            "It was left untouched: is it the right file?"
        ) from None
    except FileRefused as exc:
        raise ConfigInstallError(str(exc)) from None
    except OSError as exc:
        raise ConfigInstallError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    bom = data.startswith(b"\xef\xbb\xbf")
    try:
        text = data[3 if bom else 0 :].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigParseError(path, f"not UTF-8 text at byte {exc.start}") from None
    return _Existing(text, bom, mode, data)


# ---------------------------------------------------------------- merging


def _merge_json(text: str | None, snippet: Snippet, path: Path, replace: bool) -> tuple[str, str]:
    """(new text, action) for a JSON/JSONC client file."""
    comments = snippet.client.format == "jsonc"
    container = snippet.client.container_key
    assert container is not None and snippet.entry is not None
    name = snippet.server_name
    if text is None or not text.strip():
        doc: dict[str, Any] = {}
        if snippet.inputs:
            doc["inputs"] = list(snippet.inputs)
        doc[container] = {name: snippet.entry}
        return jsonc.dump_value(doc, "", "  ", "\n") + "\n", "created"
    try:
        root = jsonc.parse(text, comments=comments)
    except jsonc.JsoncError as exc:
        raise ConfigParseError(path, str(exc)) from None
    if root.kind != "object":
        raise ConfigParseError(path, "the top level is not a JSON object")
    unit, eol = jsonc.detect_style(text)
    servers = root.get(container)
    action = "added"
    if servers is not None and servers.value.kind != "object":
        raise ConfigParseError(path, f"{container!r} is not an object")
    if servers is None:
        new = jsonc.set_property(text, root, container, {name: snippet.entry}, unit, eol)
    else:
        existing = servers.value.get(name)
        if existing is not None:
            if existing.value.to_python() == snippet.entry and _inputs_present(root, snippet):
                return text, "unchanged"
            if not replace:
                raise EntryExists(path, name)
            action = "replaced"
        new = jsonc.set_property(text, servers.value, name, snippet.entry, unit, eol)
    for item in snippet.inputs:
        new = _upsert_input(new, item, comments, unit, eol, path)
    _verify_json(new, text, snippet, comments, path)
    return new, action


def _inputs_present(root: jsonc.Node, snippet: Snippet) -> bool:
    if not snippet.inputs:
        return True
    inputs = root.get("inputs")
    if inputs is None or inputs.value.kind != "array":
        return False
    have = [i.to_python() for i in inputs.value.items]
    return all(item in have for item in snippet.inputs)


def _upsert_input(text: str, item: dict[str, Any], comments: bool, unit: str, eol: str, path: Path) -> str:
    root = jsonc.parse(text, comments=comments)
    inputs = root.get("inputs")
    if inputs is None:
        return jsonc.set_property(text, root, "inputs", [item], unit, eol)
    if inputs.value.kind != "array":
        raise ConfigParseError(path, "'inputs' is not an array")
    for node in inputs.value.items:
        value = node.to_python()
        if isinstance(value, dict) and value.get("id") == item["id"]:
            return text if value == item else jsonc.replace_node(text, node, item, unit, eol)
    return jsonc.append_item(text, inputs.value, item, unit, eol)


def _verify_json(new: str, old: str, snippet: Snippet, comments: bool, path: Path) -> None:
    """Re-read what we are about to write: our entry is there and nothing else changed."""
    container = snippet.client.container_key
    try:
        after = jsonc.loads(new, comments=comments)
    except jsonc.JsoncError as exc:  # a bug in the splicer; never write a broken file
        raise ConfigInstallError(f"Internal error merging into {path}: {exc}. Nothing was written.") from None
    before = jsonc.loads(old, comments=comments)
    ok = after.get(container, {}).get(snippet.server_name) == snippet.entry
    for key, value in before.items():
        if key == container:
            others_before = {k: v for k, v in value.items() if k != snippet.server_name}
            others_after = {k: v for k, v in after[container].items() if k != snippet.server_name}
            ok = ok and others_before == others_after
        elif key != "inputs":
            ok = ok and after.get(key) == value
    if not ok:
        raise ConfigInstallError(f"Internal error merging into {path}: the result did not check out.")


def _merge_toml(text: str | None, snippet: Snippet, path: Path, replace: bool) -> tuple[str, str]:
    container = snippet.client.container_key
    assert container is not None and snippet.entry is not None
    name = snippet.server_name
    source = text or ""
    try:
        before = tomllib.loads(source)
        tomlkit.parse(source)  # tomlkit must be able to edit it, not just tomllib read it
    except (tomllib.TOMLDecodeError, tomlkit.exceptions.TOMLKitError) as exc:
        raise ConfigParseError(path, str(exc)) from None
    servers = before.get(container)
    if servers is not None and not isinstance(servers, dict):
        raise ConfigParseError(path, f"{container!r} is not a table")
    action = "created" if not source.strip() else "added"
    if servers is not None and name in servers:
        if servers[name] == snippet.entry:
            return source, "unchanged"
        if not replace:
            raise EntryExists(path, name)
        action = "replaced"
    for style in ("table", "inline"):
        new = _toml_with_entry(source, container, name, snippet.entry, style)
        if new is not None and _toml_checks_out(new, before, container, name, snippet.entry):
            return new, action
    raise ConfigInstallError(f"Could not merge into {path} without changing other settings; nothing written.")


def _toml_with_entry(source: str, container: str, name: str, entry: dict[str, Any], style: str) -> str | None:
    """``source`` with ``[container.name]`` set to ``entry``: as a table section (the usual
    layout), or as an inline table (for files that spell the container with dotted keys or
    inline tables, where a new section would capture the keys that follow it)."""
    doc = tomlkit.parse(source)
    if style == "table":
        value: Any = tomlkit.table()
        for key, item in entry.items():
            if isinstance(item, dict):
                inline = tomlkit.inline_table()
                inline.update(item)
                value.add(key, inline)
            else:
                value.add(key, item)
        value.add(tomlkit.nl())
    else:
        value = tomlkit.inline_table()
        value.update(entry)
    try:
        if container not in doc:
            doc.add(container, tomlkit.table(is_super_table=True))
        holder = doc[container]
        if name in holder:
            del holder[name]
        holder[name] = value
        new = tomlkit.dumps(doc)
    except (tomlkit.exceptions.TOMLKitError, TypeError, ValueError, KeyError):
        return None
    if new.endswith("\n\n") and not source.endswith("\n\n"):
        new = new.rstrip("\n") + "\n"
    return new


def _toml_checks_out(
    new: str, before: dict[str, Any], container: str, name: str, entry: dict[str, Any]
) -> bool:
    """Our entry is there and every other setting is exactly as it was."""
    try:
        after = tomllib.loads(new)
    except tomllib.TOMLDecodeError:
        return False
    servers = after.get(container)
    if not isinstance(servers, dict) or servers.get(name) != entry:
        return False
    others_before = {k: v for k, v in before.items() if k != container}
    others_after = {k: v for k, v in after.items() if k != container}
    old_servers = {k: v for k, v in before.get(container, {}).items() if k != name}
    new_servers = {k: v for k, v in servers.items() if k != name}
    return others_before == others_after and old_servers == new_servers


def merged_text(path: Path, snippet: Snippet, *, replace: bool = False) -> tuple[str | None, str, str]:
    """(old text or None, new text, action) without writing anything."""
    old = _read_config(path).text
    new, action = _merge(old, snippet, path, replace)
    return old, new, action


def _merge(old: str | None, snippet: Snippet, path: Path, replace: bool) -> tuple[str, str]:
    if not snippet.client.file_based or snippet.entry is None:
        raise ConfigInstallError(f"{snippet.client.name} has no config file to add to; copy its snippet.")
    merge = _merge_toml if snippet.client.format == "toml" else _merge_json
    try:
        return merge(old, snippet, path, replace)
    except RecursionError:  # a parser or checker went as deep as the file (tomllib, tomlkit, json)
        raise ConfigParseError(path, "it is nested too deeply to be a client config") from None


def has_entry(path: Path, snippet: Snippet) -> bool:
    """Whether ``path`` already has a server of ``snippet``'s name (False if absent/unparseable)."""
    try:
        merged_text(path, snippet, replace=False)
    except EntryExists:
        return True
    except ConfigInstallError:
        return False
    return False


# ---------------------------------------------------------------- writing


def _backup(path: Path, now: datetime, data: bytes | None = None) -> Path:
    """Copy ``path`` (its bytes as already read, when given) to a new owner-only backup next to it."""
    stamp = now.strftime("%Y%m%d-%H%M%S")
    if data is None:
        try:
            data = read_regular(path, MAX_CONFIG_BYTES)
        except FileRefused as exc:
            raise ConfigInstallError(str(exc)) from None
    for n in range(1000):
        candidate = path.with_name(f"{path.name}.phhub-backup-{stamp}{'' if n == 0 else f'-{n}'}")
        try:
            fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(candidate)
            raise
        return candidate
    raise ConfigInstallError(f"Could not find a free backup name next to {path}.")


def install(
    snippet: Snippet,
    path: Path | None = None,
    *,
    replace: bool = False,
    now: datetime | None = None,
) -> InstallResult:
    """Add ``snippet``'s server to its client's config file (see the module docstring)."""
    target = Path(path) if path is not None else config_path(snippet.client.id)
    # Follow a symlinked config (dotfile managers) so we update the real file, not the link;
    # but never a link another user planted in a shared folder.
    try:
        target = resolve_for_write(target)
    except FileRefused as exc:
        raise ConfigInstallError(str(exc)) from None
    existing = _read_config(target)  # read once: the merge, the backup and the mode all use this
    new, action = _merge(existing.text, snippet, target, replace)
    if action == "unchanged":
        return InstallResult(target, action)
    bom, mode = existing.bom, existing.mode
    backup = None
    if existing.text is not None:
        try:
            backup = _backup(target, now or datetime.now(UTC), existing.data)
        except OSError as exc:
            raise ConfigInstallError(
                f"Cannot make a backup next to {target} ({exc.strerror or exc}), so it was left "
                "untouched: make its folder writable, or choose another file."
            ) from None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigInstallError(f"Cannot create {target.parent}: {exc.strerror or exc}.") from None
    if mode is None:
        mode = 0o600
    if snippet.embeds_secret:
        mode &= 0o700
    try:
        write_private_text(target, ("\ufeff" if bom else "") + new)
        os.chmod(target, mode)
    except OSError as exc:
        if backup is not None:  # the file is unchanged: a backup of it would only confuse
            with contextlib.suppress(OSError):
                os.unlink(backup)
        raise ConfigInstallError(f"Cannot write {target}: {exc.strerror or exc}.") from None
    return InstallResult(target, action, backup)
