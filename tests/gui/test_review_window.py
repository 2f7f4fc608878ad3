"""CsvReviewWindow through pytest-qt (offscreen): open, filter, sort, flags, reveal, drop, errors, compare."""

from __future__ import annotations

import socket
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from fixtures_gui import shown_review_window
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QFileDialog, QLabel, QLineEdit, QPushButton, QTableView
from review_samples import NOW, SERVER_URL, key, key_list_csv, random_keys, secrets_csv, write

from phhub_keys.core.csvio import parse_csv_text
from phhub_keys.core.keyformat import generate_key, redact
from phhub_keys.core.models import KeyStatus
from phhub_keys.core.review import FlagKind, review
from phhub_keys.gui import workers
from phhub_keys.gui.review_model import CompareModel, CsvRowsModel, FlagsModel, Role
from phhub_keys.gui.review_window import CsvReviewWindow


@pytest.fixture
def window(qtbot) -> CsvReviewWindow:
    return shown_review_window(qtbot, NOW)


@pytest.fixture
def open_files(qtbot, window) -> Callable[..., CsvReviewWindow]:
    def opener(*paths: Path | str) -> CsvReviewWindow:
        with qtbot.waitSignal(window.loaded, timeout=60_000):
            window.open_paths(list(paths))
        return window

    return opener


SAMPLE = [
    key(1, "laptop", used=2),
    key(2, "ci runner", used=200),  # stale
    key(3, "old server", status=KeyStatus.DEACTIVATED, created=500, used=400),
    key(4, "never set up", created=60, used=None),  # never used
    key(5, "Laptop", created=100, used=10),  # duplicate label of line 2
    key(6, "fresh", created=5, used=None),
]


def cells(table: QTableView, column_name: str) -> list[str]:
    model = table.model()
    col = model.column_of(column_name)  # type: ignore[attr-defined]
    return [model.index(r, col).data() for r in range(model.rowCount())]


def summary_text(window: CsvReviewWindow) -> str:
    return window.findChild(QLabel, "csvSummary").text()


def test_named_controls_exist(window):
    for kind, name in (
        (QTableView, "csvTable"), (QLabel, "csvSummary"), (QLineEdit, "csvFilterInput"),
        (QPushButton, "openCsvButton"), (QPushButton, "revealSecretsButton"),
        (QPushButton, "compareCsvButton"),
    ):
        widget = window.findChild(kind, name)
        assert widget is not None, name
        assert widget.accessibleName(), name
    assert window.objectName() == "CsvReviewWindow"
    assert window.acceptDrops()
    assert "No file open" in summary_text(window)


def test_open_shows_rows_summary_and_flags(window, open_files, tmp_path):
    path = write(tmp_path / "keys.csv", key_list_csv(SAMPLE))
    open_files(path)
    text = summary_text(window)
    for part in ("keys.csv", "<b>6</b> keys", "<b>5</b> active", "<b>1</b> deactivated",
                 "<b>2</b> never used", "<b>2</b> unused for 90+ days", "<b>4</b> need attention"):
        assert part in text, part
    assert "oldest: “old server”" in text
    table = window.findChild(QTableView, "csvTable")
    assert window.rows_model.columns == [
        "line", "key", "status", "label", "created_at", "last_used_at", "expires_at", "flags", "id",
    ]
    assert cells(table, "label") == [k.label for k in SAMPLE]
    assert cells(table, "key") == [k.redacted for k in SAMPLE]
    assert cells(table, "last_used_at")[3] == "Never"
    assert cells(table, "flags") == [
        "Duplicate label", "Unused 90+ days", "", "Never used", "Duplicate label", "",
    ]
    flags_col = window.rows_model.column_of("flags")
    tip = window.rows_model.index(1, flags_col).data(Qt.ItemDataRole.ToolTipRole)
    assert tip.startswith("Active; last used 200 days ago")
    assert window.rows_model.index(1, flags_col).data(Qt.ItemDataRole.DecorationRole) is not None
    assert window.rows_model.index(2, flags_col).data(Qt.ItemDataRole.DecorationRole) is None
    # The Flags tab lists the same rows with their reasons.
    flags_model = window.flags_model
    assert [flags_model.index(r, 0).data() for r in range(flags_model.rowCount())] == ["2", "3", "5", "6"]
    assert flags_model.index(0, 3).data().startswith("The label 'laptop' is also on line 6")
    assert window.tabs.tabText(1) == "Needs attention (4)"
    assert not window.tabs.isTabVisible(window.tabs.indexOf(window.changes_page))
    assert not window.secrets_banner.isVisible() and not window.reveal_button.isVisible()
    assert not window.error_banner.isVisible()
    window.grab().save(str(tmp_path / "review.png"))


