"""Child process of the cold-start and memory figures.

``python -m benchmarks.app_probe app [--settle-ms N] -- <phhub-keys arguments>``
runs the real app (``phhub_keys.gui.app.main``) and ``... bare`` runs the
baseline, a bare PySide6 script that shows an empty QDialog of the same size.
Each prints ``BENCH painted <monotonic>`` when its first paint (for the app:
the first paint of the key table showing rows, maybe the list it saved at its last start) has
completed and, for the app, ``BENCH confirmed <monotonic>`` for the first paint of the hub's
list (the same moment when no saved list was shown), then after
``--settle-ms`` ``BENCH rss=<bytes>`` and ``BENCH rows=<n>``, and exits at once.

The app is not modified: the probe is attached from outside by wrapping
``ManageKeysWindow.__init__`` the moment the app itself imports its module (an
import hook), so the app loads its modules in its own order and at its own time:
a probe that imported the window first would move that work before the app's own
start-up steps and hide what they do to it.
"""

from __future__ import annotations

import importlib.machinery
import os
import sys
import time
from collections.abc import Callable, Sequence
from types import ModuleType


def _rss_bytes() -> int:
    # Read here rather than imported from benchmarks.measure: the probe must not import
    # more than it has to (statistics, subprocess...), or it would slow both runs alike
    # and flatter the ratio.
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return -1


def _finish(rows: int, settle_ms: int, painted: float | None = None, confirmed: float | None = None) -> None:
    """Report the milestones and exit. ``painted``: the first paint showing rows, when it came
    before ``confirmed``, the hub-confirmed list's paint (default: now, for both)."""
    confirmed = time.monotonic() if confirmed is None else confirmed
    painted = confirmed if painted is None else painted

    def done() -> None:
        print(f"BENCH painted {painted:.6f}", flush=True)
        print(f"BENCH confirmed {confirmed:.6f}", flush=True)
        print(f"BENCH rows={rows}", flush=True)
        print(f"BENCH rss={_rss_bytes()}", flush=True)
        os._exit(0)  # measured; the app's orderly shutdown is not part of any figure

    if settle_ms:
        from PySide6.QtCore import QTimer

        QTimer.singleShot(settle_ms, done)
    else:
        done()


def run_bare(settle_ms: int) -> int:
    from PySide6.QtWidgets import QApplication, QDialog

    from benchmarks.qtprobe import PaintProbe

    app = QApplication(sys.argv[:1])
    dialog = QDialog()
    dialog.setWindowTitle("Manage MCP Keys")
    dialog.resize(1040, 680)
    PaintProbe(dialog, on_paint=lambda _t: _finish(0, settle_ms))
    dialog.show()
    return app.exec()


# What the floor modes import before showing the dialog: the modules the app loads on its way
# to the first paint (gui/app.py's _run_app), after the same start-up step.
APP_MODULES = ("phhub_keys.gui.settings", "phhub_keys.gui.single_instance", "phhub_keys.gui.tray",
               "phhub_keys.gui.controller", "phhub_keys.gui.manage_window", "phhub_keys.core.key_list_cache")


def run_floor(what: str) -> int:
    """The bare dialog plus one thing the app cannot do without, to show where the floor is.

    ``label``: one line of text (the first text laid out loads the font database, which the
    bare dialog never does); ``table``: a plain QTableView of the same 50 x 6 text cells, the
    least any window showing the list does; ``imports``: the app's start-up step and modules
    (APP_MODULES), then the bare dialog.
    """
    if what == "imports":
        from phhub_keys.gui import startup

        startup.prepare()
        for name in APP_MODULES:
            __import__(name)
    from PySide6.QtWidgets import QApplication, QDialog, QLabel, QVBoxLayout

    from benchmarks.qtprobe import PaintProbe

    app = QApplication(sys.argv[:1])
    dialog = QDialog()
    dialog.setWindowTitle("Manage MCP Keys")
    dialog.resize(1040, 680)
    target = dialog
    layout = QVBoxLayout(dialog)
    if what == "label":
        layout.addWidget(QLabel("Manage MCP Keys", dialog))
    elif what == "table":
        from PySide6.QtGui import QStandardItem, QStandardItemModel
        from PySide6.QtWidgets import QTableView

        model = QStandardItemModel(50, 6, dialog)
        for row in range(50):
            for column in range(6):
                model.setItem(row, column, QStandardItem(f"key {row} field {column}"))
        view = QTableView(dialog)
        view.setModel(model)
        layout.addWidget(view)
        target = view.viewport()
    PaintProbe(target, on_paint=lambda _t: _finish(0, 0))
    dialog.show()
    return app.exec()


