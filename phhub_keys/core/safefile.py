"""Writing files that may hold secrets: owner-only permissions, atomically, no leftovers.

A write goes to a temporary file next to the target, then is renamed over it,
so a crash leaves either the old or the new file. A crash (or kill -9) between
the two would leave that temporary file behind, holding the secret, in a folder
the user chose and may share. So every temporary name is first recorded in a
private journal (``<user state dir>/phhub-keys/pending-writes``, 0700), held
under an exclusive lock while the write is in flight; ``sweep_leftovers()``,
run at every start of ``phhub-keys`` and before every write, removes the
temporary file of each entry whose writer is gone (its lock is free).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import stat
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

TMP_MARK = ".phhub-tmp-"
_ENTRY_SUFFIX = ".pending"


def journal_dir() -> Path:
    """The private folder of in-flight writes (created 0700 when first needed)."""
    from .paths import state_dir

    return state_dir() / "pending-writes"


def _private_journal() -> Path | None:
    """The journal folder if it is ours and private; None when it cannot be used."""
    folder = journal_dir()
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = folder.lstat()
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode):
        return None
    if hasattr(os, "getuid") and (info.st_uid != os.getuid() or info.st_mode & 0o077):
        return None
    return folder


def _lock(fd: int, blocking: bool) -> bool:
    """An exclusive lock on ``fd``; False when another process holds it (non-blocking)."""
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_LOCK if blocking else msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
    except OSError:
        return False
    return True


@contextlib.contextmanager
def _journaled(tmp: Path) -> Iterator[None]:
    """Record ``tmp`` in the journal (locked) for the duration of the write."""
    folder = _private_journal()
    entry = fd = None
    if folder is not None:
        entry = folder / f"{os.getpid()}-{secrets.token_hex(8)}{_ENTRY_SUFFIX}"
        with contextlib.suppress(OSError):
            fd = os.open(entry, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    if entry is None or fd is None:  # no private journal: the write still happens, without the safety net
        yield
        return
    try:
        _lock(fd, blocking=True)
        os.write(fd, json.dumps({"tmp": str(tmp)}).encode("utf-8"))
        os.fsync(fd)
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(entry)
        os.close(fd)


def _remove_leftover(tmp: Path) -> None:
    """Remove ``tmp`` if it is still one of our temporary files (a regular file we own)."""
    if TMP_MARK not in tmp.name:
        return
    try:
        info = tmp.lstat()
    except OSError:
        return
    if not stat.S_ISREG(info.st_mode) or (hasattr(os, "getuid") and info.st_uid != os.getuid()):
        return
    with contextlib.suppress(OSError):
        tmp.unlink()


def sweep_leftovers() -> int:
    """Delete temporary files left by writers that died mid-write; returns how many entries were settled."""
    folder = journal_dir()
    try:
        names = [n for n in os.listdir(folder) if n.endswith(_ENTRY_SUFFIX)]
    except OSError:
        return 0
    if _private_journal() is None:
        return 0
    settled = 0
    for name in names:
        entry = folder / name
        try:
            fd = os.open(entry, os.O_RDWR)
        except OSError:
            continue
        try:
            if not _lock(fd, blocking=False):
                continue  # its writer is still at work
            raw = os.read(fd, 64 * 1024)
            if not raw:
                # Created but never filled: the writer died before making any temporary file,
                # or is between creating and locking it right now; leave recent ones alone.
                with contextlib.suppress(OSError):
                    if os.fstat(fd).st_mtime > _now() - 60:
                        continue
            else:
                with contextlib.suppress(ValueError, TypeError, AttributeError):
                    _remove_leftover(Path(json.loads(raw.decode("utf-8"))["tmp"]))
            with contextlib.suppress(OSError):
                os.unlink(entry)
            settled += 1
        finally:
            os.close(fd)
    return settled


def _now() -> float:
    import time

    return time.time()


def write_private_text(path: str | os.PathLike[str], text: str | Iterable[str]) -> Path:
    """Write ``text`` to ``path`` readable by the owner only (0600), replacing it atomically.

    The temporary file is created 0600 from the start, so the content is never
    readable by others, not even for a moment; it is journaled, so a crash cannot
    leave it behind for good (see the module docstring). ``text`` may be an iterable of
    pieces, written as they come: a big file never has to exist as one string in memory.
    """
    target = Path(path)
    with contextlib.suppress(OSError):
        sweep_leftovers()
    tmp = target.parent / f".{target.name}{TMP_MARK}{secrets.token_hex(6)}"
    with _journaled(tmp):
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
                if isinstance(text, str):
                    fh.write(text)
                else:
                    fh.writelines(text)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    return target