def test_filter_as_you_type_and_flagged_only(window, open_files, qtbot, tmp_path):
    open_files(write(tmp_path / "keys.csv", key_list_csv(SAMPLE)))
    table = window.findChild(QTableView, "csvTable")
    box = window.findChild(QLineEdit, "csvFilterInput")
    qtbot.keyClicks(box, "lap")
    assert cells(table, "label") == ["laptop", "Laptop"]
    qtbot.keyClicks(box, "top x")
    assert table.model().rowCount() == 0
    box.clear()
    assert table.model().rowCount() == 6
    qtbot.keyClicks(box, "DEACTIVATED")  # status words and ids are searchable too, any case
    assert cells(table, "label") == ["old server"]
    box.clear()
    qtbot.keyClicks(box, "never used")  # flag titles too
    assert cells(table, "label") == ["never set up"]
    box.clear()
    window.flagged_only.setChecked(True)
    assert cells(table, "label") == ["laptop", "ci runner", "never set up", "Laptop"]
    assert window.statusBar().currentMessage() == "Showing 4 of 6 rows"
    window.flagged_only.setChecked(False)
    assert table.model().rowCount() == 6


def test_sort_by_header_click_and_back(window, open_files, qtbot, tmp_path):
    open_files(write(tmp_path / "keys.csv", key_list_csv(SAMPLE)))
    table = window.findChild(QTableView, "csvTable")
    header = table.horizontalHeader()
    label_col = window.rows_model.column_of("label")
    x = header.sectionViewportPosition(label_col) + header.sectionSize(label_col) // 2
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, header.height() // 2))
    assert cells(table, "label") == ["ci runner", "fresh", "laptop", "Laptop", "never set up", "old server"]
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, header.height() // 2))
    assert cells(table, "label")[0] == "old server"
    table.sortByColumn(window.rows_model.column_of("last_used_at"), Qt.SortOrder.AscendingOrder)
    assert cells(table, "label")[:2] == ["never set up", "fresh"]  # never used first, in file order
    table.sortByColumn(window.rows_model.column_of("flags"), Qt.SortOrder.DescendingOrder)
    assert set(cells(table, "label")[:4]) == {"laptop", "ci runner", "never set up", "Laptop"}
    table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
    assert cells(table, "line") == ["2", "3", "4", "5", "6", "7"]


def test_selection_follows_a_sort(window, open_files, tmp_path):
    open_files(write(tmp_path / "keys.csv", key_list_csv(SAMPLE)))
    table = window.findChild(QTableView, "csvTable")
    table.selectRow(1)  # "ci runner"
    table.sortByColumn(window.rows_model.column_of("label"), Qt.SortOrder.AscendingOrder)
    selected = table.selectionModel().selectedRows()
    assert [i.data(Role.ROW).label for i in selected] == ["ci runner"]
    assert selected[0].row() == 0


def test_double_click_on_a_flag_shows_its_row(window, open_files, qtbot, tmp_path):
    open_files(write(tmp_path / "keys.csv", key_list_csv(SAMPLE)))
    window.filter_input.setText("fresh")  # hides the flagged rows: the jump clears the filter
    window.tabs.setCurrentWidget(window.flags_table)
    window._jump_to_flag(window.flags_model.index(2, 0))  # the "never set up" row (line 5)
    assert window.tabs.currentWidget() is window.table
    assert window.filter_input.text() == ""
    assert window.table.currentIndex().data(Role.LINE) == 5


