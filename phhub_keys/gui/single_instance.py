"""One running app per user and hub mode: a second launch hands its arguments to the first.

Why: two copies would mean two tray icons and two windows fighting over one
account. The first instance listens on a QLocalServer (a socket only this user
can open); a later launch connects, sends its argv as one JSON line, waits for
"ok" and exits 0, and the first instance brings its window forward (or opens
what the arguments ask for, e.g. ``review FILE``).

The name is derived from the user, the hub mode (``local`` or the hub URL)
and the settings location, so ``--local`` and a real hub can run side by side,
and separate profiles (or test runs with their own config dir) never collide.

Another local user must not be able to stand in for either side: whoever binds
a name in a shared folder first would receive the paths handed over (e.g. a
secrets CSV) and make the app exit. So on POSIX the socket lives in a private
folder (``<user runtime dir>/phhub-keys``, or ``<tmp>/phhub-keys-<uid>`` where
there is no runtime dir) that must be ours and 0700, else it is not used; and
both ends check the other's uid (SO_PEERCRED on Linux, LOCAL_PEERCRED on macOS)
before trusting a word.
"""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import json
import os
import socket as pysocket
import stat
import struct
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QByteArray, QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

MAX_MESSAGE = 64 * 1024
REVIEW_MODE = "review"  # a review window running on its own (``phhub-keys review FILE`` without the app)
CONNECT_TIMEOUT_MS = 500
REPLY_TIMEOUT_MS = 3000


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return str(os.getuid()) if hasattr(os, "getuid") else "user"


def _posix() -> bool:
    return sys.platform != "win32"


def socket_dir() -> Path:
    """The private folder for the socket: the user runtime dir, else one of our own in tmp."""
    from ..core.paths import runtime_dir

    folder = runtime_dir()
    if not folder.parent.is_dir():  # no runtime dir on this system (e.g. no login session)
        folder = Path(tempfile.gettempdir()) / f"phhub-keys-{os.getuid()}"
    return folder


def private_dir_problem(folder: Path) -> str | None:
    """Why ``folder`` cannot hold our socket (created 0700 when missing), or None when it can."""
    try:
        folder.mkdir(mode=0o700)
    except FileExistsError:
        pass
    except OSError as exc:
        return f"cannot create {folder}: {exc.strerror or exc}"
    try:
        info = os.lstat(folder)
    except OSError as exc:
        return f"cannot check {folder}: {exc.strerror or exc}"
    if not stat.S_ISDIR(info.st_mode):
        return f"{folder} is not a folder"
    if info.st_uid != os.getuid():
        return f"{folder} belongs to another user (uid {info.st_uid})"
    if info.st_mode & 0o077:
        return (f"{folder} is open to other users (mode {stat.S_IMODE(info.st_mode):04o}); "
                f"make it private with: chmod 700 {folder}")
    return None


def server_name(mode: str, profile_dir: str = "") -> str:
    """The socket for (user, mode, profile dir): ``<private dir>/phhub-keys-<hash>`` on POSIX
    (short enough for any socket path), a plain ``phhub-keys-<hash>`` pipe name on Windows."""
    digest = hashlib.sha256(f"{_user()}\0{mode}\0{profile_dir}".encode()).hexdigest()[:20]
    name = f"phhub-keys-{digest}"
    return str(socket_dir() / name) if _posix() else name


def _name_problem(name: str) -> str | None:
    """Why the socket ``name`` must not be used (its folder is not private), or None."""
    if not _posix():
        return None
    if not os.path.isabs(name):
        return f"{name} is not in a private folder"
    return private_dir_problem(Path(name).parent)


def peer_uid(descriptor: int) -> int | None:
    """The uid of the process at the other end of the local socket ``descriptor``; None when
    this system cannot say (then the private folder is the only guard)."""
    if descriptor < 0 or not _posix():
        return None
    try:
        sock = pysocket.socket(fileno=os.dup(descriptor))
    except OSError:
        return None
    with sock:
        try:
            if hasattr(pysocket, "SO_PEERCRED"):  # Linux: struct ucred {pid, uid, gid}
                raw = sock.getsockopt(pysocket.SOL_SOCKET, pysocket.SO_PEERCRED, struct.calcsize("3i"))
                return int(struct.unpack("3i", raw)[1])
            if sys.platform == "darwin":  # LOCAL_PEERCRED at SOL_LOCAL: struct xucred {version, uid, ...}
                raw = sock.getsockopt(0, 0x001, struct.calcsize("IIh16I"))
                return int(struct.unpack_from("2I", raw)[1])
        except OSError:
            return None
    return None


def _trusted(socket: QLocalSocket, expected_uid: int | None) -> bool:
    """The other end runs as ``expected_uid`` (default: this user), or the system cannot tell."""
    if not _posix():
        return True
    uid = peer_uid(int(socket.socketDescriptor()))
    return uid is None or uid == (os.getuid() if expected_uid is None else expected_uid)


