"""The app's entry point as a process: no-display message, fast --help, single instance forwarding."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_self_test import headless_env

from phhub_keys.gui.app import display_problem
from phhub_keys.gui.single_instance import SingleInstance, forward_to_running, server_name


@pytest.mark.parametrize(
    ("env", "platform", "ok"),
    [
        ({}, "linux", False),
        ({"DISPLAY": ":0"}, "linux", True),
        ({"WAYLAND_DISPLAY": "wayland-0"}, "linux", True),
        ({"QT_QPA_PLATFORM": "offscreen"}, "linux", True),
        ({"QT_QPA_PLATFORM": "minimal"}, "linux", True),
        ({"QT_QPA_PLATFORM": "xcb"}, "linux", False),
        ({"QT_QPA_PLATFORM": "xcb", "DISPLAY": ":99"}, "linux", True),
        ({"QT_QPA_PLATFORM": "wayland"}, "linux", False),
        ({"QT_QPA_PLATFORM": "wayland;xcb", "DISPLAY": ":1"}, "linux", True),
        ({"QT_QPA_PLATFORM": "offscreen:size=800x600"}, "linux", True),
        ({}, "freebsd14", False),
        ({}, "win32", True),
        ({}, "darwin", True),
    ],
)
def test_display_problem(env, platform, ok):
    assert (display_problem(env, platform) is None) == ok


def test_no_display_prints_one_line_and_exits_non_zero(tmp_path: Path):
    env = headless_env(tmp_path)
    for extra in ({}, {"QT_QPA_PLATFORM": "xcb"}):
        result = subprocess.run([sys.executable, "-m", "phhub_keys"], env={**env, **extra},
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 3
        assert result.stdout == ""
        lines = result.stderr.splitlines()
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith("phhub-keys: no display available")


def test_help_and_no_display_path_do_not_import_qt(tmp_path: Path):
    code = (
        "import sys\n"
        "from phhub_keys.cli import main\n"
        "main(['--help'])\n"
        "from phhub_keys.gui import app\n"
        "app.main(['--local'])\n"
        "print('qt imported:', 'PySide6' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], env=headless_env(tmp_path), capture_output=True,
                            text=True, timeout=60)
    assert result.stdout.splitlines()[-1] == "qt imported: False", result.stdout + result.stderr


def test_app_help_lists_the_gui_flags(tmp_path: Path):
    code = "from phhub_keys.gui.app import main; main(['--help'])"
    result = subprocess.run([sys.executable, "-c", code], env=headless_env(tmp_path), capture_output=True,
                            text=True, timeout=60)
    for flag in ("--local", "--hub URL", "--self-test", "--new-key", "--allow-insecure-http"):
        assert flag in result.stdout


# --------------------------------------------------------------------------- single instance


def test_single_instance_receives_the_forwarded_argv(qtbot, tmp_path: Path):
    name = server_name("test", str(tmp_path))
    instance = SingleInstance(name)
    assert instance.listen() and instance.listening
    try:
        code = (
            "import sys\n"
            "from PySide6.QtCore import QCoreApplication\n"
            "from phhub_keys.gui.single_instance import forward_to_running\n"
            "app = QCoreApplication([])\n"
            f"ok = forward_to_running({name!r}, ['review', '/tmp/ä.csv'])\n"
            "sys.exit(0 if ok else 7)\n"
        )
        with qtbot.waitSignal(instance.messageReceived, timeout=15000) as got:
            child = subprocess.Popen([sys.executable, "-c", code])
        assert got.args == [["review", "/tmp/ä.csv"]]
        assert child.wait(timeout=15) == 0
    finally:
        instance.close()
    # Nobody listening any more: forwarding says so instead of hanging.
    assert forward_to_running(name, ["x"]) is False


def test_review_is_forwarded_with_absolute_paths(qtbot, tmp_path: Path):
    instance = SingleInstance(server_name("local", str(tmp_path)))
    assert instance.listen()
    try:
        code = (
            "import sys\n"
            "from phhub_keys.gui.single_instance import forward_review\n"
            f"sys.exit(0 if forward_review(['keys.csv'], {str(tmp_path)!r}) else 1)\n"
        )
        with qtbot.waitSignal(instance.messageReceived, timeout=15000) as got:
            child = subprocess.Popen([sys.executable, "-c", code], cwd=tmp_path)
        assert got.args == [["review", str(tmp_path / "keys.csv")]]
        assert child.wait(timeout=15) == 0
    finally:
        instance.close()
    code = ("from phhub_keys.gui.single_instance import forward_review\n"
            f"print(forward_review(['x'], {str(tmp_path)!r}))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert result.stdout.strip() == "False"  # nobody running: the caller opens its own window


def test_a_stale_socket_of_a_crashed_instance_is_replaced(qtbot, tmp_path: Path):
    name = server_name("stale", str(tmp_path))
    code = (
        "import os\n"
        "from PySide6.QtCore import QCoreApplication\n"
        "from phhub_keys.gui.single_instance import SingleInstance\n"
        "app = QCoreApplication([])\n"
        f"assert SingleInstance({name!r}).listen()\n"
        "os._exit(0)  # crash: the socket file stays behind\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=30)
    instance = SingleInstance(name)
    try:
        assert instance.listen()
    finally:
        instance.close()


def test_second_launch_forwards_to_the_first_and_exits_0(tmp_path: Path):
    env = {**headless_env(tmp_path), "QT_QPA_PLATFORM": "offscreen"}
    first = subprocess.Popen([sys.executable, "-m", "phhub_keys", "--local", "--port", "0"], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        name = server_name("local", str(tmp_path / "config" / "phhub-keys"))
        code = (
            "import sys\n"
            "from PySide6.QtCore import QCoreApplication\n"
            "from phhub_keys.gui.single_instance import forward_to_running\n"
            "app = QCoreApplication([])\n"
            f"sys.exit(0 if forward_to_running({name!r}, ['--ping']) else 1)\n"
        )
        deadline = time.monotonic() + 60
        while subprocess.run([sys.executable, "-c", code], env=env, timeout=30).returncode != 0:
            assert first.poll() is None, first.communicate()
            assert time.monotonic() < deadline, "the first instance never started listening"
            time.sleep(0.3)

        started = time.monotonic()
        second = subprocess.run([sys.executable, "-m", "phhub_keys", "--local", "--port", "0"], env=env,
                                capture_output=True, text=True, timeout=60)
        assert second.returncode == 0, second.stdout + second.stderr
        assert "already running" in second.stdout
        assert "created the local account" not in second.stdout  # it never started a hub of its own
        assert time.monotonic() - started < 30
        assert first.poll() is None  # the first one is still running
    finally:
        if first.poll() is None:
            first.send_signal(signal.SIGINT)  # Ctrl+C quits like the Quit action
        out, err = first.communicate(timeout=30)
    assert first.returncode == 0, out + err
    assert "created the local account" in out
    assert "Traceback" not in err


@pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
def test_sigint_quits_cleanly(tmp_path: Path):
    env = {**headless_env(tmp_path), "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.Popen([sys.executable, "-m", "phhub_keys", "--local", "--port", "0"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    db = tmp_path / "data" / "phhub-keys" / "local-hub.sqlite3"
    deadline = time.monotonic() + 60
    while not db.exists():
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.2)
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, out + err
