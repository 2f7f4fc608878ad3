"""The key table model (with its built-in filter) and the worker pool, without a hub."""

from __future__ import annotations

import sys
import threading
from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QFontInfo

from phhub_keys.core.keyformat import generate_key, redact
from phhub_keys.core.models import KeyStatus, McpKey
from phhub_keys.gui import workers
from phhub_keys.gui.keys_model import Col, KeysModel, Role, actions_for, relative_time

NOW = datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC)


def make_key(i: int, label: str, status: KeyStatus = KeyStatus.ACTIVE, *, used: timedelta | None = None,
             client: str | None = None) -> McpKey:
    return McpKey(
        id=f"mk_{i:016x}",
        label=label,
        redacted=redact(generate_key()),
        status=status,
        created_at=NOW - timedelta(days=i),
        last_used_at=NOW - used if used is not None else None,
        last_used_client=client,
        last_used_ip="127.0.0.1" if used is not None else None,
        deactivated_at=NOW if status is KeyStatus.DEACTIVATED else None,
    )


@pytest.fixture
def keys() -> list[McpKey]:
    return [
        make_key(1, "OpenAI AgentKit", used=timedelta(minutes=3), client="Cursor 1.7.2"),
        make_key(2, "Cursor laptop", KeyStatus.DEACTIVATED),
        make_key(3, "claude desktop", used=timedelta(days=2)),
        make_key(4, "Été — ünïcode ✓"),
    ]


@pytest.fixture
def model(qapp, keys) -> KeysModel:
    m = KeysModel()
    m.set_keys(keys, now=NOW)
    return m


def test_signal_emit_keeps_refcounts(qapp) -> None:
    """PySide6 6.12.0 drops a reference to True on every Signal.emit() and crashes after ~500
    emits; the project needs a PySide6 without that bug (6.11.x works)."""

    class Emitter(QObject):
        fired = Signal(int)

    emitter = Emitter()
    received: list[int] = []
    emitter.fired.connect(received.append)
    before = sys.getrefcount(True)
    for i in range(200):
        emitter.fired.emit(i)
    assert len(received) == 200
    # The bug loses one reference per emit (-200 here); other threads of the run (hubs, workers)
    # also take and drop references to True meanwhile, so allow noise well below that.
    assert sys.getrefcount(True) >= before - 100


def test_qmodeltester_on_model_filtered_and_sorted(qtmodeltester, model: KeysModel) -> None:
    qtmodeltester.check(model, force_py=False)
    model.set_filter("cursor")
    qtmodeltester.check(model, force_py=False)
    model.set_filter("")
    model.sort(Col.LABEL, Qt.SortOrder.DescendingOrder)
    qtmodeltester.check(model, force_py=False)


def test_qmodeltester_python_checks(qtmodeltester, model: KeysModel) -> None:
    qtmodeltester.check(model, force_py=True)


def test_display_strings(model: KeysModel, keys: list[McpKey]) -> None:
    index = model.index(0, Col.KEY)
    assert index.data() == keys[0].redacted
    assert QFontInfo(index.data(Qt.ItemDataRole.FontRole)).fixedPitch()
    assert model.index(0, Col.LABEL).data(Qt.ItemDataRole.FontRole) is None
    assert model.index(0, Col.STATUS).data() == "Active"
    assert model.index(1, Col.STATUS).data() == "Deactivated"
    assert model.index(0, Col.LAST_USED).data() == "3 min ago"
    assert model.index(1, Col.LAST_USED).data() == "Never"
    assert model.index(2, Col.LAST_USED).data() == "2 days ago"
    tip = model.index(0, Col.LAST_USED).data(Qt.ItemDataRole.ToolTipRole)
    assert "Cursor 1.7.2" in tip and "127.0.0.1" in tip and "2026-11-26T11:57:00Z" in tip
    assert model.index(0, Col.ACTIONS).data(Role.ACTIONS) == ("deactivate", "rotate")
    assert model.index(1, Col.ACTIONS).data(Role.ACTIONS) == ("reactivate", "delete")
    assert model.headerData(Col.LAST_USED, Qt.Orientation.Horizontal) == "Last used"
    assert [model.headerData(c, Qt.Orientation.Horizontal) for c in Col] == [
        "Key", "Status", "Label", "Created", "Last used", "Expires", "Actions"]


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(seconds=5), "just now"),
        (timedelta(seconds=59), "just now"),
        (timedelta(minutes=1), "1 min ago"),
        (timedelta(minutes=59, seconds=59), "59 min ago"),
        (timedelta(hours=5), "5 h ago"),
        (timedelta(days=1, hours=2), "yesterday"),
        (timedelta(days=12), "12 days ago"),
        (timedelta(seconds=-30), "just now"),  # clock skew: never "in the future"
    ],
)
def test_relative_time(delta: timedelta, text: str) -> None:
    assert relative_time(NOW - delta, NOW) == text


