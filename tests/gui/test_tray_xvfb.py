"""The tray on a real X server with a real tray host (Xvfb + trayer), clicked through XTest.

Self-contained: the fixtures start Xvfb on a free display and, for the tray
tests, trayer (an XEmbed system tray) on it; the app runs in a child process
with ``QT_QPA_PLATFORM=xcb`` (this pytest process stays offscreen). Clicks are
real X events injected with the XTEST extension (libXtst via ctypes), so the
path is X server -> tray host -> Qt's tray icon -> our handler. The clipboard
is read back by a *separate* X client, proving the URL is really on the X
clipboard.

Needs: Debian ``xvfb trayer libxtst6`` plus the xcb libraries Qt needs
(``libxcb-cursor0 libxkbcommon-x11-0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0
libxcb-render-util0 libxcb-image0 libegl1 libgl1 libfontconfig1 libdbus-1-3``).
Skipped with a reason when Xvfb or trayer is missing, unless PHHUB_XVFB=1 says
this run must exercise them (then missing tools fail the test).

Run: ``QT_QPA_PLATFORM=offscreen .venv/bin/pytest -m xvfb tests/gui/test_tray_xvfb.py``
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from xserver import stop_process, wait_for, xvfb

pytestmark = pytest.mark.xvfb

TESTS_DIR = Path(__file__).resolve().parents[1]  # tests/
SERVER_URL = "https://hub.example.org/mcp"
REQUIRED = os.environ.get("PHHUB_XVFB") == "1"
DISPLAYS = (90, 199)  # X display numbers this suite may use (the AT-SPI suite's are above)


def _missing(reason: str) -> None:
    if REQUIRED:
        pytest.fail(f"PHHUB_XVFB=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture
def x_display(tmp_path: Path) -> Iterator[str]:
    """A fresh Xvfb server; yields its DISPLAY (e.g. ':93')."""
    if not shutil.which("Xvfb"):
        _missing("Xvfb is not installed (apt-get install xvfb)")
    if not (ctypes.util.find_library("Xtst") and ctypes.util.find_library("X11")):
        _missing("libXtst is not installed (apt-get install libxtst6)")
    with xvfb(tmp_path, "1280x800x24", DISPLAYS) as display:
        yield display


def child_env(display: str, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS")}
    env.update({
        "DISPLAY": display,
        "QT_QPA_PLATFORM": "xcb",
        "QT_SCALE_FACTOR": "1",
        "QT_ENABLE_HIGHDPI_SCALING": "0",
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_RUNTIME_DIR": str(tmp_path / "runtime"),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
        # tests/ for the helpers, this folder for the child's own module (child_main)
        "PYTHONPATH": os.pathsep.join([str(TESTS_DIR), str(Path(__file__).resolve().parent),
                                       env.get("PYTHONPATH", "")]),
        "PHHUB_XVFB_OUT": str(tmp_path),
    })
    (tmp_path / "runtime").mkdir(mode=0o700, exist_ok=True)
    return env


@pytest.fixture
def tray_host(x_display: str, tmp_path: Path) -> Iterator[str]:
    """trayer (an XEmbed system tray) running on ``x_display``; yields the display."""
    if not shutil.which("trayer"):
        _missing("trayer is not installed (apt-get install trayer)")
    env = child_env(x_display, tmp_path)
    log = (tmp_path / "trayer.log").open("w")
    proc = subprocess.Popen(["trayer", "--edge", "top", "--align", "right", "--widthtype", "request",
                             "--height", "32", "--SetDockType", "true", "--transparent", "false"],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    probe = ("from PySide6.QtWidgets import QApplication, QSystemTrayIcon\n"
             "app = QApplication(['probe'])\n"
             "raise SystemExit(0 if QSystemTrayIcon.isSystemTrayAvailable() else 1)\n")
    try:
        wait_for(lambda: proc.poll() is not None or subprocess.run(
            [sys.executable, "-c", probe], env=env, capture_output=True, timeout=30).returncode == 0,
            20, "trayer to own the system tray selection")
        if proc.poll() is not None:
            pytest.fail(f"trayer exited: {(tmp_path / 'trayer.log').read_text()}")
        yield x_display
    finally:
        stop_process(proc)
        log.close()


def run_child(mode: str, display: str, tmp_path: Path) -> dict:
    env = child_env(display, tmp_path)
    result = subprocess.run([sys.executable, "-c", f"import test_tray_xvfb as t; t.child_main({mode!r})"],
                            env=env, capture_output=True, text=True, timeout=90)
    report_path = tmp_path / "report.json"
    assert report_path.exists(), f"child failed (exit {result.returncode}):\n{result.stdout}\n{result.stderr}"
    report = json.loads(report_path.read_text())
    report["exit"] = result.returncode
    report["stderr"] = result.stderr
    return report


# --------------------------------------------------------------------------- tests


def test_real_tray_shows_the_icon_and_copy_server_url_works(tray_host: str, tmp_path: Path):
    report = run_child("tray", tray_host, tmp_path)
    assert report.get("error") is None, report
    assert report["platform"] == "xcb"
    assert report["tray_available"] is True
    assert report["icon_visible"] is True
    width, height = report["icon_size"]
    assert width > 0 and height > 0
    assert report["icon_pixels_distinct"] > 1  # something was painted where the icon sits
    # Left click on the icon (a real X button event) copied the URL ...
    assert report["click_message"] == ["Server URL copied", SERVER_URL]
    # ... and another X client reads it from the clipboard.
    assert report["clipboard_seen_by_other_client"] == SERVER_URL
    # Right click opens the menu with the agreed actions; clicking its first item copies too.
    assert report["menu_opened"] is True
    assert report["menu_actions"] == ["trayCopyServerUrl", "trayOpenManager", "trayNewKey", "traySetupClient",
                                      "trayReviewCsv", "trayStatus", "traySignOut", "traySignOutEverywhere",
                                      "trayQuit"]
    assert report["menu_copy_clipboard"] == SERVER_URL
    assert report["exit"] == 0


def test_without_a_tray_host_the_window_is_the_app(x_display: str, tmp_path: Path):
    report = run_child("notray", x_display, tmp_path)
    assert report.get("error") is None, report
    assert report["platform"] == "xcb"
    assert report["tray_available"] is False
    assert report["tray_created"] is False
    assert report["window_visible"] is True  # the window stays open: it is the app
    assert report["quit_on_last_window_closed"] is True
    assert report["window_visible_after_events"] is True
    assert report["closing_the_window_quit"] is True
    assert report["exit"] == 0


# --------------------------------------------------------------------------- the child (runs under xcb)


class _XTest:
    """Real pointer events through the XTEST extension."""

    def __init__(self) -> None:
        self.x11 = ctypes.CDLL(ctypes.util.find_library("X11"))
        self.xtst = ctypes.CDLL(ctypes.util.find_library("Xtst"))
        self.x11.XOpenDisplay.restype = ctypes.c_void_p
        self.x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
        self.x11.XFlush.argtypes = [ctypes.c_void_p]
        self.x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
        self.xtst.XTestFakeMotionEvent.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                                                   ctypes.c_ulong]
        self.xtst.XTestFakeButtonEvent.argtypes = [ctypes.c_void_p, ctypes.c_uint, ctypes.c_int,
                                                   ctypes.c_ulong]
        self.x11.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
        self.x11.XDefaultRootWindow.restype = ctypes.c_ulong
        self.x11.XTranslateCoordinates.argtypes = [
            ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_int, ctypes.c_int,
            ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_ulong)]
        self.dpy = self.x11.XOpenDisplay(None)
        if not self.dpy:
            raise RuntimeError("XOpenDisplay failed")

    def root_position(self, window: int) -> tuple[int, int]:
        """Where an X window really is on the screen (an XEmbed icon is reparented into the tray,
        so Qt's idea of its position can be stale)."""
        x, y, child = ctypes.c_int(), ctypes.c_int(), ctypes.c_ulong()
        root = self.x11.XDefaultRootWindow(self.dpy)
        if not self.x11.XTranslateCoordinates(self.dpy, window, root, 0, 0, ctypes.byref(x), ctypes.byref(y),
                                              ctypes.byref(child)):
            raise RuntimeError("XTranslateCoordinates failed")
        return x.value, y.value

    def click(self, x: int, y: int, button: int = 1) -> None:
        self.xtst.XTestFakeMotionEvent(self.dpy, -1, x, y, 0)
        self.x11.XFlush(self.dpy)
        time.sleep(0.05)
        self.xtst.XTestFakeButtonEvent(self.dpy, button, 1, 0)
        self.x11.XFlush(self.dpy)
        time.sleep(0.05)
        self.xtst.XTestFakeButtonEvent(self.dpy, button, 0, 0)
        self.x11.XFlush(self.dpy)

    def close(self) -> None:
        self.x11.XCloseDisplay(self.dpy)


def child_main(mode: str) -> None:
    """Entry point of the child process (QT_QPA_PLATFORM=xcb on the test's Xvfb)."""
    out = Path(os.environ["PHHUB_XVFB_OUT"])
    report: dict = {}
    try:
        if mode == "tray":
            _child_tray(out, report)
        else:
            _child_notray(out, report)
    except Exception as exc:
        import traceback

        report["error"] = f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"
    (out / "report.json").write_text(json.dumps(report))
    os._exit(0)  # skip interpreter teardown of Qt objects: the report is what counts


def _pump_until(app, predicate, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QEventLoop

    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        time.sleep(0.01)


def _child_tray(out: Path, report: dict) -> None:
    from PySide6.QtCore import QProcess
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    from phhub_keys.gui.controller import AppController
    from phhub_keys.gui.settings import REMOTE, AppSettings
    from phhub_keys.gui.tray import Tray

    app = QApplication(["phhub-keys-xvfb"])
    report["platform"] = app.platformName()
    settings = AppSettings(out / "child-settings.ini", REMOTE)
    settings.hub_url = "https://hub.example.org"  # never reached: there is no network and no hub
    settings.email = "ada@example.org"
    settings.set_cached_server_url(SERVER_URL, "https://hub.example.org")
    report["tray_available"] = Tray.available()
    controller = AppController(settings, use_tray=None)
    controller.quit_app = lambda: None
    controller.setup_tray()
    tray = controller.tray
    report["tray_created"] = tray is not None
    assert tray is not None, "no tray although trayer runs"
    messages: list[list[str]] = []
    tray.messageShown.connect(lambda title, text: messages.append([title, text]))

    _pump_until(app, lambda: tray.icon.isVisible() and not tray.icon.geometry().isEmpty(), 15,
                "the icon to be embedded in the tray")
    report["icon_visible"] = tray.icon.isVisible()
    geometry = tray.icon.geometry()
    report["icon_size"] = [geometry.width(), geometry.height()]
    time.sleep(0.3)
    app.processEvents()
    xtest = _XTest()
    icon_widget = next(w for w in QApplication.topLevelWidgets()
                       if w.metaObject().className() == "QSystemTrayIconSys")
    left, top = xtest.root_position(int(icon_widget.winId()))
    report["icon_qt_geometry"] = [geometry.x(), geometry.y(), geometry.width(), geometry.height()]
    report["icon_x_position"] = [left, top]
    screen = QGuiApplication.primaryScreen()
    shot = screen.grabWindow(0, left, top, geometry.width(), geometry.height())
    shot.save(str(out / "tray-icon.png"))
    screen.grabWindow(0, 1280 - 200, 0, 200, 40).save(str(out / "tray-area.png"))
    image = shot.toImage()
    colours = {image.pixel(x, y) for x in range(image.width()) for y in range(image.height())}
    report["icon_pixels_distinct"] = len(colours)

    QGuiApplication.clipboard().setText("before")
    centre_x, centre_y = left + geometry.width() // 2, top + geometry.height() // 2
    xtest.click(centre_x, centre_y, 1)
    _pump_until(app, lambda: bool(messages), 10, "the left click to copy")
    report["click_message"] = messages[-1]

    reader = QProcess()
    reader.setProgram(sys.executable)
    reader.setArguments(["-c", "from PySide6.QtWidgets import QApplication\n"
                               "app = QApplication(['reader'])\n"
                               "print(app.clipboard().text(), end='')\n"])
    reader.start()
    _pump_until(app, lambda: reader.state() == QProcess.ProcessState.NotRunning, 30, "the clipboard reader")
    report["clipboard_seen_by_other_client"] = bytes(reader.readAllStandardOutput().data()).decode()

    QGuiApplication.clipboard().setText("before menu")
    messages.clear()
    xtest.click(centre_x, centre_y, 3)
    _pump_until(app, tray.menu.isVisible, 10, "the context menu")
    report["menu_opened"] = True
    report["menu_actions"] = tray.action_names()
    item = tray.menu.actionGeometry(tray.action("trayCopyServerUrl")).center()
    target = tray.menu.mapToGlobal(item)
    screen.grabWindow(0).save(str(out / "tray-menu.png"))
    xtest.click(target.x(), target.y(), 1)
    _pump_until(app, lambda: bool(messages), 10, "the menu's Copy Server URL")
    report["menu_copy_clipboard"] = QGuiApplication.clipboard().text()
    xtest.close()
    tray.hide()


def _child_notray(out: Path, report: dict) -> None:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from phhub_keys.gui.controller import AppController
    from phhub_keys.gui.settings import LOCAL, AppSettings
    from phhub_keys.gui.tray import Tray
    from phhub_keys.hub.local import LocalHub

    app = QApplication(["phhub-keys-xvfb"])
    report["platform"] = app.platformName()
    report["tray_available"] = Tray.available()
    local = LocalHub(out / "notray-hub.sqlite3", port=0).start()
    try:
        controller = AppController(AppSettings(out / "child-settings.ini", LOCAL), local=local, use_tray=None)
        controller.start()
        report["tray_created"] = controller.tray is not None
        _pump_until(app, lambda: controller.window is not None and controller.window.is_loaded(), 20,
                    "the window to load")
        window = controller.window
        report["window_visible"] = window.isVisible()
        report["quit_on_last_window_closed"] = app.quitOnLastWindowClosed()
        time.sleep(0.5)
        app.processEvents()
        report["window_visible_after_events"] = window.isVisible()
        window.grab().save(str(out / "notray-window.png"))
        # Closing the window must end the app (nothing would be left to reach it).
        timed_out: list[bool] = []
        QTimer.singleShot(0, window.close)
        QTimer.singleShot(10_000, lambda: (timed_out.append(True), app.quit()))
        app.exec()
        report["closing_the_window_quit"] = not timed_out
        controller.shutdown()
    finally:
        with contextlib.suppress(Exception):
            local.stop()
