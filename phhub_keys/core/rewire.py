"""Re-wire client config files from an old MCP key to a new one (after a rotate).

The rules, because these files are the user's and often hold other servers' secrets:
- only files the usage map found (``usage_map.LiteralUse``) and the caller chose are
  touched, and only the old key's exact text changes: every occurrence of a
  well-formed key whose preview is the old key's becomes the new key. Keys are
  plain base62 of the same length, so JSON, JSONC, TOML and YAML stay valid and
  every comment, order and byte of formatting stays as it was;
- a file whose bytes differ from what the scan saw (the user or the client edited it
  meanwhile), that cannot be read, is read-only, or is in a folder we cannot write, is
  skipped with the reason; nothing is lost and the caller can scan again;
- before the change the file is copied to ``<name>.phhub-backup-<timestamp>`` (0600,
  never overwriting an earlier backup: ``config_install``'s backup rule), then the new
  text is written to a temporary file and renamed over the old one, so an interrupted
  re-wire leaves each file either old or new, never half;
- the file keeps its owner-only bits (it holds a key), like "Add to <client>".

No Qt, no network: the CLI (``keys rotate --update-clients``) and the window use it alike.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .config_install import ConfigInstallError
from .config_install import _backup as backup_config  # one backup rule for every write to a client file
from .keyformat import KEY_IN_TEXT, key_problem, redact
from .safefile import write_private_text
from .usage_map import LiteralUse, _Unreadable, decode_config, read_config_bytes

REPLACED = "replaced"
SKIPPED = "skipped"


class RewireError(ValueError):
    """The request itself is wrong (not a key, same key); nothing was touched."""


@dataclass(frozen=True, slots=True)
class RewireResult:
    """What happened to one file."""

    use: LiteralUse
    status: str  # REPLACED | SKIPPED
    reason: str = ""
    backup: Path | None = None
    replaced: int = 0

    @property
    def ok(self) -> bool:
        return self.status == REPLACED

    def to_json(self) -> dict[str, Any]:
        return {**self.use.file.to_json(), "status": self.status, "reason": self.reason,
                "backup": str(self.backup) if self.backup else None, "replaced": self.replaced}

    def line(self) -> str:
        where = f"{self.use.file.client_name}: {self.use.file.path}"
        if self.ok:
            return f"{where} - updated ({self.replaced}x), backup {self.backup}"
        return f"{where} - skipped: {self.reason}"


def replace_key(
    uses: Iterable[LiteralUse],
    old_preview: str,
    new_secret: str,
    *,
    now: datetime | None = None,
) -> list[RewireResult]:
    """Replace the key whose preview is ``old_preview`` with ``new_secret`` in each file of ``uses``.

    Each file is handled on its own (one skipped file never stops the others); the
    results come back in the same order. Raises RewireError before touching anything
    when ``new_secret`` is not a valid key or is the old key itself.
    """
    problem = key_problem(new_secret)
    if problem is not None:
        raise RewireError(f"The new key is not usable: {problem}")
    if redact(new_secret) == old_preview:
        raise RewireError("The new key is the key being replaced.")
    stamp = now or datetime.now(UTC)
    return [_one(use, old_preview, new_secret, stamp) for use in uses]


def _one(use: LiteralUse, old_preview: str, new_secret: str, now: datetime) -> RewireResult:
    try:
        found = read_config_bytes(use.file.path)
        if found is None:
            return RewireResult(use, SKIPPED, "the file is gone since the scan")
        real, data, fingerprint = found
        if real != use.real_path or fingerprint.sha256 != use.fingerprint.sha256:
            return RewireResult(use, SKIPPED, "the file changed since it was scanned; scan again")
        text = decode_config(data)
    except _Unreadable as exc:
        return RewireResult(use, SKIPPED, f"cannot read it ({exc})")
    why_not = _not_writable(real)
    if why_not:
        return RewireResult(use, SKIPPED, why_not)

    count = 0

    def swap(match: Any) -> str:
        nonlocal count
        old = match.group(0)
        if redact(old) == old_preview and key_problem(old) is None:
            count += 1
            return new_secret
        return old

    new_text = KEY_IN_TEXT.sub(swap, text)
    if count == 0:
        return RewireResult(use, SKIPPED, "the old key is no longer in the file")
    bom = data.startswith(b"\xef\xbb\xbf")
    mode = stat.S_IMODE(os.stat(real).st_mode) & 0o700  # it holds a key: owner-only, as "Add to" does
    try:
        backup = backup_config(real, now)
    except (OSError, ConfigInstallError) as exc:
        return RewireResult(use, SKIPPED, f"no backup could be made ({_why(exc)}); the file was not changed")
    try:
        write_private_text(real, ("\ufeff" if bom else "") + new_text)
        os.chmod(real, mode)
    except OSError as exc:
        with contextlib.suppress(OSError):  # the file is unchanged: the backup would only confuse
            os.unlink(backup)
        return RewireResult(use, SKIPPED, f"cannot write it ({_why(exc)}); the file was not changed")
    return RewireResult(use, REPLACED, backup=backup, replaced=count)


def _not_writable(path: Path) -> str:
    """Why we will not write ``path`` ('' when we may): a read-only file stays read-only, even for root."""
    info = os.stat(path)
    if not info.st_mode & stat.S_IWUSR:
        return f"the file is read-only (mode {stat.S_IMODE(info.st_mode):04o}); make it writable to update it"
    if not os.access(path, os.W_OK):
        return "you do not have permission to write the file"
    if not os.access(path.parent, os.W_OK | os.X_OK):
        return (f"the folder {path.parent} is not writable "
                "(the update needs a backup and a temporary file there)")
    return ""


def _why(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc)