def test_relative_time_old_dates_are_dates() -> None:
    assert relative_time(NOW - timedelta(days=45), NOW).count("-") == 2


def test_actions_only_delete_when_deactivated() -> None:
    assert "delete" not in actions_for(KeyStatus.ACTIVE)
    assert actions_for(KeyStatus.DEACTIVATED) == ("reactivate", "delete")
    assert actions_for(KeyStatus.EXPIRED) == ("delete",)  # expired: delete without deactivating first
    assert actions_for(KeyStatus.ACTIVE, rotated=True) == ("deactivate",)  # the hub refuses a 2nd rotation


def test_label_edit_is_validated_then_requested(qtbot, model: KeysModel, keys: list[McpKey]) -> None:
    index = model.index(0, Col.LABEL)
    assert model.flags(index) & Qt.ItemFlag.ItemIsEditable
    assert not model.flags(model.index(0, Col.KEY)) & Qt.ItemFlag.ItemIsEditable
    with qtbot.waitSignal(model.labelRejected) as rejected:
        assert not model.setData(index, "bad\u202elabel")
    assert rejected.args[0] == keys[0].id and "direction" in rejected.args[1]
    assert index.data() == "OpenAI AgentKit"
    with qtbot.assertNotEmitted(model.renameRequested):
        assert not model.setData(index, "  OpenAI AgentKit ")  # unchanged after trimming
    with qtbot.waitSignal(model.renameRequested) as requested:
        assert model.setData(index, "  Agent Builder  ")
    assert requested.args == [keys[0].id, "Agent Builder"]
    assert index.data() == "Agent Builder"  # pending, shown until the hub answers
    assert index.data(Role.SAVE_STATE) == "saving"
    assert index.data(Role.BUSY) is True
    assert not model.flags(index) & Qt.ItemFlag.ItemIsEditable
    model.revert_pending(keys[0].id)
    assert index.data() == "OpenAI AgentKit" and index.data(Role.SAVE_STATE) is None


def test_upsert_replaces_or_inserts_and_remove(qtbot, model: KeysModel, keys: list[McpKey]) -> None:
    changed = McpKey(**{**{f: getattr(keys[1], f) for f in McpKey.__slots__}, "status": KeyStatus.ACTIVE})
    with qtbot.waitSignal(model.dataChanged):
        assert model.upsert_key(changed) == 1
    assert model.index(1, Col.STATUS).data() == "Active"
    new = make_key(0, "Newest")
    with qtbot.waitSignal(model.rowsInserted):
        row = model.upsert_key(new)
    assert row == 0 and model.rowCount() == 5 and model.row_of(new.id) == 0
    assert model.row_of(keys[0].id) == 1
    with qtbot.waitSignal(model.rowsRemoved):
        assert model.remove_key(keys[0].id)
    assert model.rowCount() == 4 and model.row_of(keys[0].id) is None
    assert not model.remove_key("mk_missing")


def test_sort_moves_persistent_indexes(model: KeysModel, keys: list[McpKey]) -> None:
    followed = QPersistentModelIndex(model.index(model.row_of(keys[2].id), Col.LABEL))
    model.sort(Col.LABEL, Qt.SortOrder.AscendingOrder)
    labels = [model.index(r, Col.LABEL).data() for r in range(model.rowCount())]
    assert labels == ["claude desktop", "Cursor laptop", "Été — ünïcode ✓", "OpenAI AgentKit"]
    assert followed.data() == "claude desktop" and followed.row() == model.row_of(keys[2].id)
    model.sort(Col.LAST_USED, Qt.SortOrder.DescendingOrder)
    assert model.index(0, Col.LAST_USED).data() == "3 min ago"
    assert model.index(3, Col.LAST_USED).data() == "Never"
    # inserting under an active sort keeps the order
    model.sort(Col.CREATED, Qt.SortOrder.DescendingOrder)
    model.upsert_key(make_key(0, "Newest"))
    assert model.index(0, Col.LABEL).data() == "Newest"


