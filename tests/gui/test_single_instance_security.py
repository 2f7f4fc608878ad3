"""The single-instance socket cannot be squatted or spoken to by another local user (issue 10 item 15).

The socket lives in a private 0700 folder that must be ours, and both ends check the other's
uid through the kernel (SO_PEERCRED). Root cannot become another user here (the interpreter
lives in a root-only folder), so "another user" is played by what a second user would leave
behind (a folder with the wrong owner or mode) and by telling one end to expect another uid:
the real credential read from the real socket of a real second process then does not match.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from phhub_keys.gui import single_instance
from phhub_keys.gui.single_instance import (
    SingleInstance,
    forward_to_running,
    peer_uid,
    private_dir_problem,
    server_name,
)

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX sockets and uids")
OTHER_UID = 4242


def _forward_in_subprocess(name: str, argv: list[str], expected_uid: int | None = None) -> int:
    """Run forward_to_running in a real second process; its exit code says whether it was taken."""
    code = (
        "import sys\n"
        "from PySide6.QtCore import QCoreApplication\n"
        "from phhub_keys.gui.single_instance import forward_to_running\n"
        "app = QCoreApplication([])\n"
        f"ok = forward_to_running({name!r}, {argv!r}, expected_uid={expected_uid!r})\n"
        "sys.exit(0 if ok else 7)\n"
    )
    return subprocess.run([sys.executable, "-c", code], timeout=30).returncode


def test_the_socket_lives_in_a_private_folder_of_ours(qtbot, tmp_path: Path) -> None:
    """Not in /tmp (sticky, world-writable), where anyone could bind the name first."""
    name = server_name("remote", str(tmp_path))
    folder = Path(name).parent
    instance = SingleInstance(name)
    try:
        assert instance.listen(), instance.problem
        info = os.lstat(folder)
        assert stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid()
        assert stat.S_IMODE(info.st_mode) == 0o700
        assert stat.S_ISSOCK(os.lstat(name).st_mode)
        assert folder == Path(os.environ["XDG_RUNTIME_DIR"]) / "phhub-keys"
    finally:
        instance.close()


def test_without_a_runtime_dir_the_folder_is_our_own_in_tmp(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "absent" / "runtime"))
    monkeypatch.setattr(single_instance.tempfile, "gettempdir", lambda: str(tmp_path))
    assert single_instance.socket_dir() == tmp_path / f"phhub-keys-{os.getuid()}"


def test_a_folder_open_to_others_is_refused(qtbot, tmp_path: Path) -> None:
    folder = tmp_path / "phhub-keys"
    folder.mkdir(mode=0o755)
    folder.chmod(0o777)
    name = str(folder / "phhub-keys-test")
    instance = SingleInstance(name)
    assert not instance.listen()
    assert "open to other users (mode 0777)" in (instance.problem or "")
    assert "chmod 700" in (instance.problem or "")
    assert os.listdir(folder) == []  # nothing was bound there
    assert forward_to_running(name, ["review", "/secrets.csv"]) is False


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a folder to another user needs root")
def test_a_folder_owned_by_another_user_is_refused(qtbot, tmp_path: Path) -> None:
    """What a squatter would prepare: their own 0700 folder at our socket folder's path."""
    folder = tmp_path / "phhub-keys"
    folder.mkdir(mode=0o700)
    os.chown(folder, OTHER_UID, OTHER_UID)
    name = str(folder / "phhub-keys-test")
    instance = SingleInstance(name)
    assert not instance.listen()
    assert f"belongs to another user (uid {OTHER_UID})" in (instance.problem or "")
    assert forward_to_running(name, ["review", "/secrets.csv"]) is False


def test_a_symlinked_folder_is_refused(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir(mode=0o700)
    link = tmp_path / "phhub-keys"
    link.symlink_to(real)
    assert "is not a folder" in (private_dir_problem(link) or "")


def test_the_listener_ignores_a_peer_of_another_uid(qtbot, tmp_path: Path) -> None:
    """The listener expects OTHER_UID; the real second process (our uid) is not trusted: the kernel's
    credential for its connection is read, found different, and nothing it sends is used."""
    name = server_name("peer-check", str(tmp_path))
    instance = SingleInstance(name, expected_uid=OTHER_UID)
    received: list[list[str]] = []
    instance.messageReceived.connect(received.append)
    assert instance.listen()
    try:
        assert _forward_in_subprocess(name, ["review", "/tmp/secrets.csv"], expected_uid=os.getuid()) == 7
        qtbot.wait(200)
        assert received == []
    finally:
        instance.close()
    # The same process with the right uid expected is heard (the check is what made the difference).
    instance = SingleInstance(name)
    instance.messageReceived.connect(received.append)
    assert instance.listen()
    try:
        with qtbot.waitSignal(instance.messageReceived, timeout=15_000):
            proc = subprocess.Popen([sys.executable, "-c", (
                "import sys\nfrom PySide6.QtCore import QCoreApplication\n"
                "from phhub_keys.gui.single_instance import forward_to_running\n"
                "app = QCoreApplication([])\n"
                f"sys.exit(0 if forward_to_running({name!r}, ['--new-key']) else 7)\n"
            )])
        assert proc.wait(timeout=30) == 0
        assert received == [["--new-key"]]
    finally:
        instance.close()


def test_a_launch_sends_nothing_to_a_listener_of_another_uid(qtbot, tmp_path: Path) -> None:
    """The other way round: a squatter listening where we look would get the paths; the launch
    reads the listener's credential first and, if it is not the expected user, sends nothing."""
    name = server_name("squatted", str(tmp_path))
    squatter = SingleInstance(name)  # plays the other user's listener
    received: list[list[str]] = []
    squatter.messageReceived.connect(received.append)
    assert squatter.listen()
    try:
        assert _forward_in_subprocess(name, ["review", "/home/me/secrets.csv"], expected_uid=OTHER_UID) == 7
        qtbot.wait(200)
        assert received == []
    finally:
        squatter.close()


def test_peer_uid_reads_the_kernels_credential() -> None:
    left, right = __import__("socket").socketpair()
    with left, right:
        assert peer_uid(left.fileno()) == os.getuid()
    assert peer_uid(-1) is None
