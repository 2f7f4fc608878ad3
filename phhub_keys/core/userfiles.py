"""Opening files the user names (a client config, a CSV to review) without being fooled by them.

Why: a path can name a device, a named pipe or a socket (``/dev/zero`` never ends, a
FIFO blocks the reader forever, and writing "the config" over ``/dev/null`` would
replace a device), or a symlink another user planted in a shared folder such as
``/tmp`` (following it would write a key into whatever file they point it at).
Every reader and writer of such paths goes through here:

- ``read_regular``: a regular file only (checked before opening, and again on the
  open descriptor, which is opened non-blocking so a pipe cannot hang), never more
  than the caller's limit plus one byte;
- ``resolve_for_write``: follows symlinks (dotfile managers link configs) except a
  link in a sticky world-writable folder owned by someone other than the user and
  that folder's owner: the rule the kernel's ``protected_symlinks`` applies to
  opening, which resolving the path ourselves would otherwise get around.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

MAX_LINK_HOPS = 40


class FileRefused(ValueError):
    """A path we will not read or write; the message says why, for the user."""


class NotRegularFile(FileRefused):
    def __init__(self, path: Path, kind: str) -> None:
        super().__init__(f"{path} is {kind}, not a regular file; nothing was read or changed.")
        self.path = path
        self.kind = kind


class TooLarge(FileRefused):
    def __init__(self, path: Path, size: int, limit: int) -> None:
        super().__init__(f"{path} is too large ({size:,} bytes; at most {limit:,} are read).")
        self.path = path
        self.size = size
        self.limit = limit


class UnsafeLink(FileRefused):
    pass


def kind_of(mode: int) -> str:
    """'a folder', 'a named pipe', ... for a non-regular ``st_mode``."""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a plain file"


def check_regular(path: Path, info: os.stat_result) -> None:
    if not stat.S_ISREG(info.st_mode):
        raise NotRegularFile(path, kind_of(info.st_mode))


def read_regular(path: str | os.PathLike[str], limit: int) -> bytes:
    """The bytes of the regular file ``path`` (at most ``limit``); FileNotFoundError when absent.

    Raises NotRegularFile, TooLarge, or OSError for other failures (permission...).
    """
    p = Path(path)
    check_regular(p, os.stat(p))
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    flags |= getattr(os, "O_BINARY", 0)
    fd = os.open(p, flags)
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fh.fileno())
        check_regular(p, info)  # swapped for something else between the stat and the open
        if info.st_size > limit:
            raise TooLarge(p, info.st_size, limit)
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(p, max(len(data), info.st_size), limit)
    return data


def _unsafe_link(link: Path, info: os.stat_result) -> bool:
    """The kernel's protected_symlinks rule for ``link`` (already lstat'ed as a symlink)."""
    if not hasattr(os, "getuid"):
        return False
    try:
        folder = os.stat(link.parent)
    except OSError:
        return False
    shared = bool(folder.st_mode & stat.S_ISVTX) and bool(folder.st_mode & stat.S_IWOTH)
    return shared and info.st_uid != os.getuid() and info.st_uid != folder.st_uid


def resolve_for_write(path: str | os.PathLike[str]) -> Path:
    """The real file behind ``path``, refusing a link planted by another user (see the module doc)."""
    current = Path(os.path.abspath(path))
    for _ in range(MAX_LINK_HOPS):
        try:
            info = os.lstat(current)
        except OSError:
            break  # absent (it will be created) or unreadable: realpath below says the rest
        if not stat.S_ISLNK(info.st_mode):
            break
        if _unsafe_link(current, info):
            owner = str(info.st_uid)
            with contextlib.suppress(ImportError, KeyError):
                import pwd

                owner = pwd.getpwuid(info.st_uid).pw_name
            raise UnsafeLink(
                f"{current} is a link owned by another user ({owner}) in the shared folder "
                f"{current.parent}; it was not followed and nothing was written. "
                "Give the path of the real file if you mean it."
            )
        current = current.parent / os.readlink(current)
    return Path(os.path.realpath(current))