def test_filter_label_key_status(qtbot, model: KeysModel, keys: list[McpKey]) -> None:
    def shown() -> set[str]:
        return {model.index(r, Col.LABEL).data() for r in range(model.rowCount())}

    with qtbot.waitSignal(model.modelReset):
        model.set_filter("CURSOR")
    assert shown() == {"Cursor laptop"}
    assert model.total_count() == 4 and len(model.keys()) == 4  # filtered out, not forgotten
    assert model.row_of(keys[0].id) is None and model.key_by_id(keys[0].id) == keys[0]
    model.set_filter("deactivated")
    assert shown() == {"Cursor laptop"}
    model.set_filter("active")
    assert shown() == {"OpenAI AgentKit", "claude desktop", "Été — ünïcode ✓"}
    model.set_filter(keys[3].redacted[4:10])
    assert shown() == {"Été — ünïcode ✓"}
    model.set_filter("été")
    assert shown() == {"Été — ünïcode ✓"}
    model.set_filter("   ")
    assert model.rowCount() == 4
    model.set_filter("nothing matches this")
    assert model.rowCount() == 0


def test_updates_while_filtered(qtbot, model: KeysModel, keys: list[McpKey]) -> None:
    model.set_filter("laptop")
    assert model.rowCount() == 1
    with qtbot.assertNotEmitted(model.rowsInserted):
        assert model.upsert_key(make_key(0, "not matching")) is None
    assert model.total_count() == 5 and model.rowCount() == 1
    with qtbot.waitSignal(model.rowsInserted):
        assert model.upsert_key(make_key(9, "second laptop")) is not None
    assert model.rowCount() == 2
    # a hidden key is updated and removed without touching the visible rows
    changed = McpKey(**{**{f: getattr(keys[0], f) for f in McpKey.__slots__}, "label": "renamed"})
    with qtbot.assertNotEmitted(model.dataChanged):
        assert model.upsert_key(changed) is None
    assert model.key_by_id(keys[0].id).label == "renamed"
    with qtbot.assertNotEmitted(model.rowsRemoved):
        assert model.remove_key(keys[0].id)
    assert model.total_count() == 5 and model.rowCount() == 2
    model.set_filter("")
    assert model.rowCount() == 5


def test_refresh_times_recomputes_relative_text(qtbot, model: KeysModel) -> None:
    assert model.index(0, Col.LAST_USED).data() == "3 min ago"
    with qtbot.waitSignal(model.dataChanged):
        model.refresh_times(NOW + timedelta(hours=2))
    assert model.index(0, Col.LAST_USED).data() == "2 h ago"


def test_large_model_sets_in_one_reset(qtbot, qapp) -> None:
    many = [make_key(i, f"key {i}") for i in range(10_000)]
    model = KeysModel()
    with qtbot.waitSignal(model.modelReset):
        model.set_keys(many, now=NOW)
    assert model.rowCount() == 10_000
    assert model.index(9_999, Col.LABEL).data() == "key 9999"


def test_invalid_index_and_parent(model: KeysModel) -> None:
    assert model.data(QModelIndex()) is None
    assert model.rowCount(model.index(0, 0)) == 0
    assert not model.setData(model.index(0, Col.KEY), "x")


def test_run_in_pool_reports_on_gui_thread(qtbot) -> None:
    gui_thread = threading.current_thread()
    seen: list[threading.Thread] = []

    def work(x: int) -> int:
        seen.append(threading.current_thread())
        return x * 2

    job = workers.run_in_pool(work, 21)
    with qtbot.waitSignal(job.succeeded) as ok:
        pass
    assert ok.args == [42]
    assert seen and seen[0] is not gui_thread

    def boom() -> None:
        raise ValueError("nope")

    job = workers.run_in_pool(boom)
    with qtbot.waitSignal(job.failed) as failed:
        pass
    assert isinstance(failed.args[0], ValueError)


def test_many_jobs_all_report(qtbot) -> None:
    results: list[int] = []
    jobs = [workers.run_in_pool(lambda i=i: i) for i in range(200)]
    for job in jobs:  # connecting after start is safe: delivery goes through the event loop
        job.succeeded.connect(results.append)
    qtbot.waitUntil(lambda: len(results) == 200, timeout=10_000)
    assert sorted(results) == list(range(200))
    qtbot.waitUntil(lambda: workers.active_jobs() == 0)


def test_a_delivered_job_lets_go_of_what_its_slots_hold(qtbot) -> None:
    """A slot connected to a Job is held by the Job's C++ object and holds the Job: a cycle
    Python's GC cannot see. Every Job used to live on, and with it what its lambdas held (a closed
    review window and its 100,000-row document, ~70 MB a file: issue 15's CSV figure)."""
    import gc
    import weakref

    from PySide6.QtCore import QCoreApplication, QEvent

    class Big:
        pass

    held = Big()
    gone = weakref.ref(held)
    got: list[int] = []
    job = workers.run_in_pool(lambda: 7)
    job.succeeded.connect(lambda value, held=held: got.append(value))
    job.failed.connect(lambda exc, held=held: got.append(-1))
    del held, job
    qtbot.waitUntil(lambda: got == [7], timeout=10_000)
    qtbot.waitUntil(lambda: workers.active_jobs() == 0)
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()
    assert gone() is None