def test_secret_file_is_masked_until_revealed(window, open_files, qtbot, tmp_path):
    secrets = [generate_key(), generate_key()]
    path = write(tmp_path / "new-key.csv", secrets_csv([("laptop", secrets[0]), ("ci", secrets[1])]))
    open_files(path)
    table = window.findChild(QTableView, "csvTable")
    banner = window.findChild(QLabel, "secretsBannerText")
    assert window.secrets_banner.isVisible()
    assert "password manager" in banner.text()
    assert "secret file" in summary_text(window)
    assert window.rows_model.columns == ["line", "key", "label", "created_at", "flags", "server_url"]
    assert cells(table, "key") == [redact(s) for s in secrets]
    assert cells(table, "server_url") == [SERVER_URL, SERVER_URL]
    reveal = window.findChild(QPushButton, "revealSecretsButton")
    assert reveal.isVisible() and not reveal.isChecked()
    key_col = window.rows_model.column_of("key")
    # Nothing but the redacted form anywhere while hidden: tooltips, the filter.
    roles = (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleTextRole)
    for role in roles:
        for row in range(2):
            value = window.rows_model.index(row, key_col).data(role) or ""
            assert secrets[row] not in value
    window.filter_input.setText(secrets[0][12:30])
    assert table.model().rowCount() == 0
    window.filter_input.clear()
    with qtbot.waitSignal(window.rows_model.dataChanged):
        qtbot.mouseClick(reveal, Qt.MouseButton.LeftButton)
    assert cells(table, "key") == secrets
    assert reveal.text() == "Hide keys"
    window.grab().save(str(tmp_path / "revealed.png"))
    qtbot.mouseClick(reveal, Qt.MouseButton.LeftButton)
    assert cells(table, "key") == [redact(s) for s in secrets]


def test_opening_another_file_hides_revealed_keys_again(window, open_files, qtbot, tmp_path):
    secret = generate_key()
    open_files(write(tmp_path / "a.csv", secrets_csv([("laptop", secret)])))
    window.reveal_button.setChecked(True)
    open_files(write(tmp_path / "b.csv", secrets_csv([("laptop", secret)])))
    assert not window.rows_model.revealed and not window.reveal_button.isChecked()
    assert cells(window.table, "key") == [redact(secret)]


