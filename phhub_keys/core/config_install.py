"""Merge our server entry into an AI client's config file, safely ("Add to <client>").

Rules, because the file is the user's and may hold other servers' secrets:
- a file that does not parse is refused with the reason and left untouched;
- every other entry, comment and the file's formatting stay as they were (JSON is
  spliced as text, see core.jsonc; TOML goes through tomlkit and YAML through ruamel.yaml's
  round-trip mode, which keep comments, order and layout);
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
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import tomlkit
import tomlkit.exceptions

from . import jsonc
from .client_setup import (
    PROJECT,
    USER,
    SetupError,
    Snippet,
    get_client,
    project_config_path,
    user_config_path,
    user_config_paths,
)
from .safefile import write_private_text
from .userfiles import FileRefused, TooLarge, read_regular, resolve_for_write

MAX_CONFIG_BYTES = 4 * 1024 * 1024  # a client config is a few KB; a bigger file is not a client config


class ConfigInstallError(Exception):
    """The entry could not be added; the message says why and what to do."""


class ConfigParseError(ConfigInstallError):
    """The existing file does not parse; it was not touched."""

    def __init__(self, path: Path, reason: str) -> None:
        kind = {".toml": "TOML", ".yaml": "YAML", ".yml": "YAML"}.get(path.suffix, "JSON")
        super().__init__(
            f"{path} is not valid {kind} ({reason}). "
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
    scope: str = USER,
    project_dir: Path | None = None,
    name: str | None = None,
) -> Path:
    """Where ``client_id`` keeps its MCP config: the user-level file on this OS, or with
    ``scope="project"`` the file inside ``project_dir``."""
    try:
        info = get_client(client_id)
        if scope == PROJECT:
            if project_dir is None:
                raise ConfigInstallError(
                    f"Choose the project folder for {info.name}'s project configuration."
                )
            return project_config_path(client_id, Path(project_dir), *((name,) if name else ()))
        path = user_config_path(client_id, platform=platform, env=env, home=home) if info.file_based else None
    except SetupError as exc:
        raise ConfigInstallError(str(exc)) from None
    if path is None:
        raise ConfigInstallError(f"{client_id!r} has no config file to add to; copy its snippet instead.")
    return path


def config_paths(
    client_id: str,
    *,
    platform: str | None = None,
    env: Mapping[str, str] | None = None,
    home: Path | None = None,
) -> list[Path]:
    """Every user-level file ``client_id`` keeps MCP servers in (for finding keys; "Add to"
    writes only ``config_path``). Empty for clients that have none (JetBrains, OpenAI)."""
    return user_config_paths(client_id, platform=platform, env=env, home=home)


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
    comments = snippet.format == "jsonc"
    container = snippet.container
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
    container = snippet.container
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
    container = snippet.container
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


# ---------------------------------------------------------------- YAML (ruamel.yaml round trip)


def _yaml_style(text: str) -> tuple[int, int, int]:
    """(mapping indent, sequence indent, dash offset) the file already uses, so the lines we
    add look like the user's: goose writes ``key:\n- item`` (2, 2, 0), Continue's docs
    ``key:\n  - item`` (2, 4, 2)."""
    mapping, offset = 2, None
    previous: tuple[int, str] | None = None
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(line) - len(line.lstrip(" "))
        if previous is not None and previous[1].endswith(":"):
            step = indent - previous[0]
            if stripped.startswith("- ") and offset is None and step >= 0:
                offset = step
            elif not stripped.startswith("- ") and step > 0 and mapping == 2:
                mapping = step
        previous = (indent, stripped)
    offset = offset or 0
    return mapping, offset + 2, offset


def _yaml_rt(text: str) -> Any:
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096
    mapping, sequence, offset = _yaml_style(text)
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    return yaml


def _yaml_plain(text: str) -> Any:
    """The plain Python value of YAML ``text`` (safe loader: no tags, no objects)."""
    from ruamel.yaml import YAML

    return YAML(typ="safe", pure=True).load(text)


def _merge_yaml(text: str | None, snippet: Snippet, path: Path, replace: bool) -> tuple[str, str]:
    """(new text, action) for a YAML file: a map of servers (goose's ``extensions``) or a
    list of servers with a ``name`` each (Continue's ``mcpServers``)."""
    import io

    from ruamel.yaml.error import YAMLError

    container = snippet.container
    assert container is not None and snippet.entry is not None
    name = snippet.server_name
    listed = snippet.container_kind == "list"
    source = text or ""
    yaml = _yaml_rt(source)
    try:
        before = _yaml_plain(source) if source.strip() else None
        doc = yaml.load(source) if source.strip() else None
    except YAMLError as exc:
        raise ConfigParseError(path, " ".join(str(exc).split())) from None
    action = "added"
    keep_comments = ""
    if doc is None:
        from ruamel.yaml.comments import CommentedMap

        if source.strip():  # only comments: keep them, add our lines below
            keep_comments = source.rstrip("\n") + "\n"
        else:
            action = "created"
        doc = CommentedMap()
        for key, value in snippet.new_file.items():
            doc[key] = value
        before = dict(snippet.new_file)
    if not isinstance(doc, dict) or not isinstance(before, dict):
        raise ConfigParseError(path, "the top level is not a mapping")
    holder = doc.get(container)
    if holder is None:
        doc[container] = [dict(snippet.entry)] if listed else {name: dict(snippet.entry)}
    else:
        if listed and not isinstance(holder, list):
            raise ConfigParseError(path, f"{container!r} is not a list")
        if not listed and not isinstance(holder, dict):
            raise ConfigParseError(path, f"{container!r} is not a mapping")
        current = _yaml_find(before.get(container), name, listed)
        if current is not None:
            if current == snippet.entry:
                return source, "unchanged"
            if not replace:
                raise EntryExists(path, name)
            action = "replaced"
        if listed:
            named = [i for i, it in enumerate(holder) if isinstance(it, dict) and it.get("name") == name]
            index = named[0] if named else None
            if index is None:
                holder.append(dict(snippet.entry))
            else:
                holder[index] = dict(snippet.entry)
        else:
            holder[name] = dict(snippet.entry)
    out = io.StringIO()
    yaml.dump(doc, out)
    new = keep_comments + out.getvalue()
    if "\r\n" in source:  # ruamel writes '\n': keep a Windows file's line endings
        new = new.replace("\r\n", "\n").replace("\n", "\r\n")
    if not _yaml_checks_out(new, before, container, snippet):
        raise ConfigInstallError(
            f"Could not merge into {path} without changing other settings; nothing written."
        )
    return new, action


def _yaml_find(holder: Any, name: str, listed: bool) -> Any:
    if listed and isinstance(holder, list):
        return next((item for item in holder if isinstance(item, dict) and item.get("name") == name), None)
    if not listed and isinstance(holder, dict):
        return holder.get(name)
    return None


def _yaml_checks_out(new: str, before: dict[str, Any], container: str, snippet: Snippet) -> bool:
    """Our entry is there and every other setting is exactly as it was."""
    try:
        after = _yaml_plain(new)
    except Exception:  # a bug in the merge: never write a file that does not read back
        return False
    listed = snippet.container_kind == "list"
    name = snippet.server_name
    if not isinstance(after, dict) or _yaml_find(after.get(container), name, listed) != snippet.entry:
        return False

    def others(holder: Any) -> Any:
        if listed:
            return [i for i in holder or [] if not (isinstance(i, dict) and i.get("name") == name)]
        return {k: v for k, v in (holder or {}).items() if k != name}

    rest_before = {k: v for k, v in before.items() if k != container}
    rest_after = {k: v for k, v in after.items() if k != container}
    return rest_before == rest_after and others(before.get(container)) == others(after.get(container))


def read_config(path: Path, fmt: str) -> Any:
    """The plain value of a client's config file (for tools that look for our server in it);
    ConfigParseError when it does not parse, None when it does not exist."""
    text = _read_config(path).text
    if text is None:
        return None
    try:
        if fmt == "toml":
            return tomllib.loads(text)
        if fmt == "yaml":
            return _yaml_plain(text) if text.strip() else None
        return jsonc.loads(text, comments=fmt == "jsonc") if text.strip() else None
    except Exception as exc:
        raise ConfigParseError(path, " ".join(str(exc).split())) from None


def merged_text(path: Path, snippet: Snippet, *, replace: bool = False) -> tuple[str | None, str, str]:
    """(old text or None, new text, action) without writing anything."""
    old = _read_config(path).text
    new, action = _merge(old, snippet, path, replace)
    return old, new, action


def _merge(old: str | None, snippet: Snippet, path: Path, replace: bool) -> tuple[str, str]:
    if not snippet.file_based or snippet.entry is None:
        raise ConfigInstallError(f"{snippet.client.name} has no config file to add to; copy its snippet.")
    merge = {"toml": _merge_toml, "yaml": _merge_yaml}.get(snippet.format, _merge_json)
    try:
        return merge(old, snippet, path, replace)
    except RecursionError:  # a parser or checker went as deep as the file (tomllib, tomlkit, json, yaml)
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
    if path is None and snippet.scope == PROJECT:
        raise ConfigInstallError("A project configuration needs the project's file: pass its path.")
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
