"""In-process GUI figures: a big list's first paint, filter keystrokes, and stalls on a slow hub.

Each builds the real ``ManageKeysWindow`` (offscreen) over a real ``HubClient``
talking to a hub in its own process, and drives it through its public
methods, the way the app and the self-test do.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable

from .context import Context
from .hubproc import HubProcess
from .measure import Stats, check_part, ratio_of, time_calls
from .report import Row, ms, ms_spread, verdict

PAINT_TITLE = "{n} keys: list response parsed -> model filled -> first paint"
FILTER_TITLE = "filter keystroke on {n} keys"
STALL_TITLE = "longest GUI-thread stall during list/create/rename, hub answers after {d} s"
_PLAIN_COLUMNS = ("Key", "Status", "Label", "Created", "Last used", "Actions")
# Typed one key at a time: narrowing, widening, a non-ASCII label word, clearing.
_KEYSTROKES = [*"cursor", *["\b"] * 6, *"laptop 1", *["\b"] * 4, *"会议", *["\b"] * 2, *"zoë", *["\b"] * 3]


def _window(client, email: str, before_show: Callable[[object], object] | None = None):  # type: ignore[no-untyped-def]
    """A shown ManageKeysWindow (its first show starts the key list: callers must not list again
    before that answer, or two answers race for one paint)."""
    from phhub_keys.gui.manage_window import ManageKeysWindow

    from .qtprobe import ensure_app, settle

    ensure_app()
    window = ManageKeysWindow(client, account_text=email)
    window.confirm = lambda *_a: True  # no modal questions in a benchmark
    if before_show is not None:
        before_show(window)
    window.show()
    settle(50)
    return window


def _dispose(window, client) -> None:  # type: ignore[no-untyped-def]
    from phhub_keys.gui import workers

    from .qtprobe import settle

    workers.wait_idle(10_000)
    window.discard_secret()
    window.close()
    window.deleteLater()
    client.close()
    settle(20)


def _list_body(url: str, token: str) -> bytes:
    import requests

    with requests.Session() as session:
        response = session.get(url + "/api/v1/mcp/keys", headers={"Authorization": f"Bearer {token}"},
                               timeout=60)
        response.raise_for_status()
        return response.content


def _plain_view():  # type: ignore[no-untyped-def]
    """The baseline: a bare QTableView over a plain list model (display text only)."""
    from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
    from PySide6.QtWidgets import QTableView

    class PlainModel(QAbstractTableModel):
        def __init__(self) -> None:
            super().__init__()
            self.rows: list[tuple[str, ...]] = []

        def set_rows(self, rows: list[tuple[str, ...]]) -> None:
            self.beginResetModel()
            self.rows = rows
            self.endResetModel()

        def rowCount(self, parent=QModelIndex()) -> int:  # noqa: B008
            return 0 if parent.isValid() else len(self.rows)

        def columnCount(self, parent=QModelIndex()) -> int:  # noqa: B008
            return 0 if parent.isValid() else len(_PLAIN_COLUMNS)

        def data(self, index, role=Qt.ItemDataRole.DisplayRole):  # type: ignore[no-untyped-def]
            if role == Qt.ItemDataRole.DisplayRole:
                return self.rows[index.row()][index.column()]
            return None

        def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # type: ignore[no-untyped-def]
            if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
                return _PLAIN_COLUMNS[section]
            return None

    model = PlainModel()
    view = QTableView()
    view.setModel(model)
    view.resize(1040, 680)
    return view, model


def _plain_rows(body: bytes) -> list[tuple[str, ...]]:
    return [(k["redacted"], k["status"], k["label"], k["created_at"], k["last_used_at"] or "Never", "")
            for k in json.loads(body)["keys"]]


def big_list_paint(ctx: Context) -> Row:
    """From the list response's body in hand to the first completed paint of the table showing it.

    Window: the body-received moment is the HubClient's own ``on_request`` hook
    (called once the response is read, before parsing, on the worker thread);
    from there the real path runs: parse into McpKey (worker), queued signal,
    model reset, sort, proxy, first paint (GUI thread). Baseline: json.loads of
    the same body into plain tuples, a model reset, the first paint.
    """
    from phhub_keys.api.client import HubClient
    from phhub_keys.core.models import keys_from_json, keys_from_list_body
    from phhub_keys.gui.keys_model import KeysModel

    from .qtprobe import PaintProbe, ensure_app, settle, wait_until

    ensure_app()
    hub = ctx.seeded(ctx.sizes.keys)
    repeats = ctx.sizes.repeats
    window_samples: list[float] = []
    base_samples: list[float] = []
    with HubProcess(hub.db_path) as proc:
        body = _list_body(proc.url, hub.token)
        view, model = _plain_view()
        view.show()
        settle(50)
        base_probe = PaintProbe(view.viewport(), model.rowCount)
        for i in range(repeats + 1):
            # -- window ------------------------------------------------------------------------
            received: list[float] = []

            def on_request(record, received=received) -> None:  # type: ignore[no-untyped-def]
                if record.method == "GET" and record.path == "/mcp/keys" and record.status == 200:
                    received.append(time.perf_counter())

            # One list per window: the one its first show starts. (The figure used to call
            # refresh() after show as well; two lists were then in flight, the first answer
            # painted, and the *second* answer's stamp was subtracted from that paint: -36 ms.)
            client = HubClient(proc.url, hub.token, on_request=on_request, timeout=60)
            seen_at_paint: list[int] = []  # list answers stamped when the first rows painted
            probes: list[PaintProbe] = []

            def attach(w, seen=seen_at_paint, got=received, probes=probes) -> None:  # type: ignore[no-untyped-def]
                probes.append(PaintProbe(w.table.viewport(), w.model.rowCount,
                                         on_paint=lambda _t: seen.append(len(got))))

            window = _window(client, hub.email, before_show=attach)
            probe = probes[0]
            wait_until(lambda probe=probe: probe.painted_at is not None, 120, "the key table's first paint")
            if window.key_count() != hub.keys:
                raise RuntimeError(f"the window shows {window.key_count()} keys, expected {hub.keys}")
            if seen_at_paint[:1] != [1]:
                raise RuntimeError(f"{seen_at_paint[:1] or 'no'} key-list answers had arrived at the first "
                                   "paint, expected exactly 1: the paint cannot be paired with its answer")
            if i:
                window_samples.append(probe.painted_at - received[0])  # type: ignore[operator]
            _dispose(window, client)
            # -- baseline ----------------------------------------------------------------------
            model.set_rows([])
            settle(20)
            base_probe.arm()
            start = time.perf_counter()
            model.set_rows(_plain_rows(body))
            wait_until(lambda: base_probe.painted_at is not None, 60, "the plain table's first paint")
            if i:
                base_samples.append(base_probe.painted_at - start)  # type: ignore[operator]
        view.close()
    # Where the time goes (same body, same machine), for the notes.
    def client_parse() -> list:  # what HubClient.list_keys does (msgspec for big lists, else json)
        fast = keys_from_list_body(body)
        return fast if fast is not None else keys_from_json(json.loads(body)["keys"])

    parse = time_calls(client_parse, 3)
    keys = client_parse()
    path = "msgspec keys_from_list_body" if keys_from_list_body(body) is not None else "json + keys_from_json"
    fill = time_calls(lambda: KeysModel().set_keys(keys), 3)
    win = Stats.of(window_samples, "answer received -> first paint")
    base = Stats.of(base_samples, "plain view: reset -> first paint")
    r = ratio_of(win.median, base.median, "big list paint")
    check_part(parse.median + fill.median, win.median, "parse + set_keys within the paint figure")
    row = Row(PAINT_TITLE.format(n=f"{hub.keys:,}"), value=ms_spread(win.median, win.min, win.max),
              baseline=ms_spread(base.median, base.min, base.max) + " plain view",
              ratio=f"{r:.2f}x", target="<= 2x and < 150 ms",
              verdict=verdict(r <= 2 and win.median < 0.150, ctx.quick))
    row.notes.append(f"median of {win.n}; of which parse ({path}, worker thread) "
                     f"~{ms(parse.median)}, "
                     f"KeysModel.set_keys ~{ms(fill.median)}; {len(body) / 1e6:.1f} MB body")
    return row


def filter_keystroke(ctx: Context) -> Row:
    """Each key typed into the filter field: key press -> filtered table painted."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from phhub_keys.api.client import HubClient

    from .qtprobe import PaintProbe, wait_until

    hub = ctx.seeded(ctx.sizes.keys)
    strokes = _KEYSTROKES[: ctx.sizes.keystrokes]
    samples: list[float] = []
    no_paint = 0
    with HubProcess(hub.db_path) as proc:
        client = HubClient(proc.url, hub.token, timeout=60)
        window = _window(client, hub.email)  # its first show lists the keys
        wait_until(lambda: window.key_count() == hub.keys and window.table.isVisible(), 120, "the key list")
        probe = PaintProbe(window.table.viewport())
        from .qtprobe import settle

        settle(100)
        window.focus_filter()
        for stroke in strokes:
            probe.arm()
            start = time.perf_counter()
            if stroke == "\b":
                QTest.keyClick(window.filter_input, Qt.Key.Key_Backspace)
            else:
                QTest.keyClicks(window.filter_input, stroke)
            handled = time.perf_counter()  # the filtering itself runs inside the key event
            try:
                wait_until(lambda: probe.painted_at is not None, 1.0, "a repaint after the keystroke")
                samples.append(probe.painted_at - start)  # type: ignore[operator]
            except TimeoutError:  # the visible rows did not change: the cost is the key handling
                no_paint += 1
                samples.append(handled - start)
        typed = window.filter_input.text()
        _dispose(window, client)
    stats = Stats.of(samples, "keystroke -> repaint")
    ok = stats.median < 0.016 and stats.max < 0.050
    row = Row(FILTER_TITLE.format(n=f"{hub.keys:,}"),
              value=f"median {ms(stats.median)}, max {ms(stats.max)}", target="median < 16 ms, max < 50 ms",
              verdict=verdict(ok, ctx.quick))
    row.notes.append(f"{len(strokes)} keystrokes (typing and deleting 'cursor', 'laptop 1', '会议', 'zoë'), "
                     f"each timed from key press to the table's repaint; field left as {typed!r}"
                     + (f"; {no_paint} changed nothing on screen (timed to the end of the key handling)"
                        if no_paint else ""))
    return row