def forward_to_running(name: str, argv: list[str], timeout_ms: int = REPLY_TIMEOUT_MS,
                       expected_uid: int | None = None) -> bool:
    """Send ``argv`` to a running instance listening on ``name``; True when it took them.

    Nothing is sent when the socket's folder is not private or the listener is another user.
    """
    if _name_problem(name) is not None:
        return False
    socket = QLocalSocket()
    socket.connectToServer(name)
    if not socket.waitForConnected(CONNECT_TIMEOUT_MS):
        return False
    if not _trusted(socket, expected_uid):
        socket.abort()
        return False
    try:
        payload = json.dumps([str(a) for a in argv]).encode("utf-8") + b"\n"
        socket.write(QByteArray(payload))
        if not socket.waitForBytesWritten(timeout_ms):
            return False
        reply = b""
        while b"\n" not in reply:
            if not socket.waitForReadyRead(timeout_ms):
                return False
            reply += bytes(socket.readAll().data())
        return reply.strip() == b"ok"
    finally:
        socket.abort()


def forward_review(paths: list[str], profile_dir: str | None = None) -> bool:
    """Ask a running app (plain or ``--local``) to open these CSV files in its review window.

    For ``phhub-keys review FILE``: True means a running instance took them (exit 0);
    False means none is running, so open a review window in this process. Paths
    are made absolute because the running app has its own working directory.
    """
    if profile_dir is None:
        from .settings import default_settings_path

        profile_dir = str(default_settings_path().parent)
    argv = ["review", *(os.path.abspath(p) for p in paths)]
    # The app (plain or --local), else a review window already open on its own (REVIEW_MODE).
    return any(forward_to_running(server_name(mode, profile_dir), argv)
               for mode in ("remote", "local", REVIEW_MODE))


class SingleInstance(QObject):
    """Listens for later launches; ``messageReceived(argv)`` fires for each."""

    messageReceived = Signal(list)

    def __init__(self, name: str, parent: QObject | None = None, *, expected_uid: int | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.expected_uid = expected_uid  # whose launches to accept (None: this user's)
        self.problem: str | None = None  # why listen() could not be used, for the user
        self._server: QLocalServer | None = None
        self._buffers: dict[QLocalSocket, bytes] = {}

    def __repr__(self) -> str:
        return f"SingleInstance({self.name!r}, listening={self.listening})"

    @property
    def listening(self) -> bool:
        return self._server is not None and self._server.isListening()

    def forward(self, argv: list[str]) -> bool:
        """Hand ``argv`` to a running instance; True means: exit, it is handled there."""
        return forward_to_running(self.name, argv, expected_uid=self.expected_uid)

    def listen(self) -> bool:
        """Become the instance others forward to. False when the socket can't be made (or its
        folder is not private: ``problem`` says why)."""
        self.problem = _name_problem(self.name)
        if self.problem is not None:
            return False
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not server.listen(self.name):
            # A socket file left by a crashed instance: nobody answers on it, so remove it.
            if forward_to_running(self.name, ["--ping"], timeout_ms=500, expected_uid=self.expected_uid):
                return False
            QLocalServer.removeServer(self.name)
            if not server.listen(self.name):
                return False
        server.newConnection.connect(self._accept)
        self._server = server
        return True

    def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for socket in list(self._buffers):
            socket.abort()
        self._buffers.clear()

    def _accept(self) -> None:
        assert self._server is not None
        while self._server.hasPendingConnections():
            socket = self._server.nextPendingConnection()
            if not _trusted(socket, self.expected_uid):  # another user: not a word is read
                socket.abort()
                socket.deleteLater()
                continue
            self._buffers[socket] = b""
            # Slots use sender() rather than lambdas holding the socket: a wrapper kept alive in
            # a closure after deleteLater() crashes PySide at garbage collection.
            socket.readyRead.connect(self._read)
            socket.disconnected.connect(self._drop)

    def _drop(self) -> None:
        socket = self.sender()
        if isinstance(socket, QLocalSocket):
            self._buffers.pop(socket, None)
            socket.deleteLater()

    def _read(self) -> None:
        socket = self.sender()
        if not isinstance(socket, QLocalSocket) or socket not in self._buffers:
            return
        data = self._buffers[socket] + bytes(socket.readAll().data())
        if len(data) > MAX_MESSAGE:
            self._buffers.pop(socket, None)
            socket.abort()
            return
        if b"\n" not in data:
            self._buffers[socket] = data
            return
        self._buffers.pop(socket, None)
        line = data.split(b"\n", 1)[0]
        argv: list[str] | None = None
        with contextlib.suppress(ValueError, UnicodeDecodeError):
            parsed = json.loads(line.decode("utf-8"))
            if isinstance(parsed, list) and all(isinstance(a, str) for a in parsed):
                argv = parsed
        socket.write(QByteArray(b"ok\n" if argv is not None else b"bad\n"))
        socket.flush()
        socket.disconnectFromServer()
        if argv is not None and argv != ["--ping"]:
            self.messageReceived.emit(argv)
