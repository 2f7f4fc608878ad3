"""What the app does differently until its window has first painted, and why.

A returning user's start paints the saved key list before anything else
(docs/performance.md, "cold start"). Three things would slow that first paint
and nothing needs them before it:

- **The cyclic GC.** Importing the app creates tens of thousands of long-lived
  objects (modules, classes, Qt's enum types) and no garbage, yet every 700
  allocations a collection walks the young ones: ~10 ms of a ~250 ms start.
  It is paused from ``prepare()`` to ``finish()``; on resume the survivors move
  straight to the oldest generation (``gc.freeze`` + ``gc.unfreeze``, as in
  ``core.gc_pause``), where only the rare full collections look at them.
- **PySide's per-import source scan** (see ``_fast_feature_scan``).
- **Work on other threads.** A worker importing ``keyring`` competes with the GUI
  thread for the GIL while it paints, so the controller starts that work from
  ``after_first_paint``.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

FALLBACK_MS = 500  # after_first_paint runs its callback by then even if no paint came (hidden, minimised)
_SCAN_MARK = "_phhub_fast_source_scan"
_paused = False


def prepare() -> None:
    """Pause the GC and load Qt with the cheap source scan: the app's first step, before its modules."""
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True
    _fast_feature_scan()


def finish() -> None:
    """End what ``prepare`` started (once; later calls do nothing)."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.unfreeze()
        gc.enable()


def after_first_paint(widget: QWidget, callback: Callable[[], None], *,
                      fallback_ms: int = FALLBACK_MS) -> None:
    """Call ``callback`` once, on the event loop, right after ``widget`` has painted for the
    first time, or after ``fallback_ms`` if it has not painted by then (or was deleted)."""
    import shiboken6
    from PySide6.QtCore import QEvent, QObject, QTimer

    fired = False

    class PaintWatcher(QObject):
        def eventFilter(self, obj: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint:
                QTimer.singleShot(0, fire)  # once this paint has completed
            return False

    watcher = PaintWatcher(widget)

    def fire() -> None:
        nonlocal fired
        if fired:
            return
        fired = True
        if shiboken6.isValid(watcher):
            watcher.deleteLater()  # a deleted filter is removed with it
        callback()

    widget.installEventFilter(watcher)
    QTimer.singleShot(fallback_ms, fire)  # not tied to the widget: runs even if it is gone


def _fast_feature_scan() -> bool:
    """Import PySide6.QtCore and answer PySide's "does this module use PySide?" question cheaply.

    Why: once QtCore is loaded, PySide runs a hook after *every* import
    (``shibokensupport.feature.feature_imported``) that reads the new module's whole source
    through ``inspect.getsource`` (linecache + tokenize) and looks for the word "PySide6", to
    know whether ``from __feature__ import snake_case`` may switch it. Here the same question
    is answered from the file's bytes: the same answer for every source file (the word is
    ASCII), and PySide's own check for anything else (no file, a compiled module, a zip).
    Guarded: when PySide's internals are not as expected nothing is changed (True when the
    cheap scan is in place).
    """
    import PySide6.QtCore  # noqa: F401  (installs PySide's import hook)

    feature = sys.modules.get("shibokensupport.feature")
    original = getattr(feature, "_mod_uses_pyside", None)
    if feature is None or not callable(original):
        return False
    if getattr(original, _SCAN_MARK, False):
        return True

    def mod_uses_pyside(module: ModuleType) -> bool:
        path = getattr(module, "__file__", None)
        if not isinstance(path, str) or not path.endswith(".py"):
            return bool(original(module))
        try:
            with open(path, "rb") as source:
                return b"PySide6" in source.read()
        except OSError:
            return bool(original(module))

    setattr(mod_uses_pyside, _SCAN_MARK, True)
    feature._mod_uses_pyside = mod_uses_pyside  # type: ignore[attr-defined]
    return True