def _attach(window_class: type, settle_ms: int) -> None:
    """Wrap ``window_class.__init__``: the first paint of its key table ends the run.

    The table's own ``paintEvent`` (a Python override, called for each paint of its viewport) is
    wrapped: the paint has completed when it returns. An event filter on ``view.viewport()``
    would do the same, but asking for the viewport makes PySide look up the Python type of a
    widget it has not wrapped yet, which creates ~40 widget classes' enums (~4 ms) that the app
    itself does not need before its first paint.
    """
    from PySide6.QtWidgets import QTableView

    original_init = window_class.__init__

    def init_with_probe(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        original_init(self, *args, **kwargs)
        view = self.findChild(QTableView, "keysTable")
        if view is None:
            raise RuntimeError("ManageKeysWindow has no QTableView named keysTable")
        model = view.model()
        first: list[float] = []
        window = self
        view_class = type(view)
        original_paint = view_class.paintEvent

        finished: list[bool] = []

        def paint_with_probe(painted, event):  # type: ignore[no-untyped-def]
            original_paint(painted, event)
            if finished or painted is not view or model.rowCount() == 0:
                return
            now = time.monotonic()
            if not first:
                first.append(now)
            if window.is_loaded():  # this paint shows the hub's list (maybe after a saved one)
                from phhub_keys.gui import workers

                finished.append(True)
                workers.wait_idle(10_000)  # the list the app saves for its next start (not timed)
                _finish(model.rowCount(), settle_ms, first[0], now)

        view_class.paintEvent = paint_with_probe

    window_class.__init__ = init_with_probe


class _WindowModuleHook:
    """A meta path finder that finds nothing itself: when the app imports the window's module,
    it wraps that module's loader so the probe is attached right after the module has run.
    (Duck-typed: importing importlib.abc would cost the probed app ~14 ms.)"""

    def __init__(self, module: str, attach: Callable[[ModuleType], None]) -> None:
        self.module = module
        self.attach = attach

    def find_spec(self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
                  ) -> importlib.machinery.ModuleSpec | None:
        if fullname != self.module:
            return None
        sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            raise RuntimeError(f"cannot find {fullname}")
        loader, attach = spec.loader, self.attach

        class Loader:
            def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
                return loader.create_module(spec)

            def exec_module(self, module: ModuleType) -> None:
                loader.exec_module(module)
                attach(module)

        spec.loader = Loader()
        return spec


def run_app(settle_ms: int, app_args: list[str]) -> int:
    hook = _WindowModuleHook("phhub_keys.gui.manage_window", lambda m: _attach(m.ManageKeysWindow, settle_ms))
    sys.meta_path.insert(0, hook)
    from phhub_keys.gui.app import main

    return main(app_args)


def main(argv: list[str]) -> int:
    mode, rest = argv[0], argv[1:]
    settle_ms = 0
    if rest[:1] == ["--settle-ms"]:
        settle_ms, rest = int(rest[1]), rest[2:]
    if rest[:1] == ["--"]:
        rest = rest[1:]
    if mode == "bare":
        return run_bare(settle_ms)
    if mode == "app":
        return run_app(settle_ms, rest)
    if mode == "floor":
        return run_floor(rest[0])
    raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
