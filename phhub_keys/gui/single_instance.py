"""One running app per user and hub mode: a second launch hands its arguments to the first.

Why: two copies would mean two tray icons and two windows fighting over one
account. The first instance listens on a QLocalServer (a socket only this user
can open); a later launch connects, sends its argv as one JSON line, waits for
"ok" and exits 0, and the first instance brings its window forward (or opens
what the arguments ask for, e.g. ``review FILE``).

The name is derived from the user, the hub mode (``local`` or the hub URL)
and the settings location, so ``--local`` and a real hub can run side by side,
and separate profiles (or test runs with their own config dir) never collide.
"""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import json
import os

from PySide6.QtCore import QByteArray, QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

MAX_MESSAGE = 64 * 1024
CONNECT_TIMEOUT_MS = 500
REPLY_TIMEOUT_MS = 3000


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return str(os.getuid()) if hasattr(os, "getuid") else "user"


def server_name(mode: str, profile_dir: str = "") -> str:
    """``phhub-keys-<hash>`` for (user, mode, profile dir): short enough for any socket path."""
    digest = hashlib.sha256(f"{_user()}\0{mode}\0{profile_dir}".encode()).hexdigest()[:20]
    return f"phhub-keys-{digest}"


def forward_to_running(name: str, argv: list[str], timeout_ms: int = REPLY_TIMEOUT_MS) -> bool:
    """Send ``argv`` to a running instance listening on ``name``; True when it took them."""
    socket = QLocalSocket()
    socket.connectToServer(name)
    if not socket.waitForConnected(CONNECT_TIMEOUT_MS):
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
    return any(forward_to_running(server_name(mode, profile_dir), argv) for mode in ("remote", "local"))


class SingleInstance(QObject):
    """Listens for later launches; ``messageReceived(argv)`` fires for each."""

    messageReceived = Signal(list)

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self._server: QLocalServer | None = None
        self._buffers: dict[QLocalSocket, bytes] = {}

    def __repr__(self) -> str:
        return f"SingleInstance({self.name!r}, listening={self.listening})"

    @property
    def listening(self) -> bool:
        return self._server is not None and self._server.isListening()

    def forward(self, argv: list[str]) -> bool:
        """Hand ``argv`` to a running instance; True means: exit, it is handled there."""
        return forward_to_running(self.name, argv)

    def listen(self) -> bool:
        """Become the instance others forward to. False only when the socket can't be made."""
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not server.listen(self.name):
            # A socket file left by a crashed instance: nobody answers on it, so remove it.
            if forward_to_running(self.name, ["--ping"], timeout_ms=500):
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