def drop(window: CsvReviewWindow, paths: Sequence[Path]) -> tuple[bool, bool]:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    enter = QDragEnterEvent(QPoint(20, 20), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    event = QDropEvent(QPointF(20, 20), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, event)
    return enter.isAccepted(), event.isAccepted()


def test_drop_one_file_opens_it(window, qtbot, tmp_path):
    path = write(tmp_path / "dropped.csv", key_list_csv(SAMPLE))
    with qtbot.waitSignal(window.loaded, timeout=30_000):
        assert drop(window, [path]) == (True, True)
    assert "dropped.csv" in summary_text(window)
    assert window.rows_model.rowCount() == 6


def test_drop_of_text_is_refused(window):
    mime = QMimeData()
    mime.setText("not a file")
    enter = QDragEnterEvent(QPoint(5, 5), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    assert not enter.isAccepted()


def test_drop_two_files_compares_older_to_newer(window, qtbot, tmp_path):
    old_keys = [key(1, "laptop"), key(2, "ci"), key(3, "gone")]
    new_keys = [key(1, "laptop (home)"), key(2, "ci", status=KeyStatus.DEACTIVATED), key(4, "added")]
    for before, after in zip(old_keys[:2], new_keys[:2], strict=True):
        object.__setattr__(after, "redacted", before.redacted)
    old = write(tmp_path / "march.csv", key_list_csv(old_keys))
    new = write(tmp_path / "june.csv", key_list_csv(new_keys))
    import os

    os.utime(old, (1_700_000_000, 1_700_000_000))  # older by modification time
    with qtbot.waitSignal(window.loaded, timeout=30_000):
        drop(window, [new, old])  # dropped in either order
    assert "june.csv" in summary_text(window)
    changes = window.changes_page
    assert window.tabs.isTabVisible(window.tabs.indexOf(changes)) and window.tabs.currentWidget() is changes
    assert window.compare_model.kinds() == ["Added", "Removed", "Status changed", "Label changed"]
    m = window.compare_model
    assert [m.index(r, 2).data() for r in range(4)] == ["added", "gone", "ci", "laptop → laptop (home)"]
    assert m.index(2, 3).data() == "Active → Deactivated"
    summary = window.findChild(QLabel, "csvCompareSummary").text()
    assert summary.startswith("From march.csv (older) to june.csv (newer): 1 added, 1 removed")
    window.grab().save(str(tmp_path / "compare.png"))
    with qtbot.waitSignal(window.loaded, timeout=30_000):
        qtbot.mouseClick(window.swap_button, Qt.MouseButton.LeftButton)
    assert "march.csv" in summary_text(window)
    assert window.compare_model.kinds() == ["Added", "Removed", "Status changed", "Label changed"]
    assert [m.index(r, 2).data() for r in range(2)] == ["gone", "added"]


def test_compare_with_earlier_export_button(window, open_files, qtbot, tmp_path, monkeypatch):
    old = write(tmp_path / "old.csv", key_list_csv(SAMPLE[:3]))
    new = write(tmp_path / "new.csv", key_list_csv(SAMPLE))
    open_files(new)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(old), "CSV files (*.csv)"))
    with qtbot.waitSignal(window.loaded, timeout=30_000):
        qtbot.mouseClick(window.compare_button, Qt.MouseButton.LeftButton)
    assert window.compare_model.kinds() == ["Added", "Added", "Added"]
    assert "new.csv" in summary_text(window)


def test_open_button_uses_the_file_dialog(window, qtbot, tmp_path, monkeypatch):
    path = write(tmp_path / "picked.csv", key_list_csv(SAMPLE))
    asked: list[str] = []

    def fake(parent, caption, directory, filters):
        asked.append(caption)
        return [str(path)], filters

    monkeypatch.setattr(QFileDialog, "getOpenFileNames", fake)
    with qtbot.waitSignal(window.loaded, timeout=30_000):
        qtbot.mouseClick(window.findChild(QPushButton, "openCsvButton"), Qt.MouseButton.LeftButton)
    assert asked == ["Open key CSV files"]
    assert "picked.csv" in summary_text(window)


def test_malformed_file_names_the_lines_and_shows_the_rows_that_parsed(window, open_files, tmp_path):
    text = key_list_csv(SAMPLE[:3]) + "mk_x,broken,phk_a...b,paused,,,,\r\nmk_y,short\r\n" + '"mk_z,oops\r\n'
    open_files(write(tmp_path / "edited.csv", text))
    assert window.rows_model.rowCount() == 3
    banner = window.error_banner
    assert banner.isVisible()
    message = banner.text()
    assert (
        "edited.csv: 3 rows could not be read and are not shown; the 3 rows that parsed are shown." in message
    )
    assert "Line 5: unknown status 'paused' (expected active, deactivated or expired)" in message
    assert "Line 6: expected 8 columns, found 2" in message
    assert "Line 7: bad quoting" in message
    assert "<b>3</b> keys" in summary_text(window)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "the file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a text file"),
        ("label,key\r\ncaf\u00e9,x\r\n".encode("latin-1"), "line 2: the file is not UTF-8 text"),
        (b"who;when\r\na;b\r\n", "line 1: no 'label' or 'key' column"),
    ],
    ids=["empty", "binary", "latin-1", "no-columns"],
)
def test_unreadable_file_says_why_and_shows_nothing(window, open_files, qtbot, tmp_path, content, expected):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with qtbot.waitSignal(window.loadFailed) as failed:
        open_files(path)
    assert expected in failed.args[0]
    assert failed.args[0].startswith("Could not read bad.csv: ")
    assert window.error_banner.isVisible() and expected in window.error_banner.text()
    assert window.stack.currentWidget() is window.empty_state
    assert window.rows_model.rowCount() == 0
    assert "No file open" in summary_text(window)


