"""Files a user (or someone else) points us at: devices, pipes, planted symlinks, hostile nesting,
folders we cannot write to (issue 10 items 8-10).

Driven through the real CLI in a subprocess (with a timeout, so a hang is a failure, and a memory
cap, so reading /dev/zero cannot take the machine down), and through the real setup dialog and
review window.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton

from phhub_keys.core import client_setup, config_install, userfiles
from phhub_keys.core.csvio import CsvFormatError, read_csv
from phhub_keys.core.keyformat import generate_key
from phhub_keys.gui.review_window import CsvReviewWindow
from phhub_keys.gui.setup_dialog import SetupDialog

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="devices, FIFOs and uids are POSIX")

SERVER_URL = "http://127.0.0.1:8750/mcp"
ROOT = os.geteuid() == 0
OTHER_UID = 4242  # a user that owns nothing on this machine


def _limit_memory() -> None:
    import resource

    cap = 1 << 31  # 2 GiB of address space: the old code grew past 6 GiB reading /dev/zero
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))


def run_cli(*argv: str, env: dict[str, str] | None = None,
            timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "phhub_keys", *argv], capture_output=True, text=True, timeout=timeout,
        env={**os.environ, **(env or {})}, preexec_fn=_limit_memory,
    )


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("phhub-keys"), result.stderr
    return lines[0]


def setup_install(path: Path, client: str = "cursor", **kw: Any) -> subprocess.CompletedProcess[str]:
    return run_cli("setup", client, "--install", "--file", str(path), "--url", SERVER_URL, **kw)


# ---------------------------------------------------------------- 8. not a regular file


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "mcp.json"
    os.mkfifo(path)
    return path


def test_setup_refuses_a_fifo_instead_of_hanging(fifo: Path) -> None:
    line = one_line_error(setup_install(fifo, timeout=30))
    assert "named pipe" in line and "not a regular file" in line
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert sorted(p.name for p in fifo.parent.iterdir()) == ["mcp.json"]  # no backup, no temp file


@pytest.mark.skipif(not ROOT, reason="making a device node needs root")
def test_setup_never_replaces_a_device_node(tmp_path: Path) -> None:
    device = tmp_path / "null"
    os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # a second /dev/null
    line = one_line_error(setup_install(device))
    assert "is a device, not a regular file" in line
    assert stat.S_ISCHR(os.lstat(device).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["null"]


def test_review_refuses_a_fifo_and_dev_zero_quickly(fifo: Path) -> None:
    result = run_cli("review", "--summary", str(fifo), timeout=30)
    assert result.returncode == 1 and "named pipe" in result.stderr, result.stderr
    result = run_cli("review", "--summary", "/dev/zero", timeout=30)
    assert result.returncode == 1 and "is a device" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and "MemoryError" not in result.stderr


def test_a_config_larger_than_the_limit_is_not_read(tmp_path: Path) -> None:
    big = tmp_path / "mcp.json"
    with big.open("wb") as fh:
        fh.truncate(config_install.MAX_CONFIG_BYTES + 1)  # sparse: nothing to read anyway
    line = one_line_error(setup_install(big))
    assert "too large for a client config" in line
    assert big.stat().st_size == config_install.MAX_CONFIG_BYTES + 1


def test_read_regular_reads_at_most_the_limit_plus_one(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x" * 10)
    assert userfiles.read_regular(path, 10) == b"x" * 10
    with pytest.raises(userfiles.TooLarge) as info:
        userfiles.read_regular(path, 9)
    assert info.value.size == 10
    with pytest.raises(CsvFormatError, match="named pipe"):
        fifo = tmp_path / "p"
        os.mkfifo(fifo)
        read_csv(fifo)


def _left() -> Qt.MouseButton:
    return Qt.MouseButton.LeftButton


def test_setup_dialog_add_to_refuses_a_fifo(qtbot, fifo: Path) -> None:
    dialog = SetupDialog(SERVER_URL, None)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.set_config_path("cursor", fifo)
    qtbot.mouseClick(dialog.findChild(QPushButton, "addTo_cursor"), _left())
    status = dialog.client_tabs["cursor"].status.text()
    assert "named pipe" in status and "not a regular file" in status
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_review_window_refuses_a_fifo(qtbot, fifo: Path) -> None:
    window = CsvReviewWindow()
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(window.loadFailed, timeout=20_000) as failed:
        window.open_paths([fifo])
    assert "named pipe" in failed.args[0]
    assert window.error_banner.isVisible() and "not a regular file" in window.error_banner.text()


# ---------------------------------------------------------------- 9. planted symlinks


@pytest.fixture
def shared(tmp_path: Path) -> Path:
    """A sticky world-writable folder, like /tmp."""
    folder = tmp_path / "shared"
    folder.mkdir()
    folder.chmod(0o1777)
    return folder


@pytest.mark.skipif(not ROOT, reason="a link owned by another user needs root to make")
def test_setup_does_not_follow_another_users_link_in_a_shared_folder(tmp_path: Path, shared: Path) -> None:
    victim = tmp_path / "home" / "precious.json"
    victim.parent.mkdir()
    victim.write_text('{"mine": true}\n')
    link = shared / "mcp.json"
    link.symlink_to(victim)
    os.lchown(link, OTHER_UID, OTHER_UID)
    result = run_cli("setup", "cursor", "--install", "--embed-key", "--file", str(link), "--url", SERVER_URL,
                     env={"PHHUB_MCP_KEY": generate_key()})
    line = one_line_error(result)
    assert "link owned by another user" in line and "4242" in line and str(shared) in line
    assert victim.read_text() == '{"mine": true}\n'
    assert sorted(p.name for p in victim.parent.iterdir()) == ["precious.json"]
    assert link.is_symlink() and sorted(p.name for p in shared.iterdir()) == ["mcp.json"]


def test_own_links_and_links_in_private_folders_are_still_followed(tmp_path: Path, shared: Path) -> None:
    snippet = client_setup.generate("cursor", SERVER_URL)
    real = tmp_path / "dotfiles" / "mcp.json"
    real.parent.mkdir()
    real.write_text("{}\n")
    mine = shared / "mine.json"
    mine.symlink_to(real)  # the user's own link in a shared folder: followed, as the kernel would
    assert config_install.install(snippet, mine).path == real
    assert "performance-hub" in real.read_text() and mine.is_symlink()
    if ROOT:  # another user's link in a folder only they and we control is followed too
        private = tmp_path / "private"
        private.mkdir()
        theirs = private / "mcp.json"
        theirs.symlink_to(real)
        os.lchown(theirs, OTHER_UID, OTHER_UID)
        assert config_install.install(snippet, theirs).path == real


@pytest.mark.skipif(not ROOT, reason="a link owned by another user needs root to make")
def test_a_chain_of_links_is_checked_at_every_hop(tmp_path: Path, shared: Path) -> None:
    victim = tmp_path / "victim.json"
    victim.write_text("{}\n")
    planted = shared / "planted.json"
    planted.symlink_to(victim)
    os.lchown(planted, OTHER_UID, OTHER_UID)
    mine = tmp_path / "mine.json"
    mine.symlink_to(planted)
    with pytest.raises(config_install.ConfigInstallError, match="link owned by another user"):
        config_install.install(client_setup.generate("cursor", SERVER_URL), mine)
    assert victim.read_text() == "{}\n"


# ---------------------------------------------------------------- 10. errors, not tracebacks


@pytest.mark.parametrize(("client", "name", "text"), [
    ("cursor", "mcp.json", '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}\n"),
    ("vscode", "mcp.json", '{"a": ' + "{\"b\": " * 100_000 + "1" + "}" * 100_000 + "}\n"),
    ("codex", "config.toml", "a = " + "[" * 100_000 + "]" * 100_000 + "\n"),
], ids=["json-arrays", "jsonc-objects", "toml-arrays"])
def test_a_config_nested_100000_deep_is_a_one_line_error(tmp_path: Path, client: str, name: str,
                                                         text: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    line = one_line_error(setup_install(path, client=client))
    assert "nested" in line and "left untouched" in line
    assert path.read_text() == text
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


@pytest.fixture
def read_only_folder(tmp_path: Path) -> Iterator[Path]:
    """A folder nothing can be created in: mode 0555, or (as root, who ignores modes) immutable."""
    folder = tmp_path / "cfg"
    folder.mkdir()
    (folder / "mcp.json").write_text('{"mcpServers": {"git": {"command": "uvx"}}}\n')
    if ROOT:
        if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(folder)]).returncode:
            pytest.skip("root ignores folder modes, and chattr +i is not available here")
    else:
        folder.chmod(0o555)
    try:
        yield folder
    finally:
        if ROOT:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
        folder.chmod(0o755)


def test_a_folder_that_is_not_writable_is_a_one_line_error(read_only_folder: Path) -> None:
    target = read_only_folder / "mcp.json"
    original = target.read_text()
    line = one_line_error(setup_install(target))
    assert "Cannot make a backup" in line and "left untouched" in line
    assert target.read_text() == original
    assert sorted(p.name for p in read_only_folder.iterdir()) == ["mcp.json"]
