"""Running blocking calls (hub requests) off the GUI thread and reporting back by signal.

``run_in_pool(fn, *args)`` runs ``fn`` on a QThreadPool worker and returns a
``Job`` that lives on the GUI thread; its ``succeeded(result)`` or
``failed(exception)`` signal is delivered there (queued), so slots may touch
widgets. A slow or dead hub therefore never freezes a window.
"""

from __future__ import annotations

import atexit
import contextlib
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QCoreApplication, QDeadlineTimer, QObject, QRunnable, Qt, QThreadPool, Signal

_MAX_THREADS = 4
_pool: QThreadPool | None = None
_active: set[Job] = set()
_lock = threading.Lock()
# Set once the interpreter is exiting: a call still running then has nobody to report to.
_closing = threading.Event()
EXIT_WAIT_MS = 5000


def pool() -> QThreadPool:
    """The pool every hub call uses (separate from the global one so tests can wait on it)."""
    global _pool
    if _pool is None:
        _pool = QThreadPool()
        _pool.setObjectName("phhubKeysWorkers")
        _pool.setMaxThreadCount(_MAX_THREADS)
        # Registered after PySide's own exit hook, so it runs first: the Jobs still exist while
        # the workers finish, and none reports into objects PySide is tearing down.
        atexit.register(shutdown)
    return _pool


class Job(QObject):
    """One call in flight. Emits exactly one of ``succeeded``/``failed``, then ``finished``."""

    succeeded = Signal(object)
    failed = Signal(object)
    finished = Signal()
    # Emitted on the worker thread; queued to ``_deliver`` on the GUI thread. The public
    # signals are emitted only from there, so a caller may connect after run_in_pool()
    # returned without racing a fast worker.
    _outcome = Signal(bool, object)

    def __init__(self, name: str = "") -> None:
        super().__init__()
        self.name = name
        self.done = False
        self._outcome.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    def _deliver(self, ok: bool, payload: object) -> None:
        try:
            (self.succeeded if ok else self.failed).emit(payload)
        finally:
            del payload
            self.done = True
            self.finished.emit()
            # The slots connected to this Job (lambdas that hold a window, a session...) are held
            # by the C++ object, and this Job is held by them: a cycle Python's GC cannot see.
            # Deleting the C++ object drops the connections: without this every Job lived on,
            # and with it every closed review window and its 100,000-row document (~70 MB each).
            self.deleteLater()

    def __repr__(self) -> str:
        return f"Job({self.name!r}, done={self.done})"


class _Runnable(QRunnable):
    def __init__(self, job: Job, fn: Callable[..., Any], args: tuple, kwargs: dict) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._job = job
        self._call: tuple[Callable[..., Any], tuple, dict] | None = (fn, args, kwargs)

    def run(self) -> None:
        job = self._job
        fn, args, kwargs = self._call or (None, (), {})
        self._call = None  # drop references (e.g. a secret-bearing result) as soon as possible
        try:
            result = fn(*args, **kwargs) if fn else None
        except BaseException as exc:
            _report(job, False, exc)
        else:
            _report(job, True, result)
            del result


def _report(job: Job, ok: bool, payload: object) -> None:
    """Queue the outcome to the GUI thread, unless the app is gone (then there is no one to tell)."""
    if _closing.is_set():
        return
    # "Signal source has been deleted" (RuntimeError): PySide destroyed the Job at interpreter
    # exit while this call was still running (a slow hub). The result has no receiver left.
    with contextlib.suppress(RuntimeError):
        job._outcome.emit(ok, payload)


def _forget(job: Job) -> None:
    job.done = True
    with _lock:
        _active.discard(job)


def run_in_pool(fn: Callable[..., Any], *args: Any, name: str = "", **kwargs: Any) -> Job:
    """Run ``fn(*args, **kwargs)`` on a worker thread; connect to the returned Job's signals.

    Must be called on the GUI thread (the Job must live there so its signals
    arrive there). Connect before returning to the event loop; the result is
    never delivered synchronously.
    """
    app = QCoreApplication.instance()
    if app is not None and threading.current_thread() is not threading.main_thread():
        raise RuntimeError("run_in_pool must be called from the GUI thread")
    job = Job(name or getattr(fn, "__name__", "job"))
    job.finished.connect(lambda: _forget(job))
    with _lock:
        _active.add(job)
    pool().start(_Runnable(job, fn, args, kwargs))
    return job


def active_jobs() -> int:
    """How many jobs have not reported yet (for busy indicators and tests)."""
    with _lock:
        return len(_active)


def shutdown(timeout_ms: int = EXIT_WAIT_MS) -> bool:
    """Stop reporting results, drop calls not yet started and wait for running ones (app exit).

    After this no Job emits anything: the windows that would receive results are
    being destroyed. Returns False when a call was still running at the timeout.
    """
    _closing.set()
    if _pool is None:
        return True
    _pool.clear()
    return _pool.waitForDone(QDeadlineTimer(timeout_ms))


def wait_idle(timeout_ms: int = 15000) -> bool:
    """Block until every worker finished (shutdown and test teardown), then deliver results."""
    done = pool().waitForDone(QDeadlineTimer(timeout_ms))
    for _ in range(3):  # a delivered result may start another job's delivery chain
        QCoreApplication.processEvents()
    return done