def test_missing_file_and_wrong_count(window, open_files, tmp_path):
    open_files(tmp_path / "nope.csv")
    assert "No such file or directory" in window.error_banner.text()
    assert window.open_paths([tmp_path / "a", tmp_path / "b", tmp_path / "c"]) is False
    assert "3 were given" in window.error_banner.text()


def test_review_needs_no_network(window, open_files, tmp_path, monkeypatch):
    def refuse(*_args, **_kwargs):
        raise AssertionError("the CSV review tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    open_files(write(tmp_path / "keys.csv", key_list_csv(SAMPLE)))
    assert window.rows_model.rowCount() == 6


@pytest.mark.slow
def test_100000_row_file_loads_filters_and_sorts(window, open_files, qtbot, tmp_path):
    keys, expected = random_keys(100_000, seed=5)
    open_files(write(tmp_path / "big.csv", key_list_csv(keys)))
    assert window.rows_model.rowCount() == 100_000
    assert f"<b>{expected.active:,}</b> active" in summary_text(window)
    qtbot.keyClicks(window.filter_input, "key 9999")
    assert cells(window.table, "label") == ["key 9999", *(f"key 9999{d}" for d in range(10))]
    window.filter_input.clear()
    window.table.sortByColumn(window.rows_model.column_of("created_at"), Qt.SortOrder.DescendingOrder)
    newest = max(keys, key=lambda k: k.created_at)
    assert window.rows_model.row_at(0).id == newest.id
    window.flagged_only.setChecked(True)
    assert window.rows_model.rowCount() == len(expected.flagged_stale | expected.flagged_never_used)


def test_sizing_the_columns_asks_for_the_rows_in_view_not_a_thousand_per_column(window, open_files, tmp_path,
                                                                              monkeypatch):
    """Issue 15 (the CSV review figure went from ~480 to ~860 ms): Qt sizes a column to its content
    by measuring 1,000 rows by default, ~80,000 data() calls for a big file. The window measures
    the rows in view and as many around them (FIT_ROWS), and the label column still takes the rest."""
    from phhub_keys.gui import review_window

    keys, _ = random_keys(5_000, seed=3)
    path = write(tmp_path / "five-thousand.csv", key_list_csv(keys))
    calls = [0]
    data = CsvRowsModel.data

    def counting(self, index, role=Qt.ItemDataRole.DisplayRole):  # type: ignore[no-untyped-def]
        calls[0] += 1
        return data(self, index, role)

    monkeypatch.setattr(CsvRowsModel, "data", counting)
    open_files(path)
    header = window.table.horizontalHeader()
    columns = window.rows_model.columnCount()
    assert header.resizeContentsPrecision() == review_window.FIT_ROWS
    assert calls[0] < columns * review_window.FIT_ROWS * 12  # Qt's default measured 10x as many rows
    label = window.rows_model.column_of("label")
    assert header.sectionResizeMode(label) == header.ResizeMode.Stretch


def test_a_closed_window_and_its_document_are_freed(qtbot, tmp_path):
    """The loader's slots held the window through the load's Job (gui/workers.py): every review
    window closed in a session lived on with its document (~70 MB for 100,000 rows)."""
    import gc
    import weakref

    from PySide6.QtCore import QCoreApplication, QEvent

    path = write(tmp_path / "k.csv", key_list_csv(SAMPLE))
    closed = CsvReviewWindow()
    closed.show()
    with qtbot.waitSignal(closed.loaded, timeout=60_000):
        closed.open_paths([path])
    gone = weakref.ref(closed)
    closed.close()
    closed.deleteLater()
    del closed
    qtbot.waitUntil(lambda: workers.active_jobs() == 0)
    for _ in range(3):
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        QCoreApplication.processEvents()
    gc.collect()
    assert gone() is None


def test_a_newer_open_wins_over_a_slower_one(window, qtbot, tmp_path):
    keys, _ = random_keys(20_000, seed=2)
    big = write(tmp_path / "big.csv", key_list_csv(keys))
    small = write(tmp_path / "small.csv", key_list_csv(SAMPLE))
    window.open_paths([big])
    with qtbot.waitSignal(window.loaded, timeout=60_000):
        window.open_paths([small])
    qtbot.wait(200)
    from phhub_keys.gui.workers import wait_idle

    assert wait_idle()
    assert "small.csv" in summary_text(window)
    assert window.rows_model.rowCount() == 6


# --- models ------------------------------------------------------------------------------------------


def _sample_review():
    doc = parse_csv_text(key_list_csv(SAMPLE))
    return doc, review(doc, NOW)


@pytest.mark.parametrize("state", ["plain", "sorted-filtered", "revealed-flagged", "empty"])
@pytest.mark.parametrize("force_py", [False, True], ids=["qt-tester", "py-tester"])
def test_rows_model_passes_qabstractitemmodeltester(qtmodeltester, state, force_py):
    doc, result = _sample_review()
    model = CsvRowsModel()
    model.set_document(doc, result)
    if state == "sorted-filtered":
        model.sort(model.column_of("label"), Qt.SortOrder.DescendingOrder)
        model.set_filter("a")
    elif state == "revealed-flagged":
        model.set_revealed(True)
        model.set_flagged_only(True)
    elif state == "empty":
        model.set_document(None, None)
    qtmodeltester.check(model, force_py=force_py)
    # The tester stays connected: later changes are checked too.
    model.sort(model.column_of("flags") if model.columns else 0, Qt.SortOrder.AscendingOrder)
    model.set_filter("l")
    model.set_filter("")
    model.set_document(doc, result)


@pytest.mark.parametrize("force_py", [False, True], ids=["qt-tester", "py-tester"])
def test_flags_model_passes_qabstractitemmodeltester(qtmodeltester, force_py):
    _doc, result = _sample_review()
    flags = FlagsModel()
    flags.set_review(result)
    assert flags.rowCount() == 4
    qtmodeltester.check(flags, force_py=force_py)
    flags.set_review(None)
    flags.set_review(result)


@pytest.mark.parametrize("force_py", [False, True], ids=["qt-tester", "py-tester"])
def test_compare_model_passes_qabstractitemmodeltester(qtmodeltester, force_py):
    from phhub_keys.core.review import compare

    doc, _result = _sample_review()
    diff = compare(parse_csv_text(key_list_csv([*SAMPLE[:2], key(9, "x")])), doc)
    model = CompareModel()
    model.set_comparison(diff)
    assert model.rowCount() == 5  # 4 added (lines 4-7 of the new file), 1 removed
    qtmodeltester.check(model, force_py=force_py)
    model.set_comparison(None)


def test_rows_model_flag_kinds_match_the_review():
    doc, result = _sample_review()
    model = CsvRowsModel()
    model.set_document(doc, result)
    kinds = [[f.kind for f in model.index(r, 0).data(Role.FLAGS)] for r in range(model.rowCount())]
    assert kinds == [
        [FlagKind.DUPLICATE_LABEL], [FlagKind.UNUSED_90_DAYS], [], [FlagKind.NEVER_USED_30_DAYS],
        [FlagKind.DUPLICATE_LABEL], [],
    ]


def test_one_row_each_is_said_in_the_singular_in_a_notice_banner_that_cannot_be_dismissed(
        window, open_files, tmp_path):
    """The review's banners are the app's ErrorBanner (no twin): no button, no close button here."""
    text = key_list_csv(SAMPLE[:1]) + "mk_y,short\r\n"
    open_files(write(tmp_path / "one.csv", text))
    banner = window.error_banner
    assert banner.isVisible()
    assert ("one.csv: 1 row could not be read and is not shown; the 1 row that parsed is shown."
            in banner.text())
    assert not banner.action_button.isVisible() and not banner.close_button.isVisible()
    assert banner.objectName() == "csvErrorBanner"
    assert banner.message.objectName() == "csvErrorBannerText"