def slow_hub_stall(ctx: Context) -> Row:
    """A QTimer heartbeat (5 ms) runs while the window lists, creates and renames against a hub
    that answers every API request after ``slow_delay`` seconds; the longest gap between two
    ticks is the longest time the GUI thread could not respond."""
    from phhub_keys.api.client import HubClient

    from .qtprobe import Heartbeat, settle, wait_until

    delay = ctx.sizes.slow_delay
    hub = ctx.seeded(ctx.sizes.startup_keys)
    gaps: dict[str, float] = {}
    heartbeat = Heartbeat(5)
    with HubProcess(hub.db_path, delay=delay) as proc:
        client = HubClient(proc.url, hub.token, timeout=30)
        window = _window(client, hub.email)
        timeout = 10 + 4 * delay

        def phase(name: str, action: Callable[[], object], done: Callable[[], bool]) -> None:
            settle(30)
            started = time.perf_counter()
            heartbeat.start()
            action()
            wait_until(done, timeout, name)
            settle(60)  # the answer's aftermath (repaint, timers) counts too
            heartbeat.stop()
            took = time.perf_counter() - started  # holds every heartbeat gap of the phase
            if took < delay:
                raise RuntimeError(f"{name} finished in {took:.2f} s: the hub was not slow")
            gaps[name] = check_part(heartbeat.longest_gap, took, f"longest GUI stall during {name}")

        phase("list", window.refresh, lambda: window.is_loaded() and not window.is_busy())
        count = window.key_count()
        phase("create", lambda: window.create_key("bench stall key"),
              lambda: window.key_count() == count + 1 and not window.is_busy())
        key = window.model.key_at(window.model.row_of(window.model.keys()[0].id) or 0)
        phase("rename", lambda: window.rename_key(key.id, "bench stall renamed"),
              lambda: not window.is_busy() and window.model.key_by_id(key.id).label == "bench stall renamed")
        _dispose(window, client)
    worst = max(gaps, key=gaps.__getitem__)
    value = gaps[worst]
    row = Row(STALL_TITLE.format(d=delay), value=f"{ms(value)} ({worst})", target="< 50 ms",
              verdict=verdict(value < 0.050, ctx.quick))
    row.notes.append("longest heartbeat gap per phase: "
                     + ", ".join(f"{k} {ms(v)}" for k, v in gaps.items())
                     + f"; 5 ms QTimer, median gap {ms(statistics.median(heartbeat.gaps or [0]))}")
    return row
