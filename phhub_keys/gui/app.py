"""``phhub-keys`` (the GUI): argument parsing, display check, single instance, then the controller.

Qt is imported only after the arguments are parsed and a display is known to
exist, so ``phhub-keys --help`` stays fast and a headless machine gets one
clear line instead of Qt's abort.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Mapping
from pathlib import Path

APP_ID = "io.github.phhub_keys"  # the .desktop file's name (Wayland uses it to find the icon)
EXIT_NO_DISPLAY = 3
EXIT_HUB_FAILED = 4
HEADLESS_PLATFORMS = frozenset(
    {"offscreen", "minimal", "minimalegl", "vnc", "linuxfb", "eglfs", "vkkhrdisplay"}
)


# The top-level usage: `phhub-keys --help` and an unknown command print this parser's help (cli.py).
USAGE = """\
%(prog)s [--local] [--hub URL] [--new-key] [--self-test]   open the Manage MCP Keys app
       %(prog)s hub serve|add-user|set-password ...    run the local reference hub
       %(prog)s review [FILE ...] [--summary [--json]] review exported CSV files offline
       %(prog)s login|logout|keys|check-key|setup|where-used ...
                                                        scripting commands (see --help of each)"""


def build_parser() -> argparse.ArgumentParser:
    """The app's options; its help is also the top-level ``phhub-keys --help`` (Qt-free)."""
    from .. import __version__

    parser = argparse.ArgumentParser(
        prog="phhub-keys",
        usage=USAGE,
        description="Manage the MCP keys of your Performance Hub account.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}",
                        help="print the version")
    parser.add_argument("--local", action="store_true",
                        help="run the local reference hub inside the app and sign in to it automatically "
                             "(data in your user data folder; port 8750, or a free port when it is taken)")
    parser.add_argument("--hub", metavar="URL",
                        help="the hub to use (default: the one you last signed in to)")
    parser.add_argument("--allow-insecure-http", action="store_true",
                        help="allow plain http:// to a hub that is not on this computer (not recommended)")
    parser.add_argument("--port", type=int, default=None, metavar="N",
                        help="with --local: the port to try first (default 8750)")
    parser.add_argument("--new-key", action="store_true", help="open the window with the create form")
    parser.add_argument("--self-test", action="store_true",
                        help="with --local: create, rename, deactivate and delete a key through the real "
                             "window on a throw-away local hub (offscreen); exit 0 only if all of it worked")
    parser.add_argument("--self-test-timeout", type=float, default=90.0, metavar="SECONDS",
                        help=argparse.SUPPRESS)
    return parser


def display_problem(env: Mapping[str, str] | None = None, platform: str | None = None) -> str | None:
    """Why Qt could not open a window here, or None when it can (or we cannot tell)."""
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    if platform.startswith(("win", "darwin", "cygwin")):
        return None
    wanted = env.get("QT_QPA_PLATFORM", "")
    requested = [p.split(":")[0].strip().lower() for p in wanted.split(";") if p.strip()]
    has_x = bool(env.get("DISPLAY"))
    has_wayland = bool(env.get("WAYLAND_DISPLAY"))
    if not requested:
        if has_x or has_wayland:
            return None
        return ("no display available (DISPLAY and WAYLAND_DISPLAY are not set): start phhub-keys from a "
                "desktop session, or run 'phhub-keys --local --self-test' for a headless check")
    for name in requested:
        if name in HEADLESS_PLATFORMS or (name == "xcb" and has_x):
            return None
        if name.startswith("wayland"):
            runtime = env.get("XDG_RUNTIME_DIR", "")
            if has_wayland or (runtime and Path(runtime, "wayland-0").exists()):
                return None
        if name not in ("xcb",) and not name.startswith("wayland"):
            return None  # a platform we don't know: let Qt decide
    return (f"no display available for QT_QPA_PLATFORM={wanted} (DISPLAY/WAYLAND_DISPLAY not set): "
            "start phhub-keys from a desktop session, or set QT_QPA_PLATFORM=offscreen for a headless run")