def test_resources_found_in_checkout_and_bundle(qapp, tmp_path, monkeypatch) -> None:
    from phhub_keys.gui import resources

    path = resources.resource_path("icons", "key.svg")
    assert path.is_file() and path.read_text().startswith("<svg")
    key_icon = resources.icon("key")
    assert not key_icon.isNull()
    assert key_icon.pixmap(16, 16).width() == 16
    sizes = {(s.width(), s.height()) for s in key_icon.availableSizes()}
    assert (32, 32) in sizes  # 2x pixmaps for HiDPI
    # every icon the UI names exists and renders
    for name in ("plus", "docs", "download", "refresh", "copy", "check", "save", "close", "key", "warning",
                 "review", "setup", "search"):
        assert not resources.icon(name).isNull(), name

    # a PyInstaller bundle: resources next to sys._MEIPASS win over the checkout
    bundle = tmp_path / "bundle"
    (bundle / "resources" / "icons").mkdir(parents=True)
    (bundle / "resources" / "icons" / "key.svg").write_text(path.read_text())
    monkeypatch.setattr(sys, "_MEIPASS", str(bundle), raising=False)
    resources.resources_root.cache_clear()
    try:
        assert resources.resource_path("icons", "key.svg") == bundle / "resources" / "icons" / "key.svg"
    finally:
        monkeypatch.delattr(sys, "_MEIPASS")
        resources.resources_root.cache_clear()
    assert resources.resource_path("icons", "key.svg") == path


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (None, "Never"),
        (timedelta(days=30), "in 30 days"),
        (timedelta(days=29, hours=23, minutes=59), "in 30 days"),  # a new 30-day key, a minute later
        (timedelta(days=1, hours=13), "in 2 days"),
        (timedelta(hours=23, minutes=5), "in 23 h"),
        (timedelta(minutes=12), "in 12 min"),
        (timedelta(seconds=20), "in 1 min"),
        (timedelta(seconds=-20), "just now"),
        (timedelta(days=-2), "2 days ago"),
    ],
)
def test_expires_text_counts_from_the_given_time(delta: timedelta | None, text: str) -> None:
    from dataclasses import replace

    from phhub_keys.gui.keys_model import format_expires

    key = replace(make_key(1, "k"), expires_at=None if delta is None else NOW + delta)
    assert format_expires(key, NOW) == text
    # the same key read against another clock (a local clock a day ahead) says something else:
    # the window passes the hub's time, never the local clock alone
    if delta is not None and delta > timedelta(days=2):
        assert format_expires(key, NOW + timedelta(days=1)) != text


def test_expiry_state_and_filter_words_follow_the_clock(qtbot) -> None:
    from dataclasses import replace

    model = KeysModel()
    soon = replace(make_key(1, "soon"), expires_at=NOW + timedelta(days=8))
    gone = replace(make_key(2, "gone"), status=KeyStatus.EXPIRED, expires_at=NOW - timedelta(days=1))
    never = make_key(3, "never")
    model.set_keys([soon, gone, never], now=NOW)
    states = {model.key_at(r).label: model.index(r, Col.EXPIRES).data(Role.EXPIRY) for r in range(3)}
    assert states == {"soon": "", "gone": "expired", "never": ""}
    assert model.expiry_counts() == (0, 1)
    model.set_filter("expiring")
    assert model.rowCount() == 0
    model.refresh_times(NOW + timedelta(days=1, hours=1))  # the hub's clock moved on: within 7 days now
    assert [model.key_at(r).label for r in range(model.rowCount())] == ["soon"]
    assert model.expiry_counts() == (1, 1)


