"""gui/startup.py: what the app does until its window has first painted (issue 15: cold start).

The PySide and GC checks run in a child interpreter: both change process-wide state.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QWidget

from phhub_keys.gui import startup

ROOT = Path(__file__).resolve().parents[2]


def _child(code: str, tmp_path: Path | None = None) -> str:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=120, check=False, env=env, cwd=tmp_path or ROOT)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return done.stdout


def test_the_cheap_source_scan_answers_as_pysides_own_for_every_loaded_module():
    out = _child("""
        import sys
        import PySide6.QtCore
        import shibokensupport.feature as feature
        original = feature._mod_uses_pyside
        from phhub_keys.gui import startup
        assert startup._fast_feature_scan() and startup._fast_feature_scan()  # twice: no double wrap
        cheap = feature._mod_uses_pyside
        assert cheap is not original and getattr(cheap, startup._SCAN_MARK)
        import phhub_keys.gui.manage_window, phhub_keys.gui.controller, json, csv, zlib, _csv
        modules = [m for m in list(sys.modules.values()) if m is not None]
        differ = [m.__name__ for m in modules if bool(cheap(m)) != bool(original(m))]
        assert not differ, differ
        uses = {m.__name__ for m in modules if cheap(m)}
        assert "phhub_keys.gui.manage_window" in uses and "json" not in uses and "zlib" not in uses
        print(len(modules))
    """)
    assert int(out.split()[-1]) > 200


def test_a_module_can_still_switch_on_snake_case_after_the_swap(tmp_path: Path):
    """PySide's feature switching works as without the swap: the module asking for snake_case
    gets it, the (file-based) main module that did not ask keeps Qt's own names."""
    (tmp_path / "snaky.py").write_text(textwrap.dedent("""
        from __feature__ import snake_case  # noqa: F401
        from PySide6.QtCore import QObject

        def named(text):
            obj = QObject()
            obj.set_object_name(text)
            return obj.object_name()
    """))
    (tmp_path / "main.py").write_text(textwrap.dedent("""
        import sys
        sys.path.insert(0, ".")
        if sys.argv[1] == "swap":
            from phhub_keys.gui import startup
            startup.prepare()
        else:
            import PySide6.QtCore  # __feature__ exists once QtCore is loaded
        import snaky
        from PySide6.QtCore import QObject
        print(snaky.named("switched"), hasattr(QObject(), "setObjectName"))
    """))
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    answers = []
    for mode in ("pyside", "swap"):
        done = subprocess.run([sys.executable, "main.py", mode], capture_output=True, text=True, timeout=120,
                              check=False, env=env, cwd=tmp_path)
        assert done.returncode == 0, done.stderr[-3000:]
        answers.append(done.stdout.split())
    assert answers == [["switched", "True"], ["switched", "True"]]


def test_the_gc_is_paused_until_finish_and_resumed_once():
    out = _child("""
        import gc
        from phhub_keys.gui import startup
        startup.prepare()
        paused = not gc.isenabled()
        startup.finish()
        resumed = gc.isenabled()
        gc.disable()
        startup.finish()  # a second finish must not undo a pause that is not ours
        print(paused, resumed, gc.isenabled())
    """)
    assert out.split() == ["True", "True", "False"]


def test_the_app_resumes_the_gc_when_it_returns_before_any_window(tmp_path: Path):
    out = _child("""
        import gc
        from phhub_keys.gui import app, single_instance
        single_instance.SingleInstance.forward = lambda self, argv: True  # "already running"
        code = app.main(["--hub", "https://hub.example.org"])
        print(code, gc.isenabled())
    """, tmp_path)
    assert out.split()[-2:] == ["0", "True"]


class _PaintCounter(QObject):
    def __init__(self, widget: QWidget) -> None:
        super().__init__(widget)
        self.paints = 0
        widget.installEventFilter(self)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.paints += 1
        return False


def test_after_first_paint_runs_once_after_the_paint(qtbot: Any):
    widget = QWidget()
    qtbot.addWidget(widget)
    counter = _PaintCounter(widget)
    seen: list[int] = []
    startup.after_first_paint(widget, lambda: seen.append(counter.paints), fallback_ms=60_000)
    qtbot.wait(50)
    assert seen == []  # not shown, not painted: not yet
    widget.show()
    qtbot.waitUntil(lambda: seen != [], timeout=5000)
    widget.update()
    qtbot.waitUntil(lambda: counter.paints >= 2, timeout=5000)
    qtbot.wait(20)
    assert len(seen) == 1 and seen[0] >= 1


def test_after_first_paint_falls_back_when_the_widget_never_paints_or_is_deleted(qtbot: Any):
    hidden = QWidget()
    qtbot.addWidget(hidden)
    gone = QWidget()
    seen: list[str] = []
    startup.after_first_paint(hidden, lambda: seen.append("hidden"), fallback_ms=30)
    startup.after_first_paint(gone, lambda: seen.append("gone"), fallback_ms=30)
    gone.deleteLater()
    qtbot.waitUntil(lambda: sorted(seen) == ["gone", "hidden"], timeout=5000)
    qtbot.wait(60)
    assert sorted(seen) == ["gone", "hidden"]