def qt_library_problem(env: Mapping[str, str] | None = None, platform: str | None = None) -> str | None:
    """On Linux with X11: the system libraries Qt's xcb plugin lacks, with the apt-get line (else None).

    Checked before Qt loads, because a plugin that cannot load aborts the process.
    """
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    if not platform.startswith("linux"):
        return None
    wanted = [p.split(":")[0].strip().lower() for p in env.get("QT_QPA_PLATFORM", "").split(";") if p.strip()]
    x_session = bool(env.get("DISPLAY")) and not env.get("WAYLAND_DISPLAY")
    if not (wanted[:1] == ["xcb"] or (not wanted and x_session)):
        return None
    from ..core.paths import cache_dir
    from .qt_libs import x_server_problem, xcb_problem

    return xcb_problem(cache_dir()) or x_server_problem(env.get("DISPLAY", ""))


def main(argv: list[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(args_list)
    if args.port is not None and not 0 <= args.port <= 65535:
        print("phhub-keys: --port must be between 0 and 65535", file=sys.stderr)
        return 2
    if args.self_test:
        if not os.environ.get("QT_QPA_PLATFORM"):
            os.environ["QT_QPA_PLATFORM"] = "offscreen"
        if not args.local:
            print("phhub-keys: --self-test runs on a throw-away local hub (as with --local)", file=sys.stderr)
    problem = display_problem() or qt_library_problem()
    if problem:
        print(f"phhub-keys: {problem}", file=sys.stderr)
        return EXIT_NO_DISPLAY
    logging.basicConfig(level=logging.WARNING, format="phhub-keys: %(name)s: %(message)s")
    if args.self_test:
        from .self_test import run_self_test

        return run_self_test(timeout=args.self_test_timeout)
    return _run_app(args, args_list)


def _run_app(args: argparse.Namespace, argv: list[str]) -> int:
    from . import startup

    startup.prepare()  # first: GC paused until the window has painted, Qt loaded (gui/startup.py)
    try:
        return _run_qt_app(args, argv)
    finally:
        startup.finish()  # (done already once the window painted; here for every early return)


def _run_qt_app(args: argparse.Namespace, argv: list[str]) -> int:
    import signal

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from . import workers
    from .settings import LOCAL, REMOTE, AppSettings
    from .single_instance import SingleInstance, server_name

    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "phhub-keys"])
    assert isinstance(app, QApplication)
    from ..core.paths import APP_NAME

    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName("MCP Keys")
    app.setOrganizationName(APP_NAME)
    app.setDesktopFileName(APP_ID)
    from .tray import app_icon

    app.setWindowIcon(app_icon())

    settings = AppSettings(profile=LOCAL if args.local else REMOTE)
    # Plain `phhub-keys` is one instance whatever hub it signs in to; an explicit --hub is its own.
    mode = "local" if args.local else "remote"
    if args.hub and not args.local:
        mode = "hub:" + args.hub.strip().rstrip("/").lower()
    instance = SingleInstance(server_name(mode, str(settings.path.parent)))
    if instance.forward(argv):
        print("phhub-keys is already running; it was brought to the front.")
        return 0
    if not instance.listen() and instance.problem:
        print(f"phhub-keys: warning: {instance.problem}; a second launch will open a second window",
              file=sys.stderr)

    local = None
    if args.local:
        from ..hub.local import DEFAULT_PORT, LocalHub

        try:
            local = LocalHub(port=DEFAULT_PORT if args.port is None else args.port).start()
        except Exception as exc:
            print(f"phhub-keys: the local hub could not start: {exc}", file=sys.stderr)
            instance.close()
            return EXIT_HUB_FAILED
        if local.fell_back:
            print(f"phhub-keys: port {local.wanted_port} is taken; the local hub uses {local.url}")
        if local.created_account:
            print(f"phhub-keys: created the local account {local.email} ({local.db_path})")

    from .controller import AppController

    controller = AppController(settings, hub_url=args.hub, local=local,
                               allow_insecure_http=args.allow_insecure_http or None)
    instance.messageReceived.connect(controller.handle_message)

    # Ctrl+C in the terminal quits like the Quit action (Python only sees signals between Qt events).
    signal.signal(signal.SIGINT, lambda *_: controller.quit())
    ticker = QTimer()
    ticker.timeout.connect(lambda: None)
    ticker.start(300)

    controller.start(new_key=args.new_key)
    try:
        code = app.exec()
    finally:
        ticker.stop()
        controller.shutdown()
        workers.wait_idle(3000)
        instance.close()
    return int(code)
