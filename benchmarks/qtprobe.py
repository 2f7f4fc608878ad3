"""Qt helpers for measuring: when a paint *finished*, waiting without sleeping, a heartbeat.

Imported only by GUI figures and child processes (never by the harness itself).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QEvent, QEventLoop, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QApplication, QWidget


def ensure_app() -> QApplication:
    app = QApplication.instance()
    if app is None:
        app = QApplication(["phhub-bench"])
    assert isinstance(app, QApplication)
    return app


class PaintProbe(QObject):
    """Notes the moment a paint of ``widget`` has *completed*.

    An event filter only sees an event before it is handled, so the probe
    handles the paint itself: it re-sends the event to the widget (the filter
    lets that one through), reads the clock, and swallows the original. The
    painter redirection of the backing store is still active at that point, so
    the widget paints exactly as it would have.
    """

    painted = Signal()

    def __init__(self, widget: QWidget, rows: Callable[[], int] | None = None,
                 on_paint: Callable[[float], None] | None = None) -> None:
        super().__init__(widget)
        self.widget = widget
        self._rows = rows
        self._on_paint = on_paint
        self._inside = False
        self.painted_at: float | None = None  # first paint (with rows, if asked) since arm()
        self.paints = 0
        widget.installEventFilter(self)

    def arm(self) -> None:
        self.painted_at = None

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if obj is not self.widget or self._inside or event.type() != QEvent.Type.Paint:
            return False
        self._inside = True
        try:
            QCoreApplication.sendEvent(obj, event)
        finally:
            self._inside = False
        done = time.perf_counter()
        self.paints += 1
        if self.painted_at is None and (self._rows is None or self._rows() > 0):
            self.painted_at = done
            if self._on_paint is not None:
                self._on_paint(done)
            self.painted.emit()
        return True


def wait_until(condition: Callable[[], bool], timeout: float = 30.0, what: str = "condition") -> None:
    """Run the event loop until ``condition()`` holds (polled every 50 ms); TimeoutError after ``timeout``.

    The poll only decides when the wait ends: every figure's time is stamped by its probe
    (PaintProbe, signals), so a coarse poll loses no precision. A 2 ms poll woke the GUI thread
    500 times a second to take the GIL from the worker being measured (the CSV review's load).
    """
    if condition():
        return
    loop = QEventLoop()
    poll = QTimer()
    poll.setTimerType(Qt.TimerType.PreciseTimer)
    poll.setInterval(50)
    deadline = time.monotonic() + timeout
    timed_out = []

    def check() -> None:
        if condition():
            loop.quit()
        elif time.monotonic() > deadline:
            timed_out.append(True)
            loop.quit()

    poll.timeout.connect(check)
    poll.start()
    loop.exec()
    poll.stop()
    if timed_out:
        raise TimeoutError(f"waited {timeout:.0f} s for {what}")


def settle(ms: int = 50) -> None:
    """Let pending events (layouts, paints, deferred deletes) run for ``ms`` milliseconds."""
    end = time.monotonic() + ms / 1000
    wait_until(lambda: time.monotonic() >= end, timeout=ms / 1000 + 5)
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


class Heartbeat(QObject):
    """A QTimer ticking every ``interval_ms`` on the GUI thread; a late tick is a stall.

    ``longest_gap`` is the longest time between two ticks: with nothing blocking
    the thread it stays near the interval; a handler that blocks for 80 ms shows
    as a gap of ~80 ms.
    """

    def __init__(self, interval_ms: int = 5) -> None:
        super().__init__()
        self.interval = interval_ms / 1000
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)
        self._last: float | None = None
        self.gaps: list[float] = []

    def _tick(self) -> None:
        now = time.perf_counter()
        if self._last is not None:
            self.gaps.append(now - self._last)
        self._last = now

    def start(self) -> None:
        self._last = None
        self.gaps.clear()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    @property
    def longest_gap(self) -> float:
        return max(self.gaps, default=0.0)