@pytest.mark.parametrize(("delta", "days"), [
    (timedelta(days=2, hours=23, minutes=59), "3 days"),  # floored, the tooltip said "in 2 days"
    (timedelta(days=29, hours=23, minutes=59), "30 days"),
    (timedelta(days=1, hours=13), "2 days"),
])
def test_expires_cell_tooltip_reminder_and_cli_say_the_same_days(delta: timedelta, days: str) -> None:
    from dataclasses import replace

    from phhub_keys.core.expiry import expiry_text
    from phhub_keys.gui.reminders import Reminder

    key = replace(make_key(1, "k"), expires_at=NOW + delta)
    model = KeysModel()
    model.set_keys([key], now=NOW)
    assert model.index(0, Col.EXPIRES).data() == f"in {days}"
    assert model.index(0, Col.EXPIRES).data(Qt.ItemDataRole.ToolTipRole).startswith(f"Expires in {days}: ")
    assert expiry_text(key.expires_at, NOW) == f"in {days}"  # the CLI's words
    reminder = Reminder(key.id, key.label, NOW + delta, 7, delta.total_seconds())
    assert f"expires in {days}." in reminder.text


def test_the_filter_follows_time_without_a_keystroke(qtbot, qtmodeltester) -> None:
    """A key crossing into "expiring" (or past its expiry) while "expiring"/"expired" is the filter
    joins or leaves the rows at the next time refresh, several ticks later too; the other rows and
    their selection stay (rows inserted/removed, not a reset)."""
    from dataclasses import replace

    model = KeysModel()
    soon = replace(make_key(1, "soon"), expires_at=NOW + timedelta(days=8))
    later = replace(make_key(2, "later"), expires_at=NOW + timedelta(days=9))
    now_in = replace(make_key(3, "now in"), expires_at=NOW + timedelta(days=3))
    never = make_key(4, "never")
    model.set_keys([soon, later, now_in, never], now=NOW)
    model.set_filter("expiring")
    assert [model.key_at(r).label for r in range(model.rowCount())] == ["now in"]
    kept = QPersistentModelIndex(model.index(0, Col.LABEL))
    resets: list[int] = []
    model.modelReset.connect(lambda: resets.append(1))

    model.refresh_times(NOW + timedelta(hours=1))  # a tick that changes nothing
    model.refresh_times(NOW + timedelta(days=1, hours=1))  # the next tick: "soon" is within 7 days
    assert [model.key_at(r).label for r in range(model.rowCount())] == ["soon", "now in"]
    model.refresh_times(NOW + timedelta(days=2, hours=1))  # and a tick later, "later" too
    assert [model.key_at(r).label for r in range(model.rowCount())] == ["soon", "later", "now in"]
    assert kept.isValid() and kept.data() == "now in" and not resets
    qtmodeltester.check(model)

    # past its expiry by the hub's time, "now in" is expired (as the hub computes it): it leaves
    # "expiring", gets the Expired badge and counts as expired in the banner
    model.refresh_times(NOW + timedelta(days=3, seconds=1))
    assert [model.key_at(r).label for r in range(model.rowCount())] == ["soon", "later"]
    assert model.key_by_id(now_in.id).status is KeyStatus.EXPIRED
    assert model.expiry_counts() == (2, 1)
    model.set_filter("expired")
    assert [model.key_at(r).label for r in range(model.rowCount())] == ["now in"]
    assert model.index(0, Col.STATUS).data() == "Expired"
    assert model.index(0, Col.ACTIONS).data(Role.ACTIONS) == ("delete",)
    # typing on narrows from the rows shown, and still agrees with the clock
    model.set_filter("")
    model.set_filter("e")
    model.set_filter("exp")
    assert {model.key_at(r).label for r in range(model.rowCount())} == {"soon", "later", "now in"}
    qtmodeltester.check(model)


def test_a_rotated_key_in_its_grace_is_not_expiring_so_filter_and_banner_agree() -> None:
    """The banner does not count a rotated key whose grace ends soon; its Show button filters by
    "expiring", which must then find exactly the keys counted (no warning colour on a grace end)."""
    from dataclasses import replace

    model = KeysModel()
    soon = replace(make_key(1, "soon"), expires_at=NOW + timedelta(days=2))
    old = replace(make_key(2, "rotated"), expires_at=NOW + timedelta(hours=1), replaced_by="mk_" + "1" * 16)
    model.set_keys([soon, old], now=NOW)
    assert model.expiry_counts() == (1, 0)
    model.set_filter("expiring")
    assert [model.key_at(r).label for r in range(model.rowCount())] == ["soon"]
    model.set_filter("")
    row = model.row_of(old.id)
    assert model.index(row, Col.EXPIRES).data() == "in 1 h"
    assert model.index(row, Col.EXPIRES).data(Qt.ItemDataRole.BackgroundRole) is None
    model.refresh_times(NOW + timedelta(hours=1))  # the grace ended: expired like any other key
    assert model.index(model.row_of(old.id), Col.EXPIRES).data(Role.EXPIRY) == "expired"
    assert model.expiry_counts() == (1, 1)
