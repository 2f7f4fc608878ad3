"""``CsvReviewWindow``: review exported key CSV files offline, and compare two exports.

Needs no network and no sign-in. Files are read and reviewed on a worker
thread (core.csvio + core.review), so a 100,000-row file never freezes the
window; the table is one model/view (review_model.py), not a widget per row.

One file: its rows (sortable, filter as you type), a summary, and the rows
that need attention (a Flags column with the reason as tooltip, and a Needs attention tab).
Two files (dropped together, ``open_paths([old, new])``, or "Compare with an
earlier export…"): the newer file is shown, and a Changes tab lists what was
added, removed, or changed since the older one. A file holding full secrets
(the shown-once CSV) shows them redacted until "Reveal keys" is pressed, with
a banner saying the file belongs in a password manager. A malformed file
shows the rows that parsed and a banner naming each bad line.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import (
    QCloseEvent,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QFontDatabase,
    QFontMetrics,
    QKeySequence,
    QShortcut,
    QShowEvent,
    QTextDocumentFragment,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPushButton,
    QStackedWidget,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ..core.csvio import CsvDocument, CsvFormatError, read_csv
from ..core.gc_pause import paused_gc
from ..core.review import Comparison, Review, compare, review
from ..core.timestamps import utcnow
from ..core.wording import plural
from .accessibility import name_clear_button
from .error_banner import ErrorBanner
from .keyboard import EnterPressesButtons, set_enabled_keeping_focus
from .resources import icon
from .review_model import CompareModel, CsvRowsModel, FlagsModel, Role
from .theme import accents
from .workers import run_in_pool

MAX_PROBLEMS_SHOWN = 5
FILE_FILTER = "CSV files (*.csv *.txt);;All files (*)"
FIT_ROWS = 100  # rows measured per column when sizing columns to their content (_fit_columns)


# ------------------------------------------------------------------------- loading (worker thread)


@dataclass(frozen=True)
class LoadedFile:
    path: str
    doc: CsvDocument | None
    error: str | None = None  # why the file could not be read at all


@dataclass(frozen=True)
class LoadResult:
    """What the worker hands back: the file shown (the newest), its review, and the comparison."""

    shown: LoadedFile
    review: Review | None
    older: LoadedFile | None = None
    comparison: Comparison | None = None


def _read(path: str) -> LoadedFile:
    try:
        return LoadedFile(path, read_csv(path))
    except CsvFormatError as exc:
        return LoadedFile(path, None, str(exc))
    except OSError as exc:
        return LoadedFile(path, None, exc.strerror or str(exc))


def load_files(shown_path: str, older_path: str | None, now: datetime) -> LoadResult:
    """Read, review and (with an older file) compare: plain Python, run off the GUI thread.

    The cyclic GC pauses meanwhile (core.gc_pause: half the parse time of a 100,000-row file);
    the window runs one load at a time, so the pause is brief and ours to take.
    """
    with paused_gc():
        return _load_files(shown_path, older_path, now)


def _load_files(shown_path: str, older_path: str | None, now: datetime) -> LoadResult:
    shown = _read(shown_path)
    result = review(shown.doc, now) if shown.doc is not None else None
    if older_path is None:
        return LoadResult(shown, result)
    older = _read(older_path)
    comparison = compare(older.doc, shown.doc) if older.doc is not None and shown.doc is not None else None
    return LoadResult(shown, result, older, comparison)


# ------------------------------------------------------------------------- the window


class CsvReviewWindow(QMainWindow):
    """Offline review of exported key CSV files (see the module docstring)."""

    loaded = Signal()  # a load finished (successfully or not) and the window shows its result
    loadFailed = Signal(str)  # the shown file could not be read at all: the message

    def __init__(self, parent: QWidget | None = None, *, now: Callable[[], datetime] = utcnow) -> None:
        super().__init__(parent)
        self.setObjectName("CsvReviewWindow")
        self.setWindowTitle("Review key CSV files")
        self.setAccessibleName("Review key CSV files")
        self.setAcceptDrops(True)
        EnterPressesButtons(self)
        self.resize(1080, 660)
        self._now = now
        self._generation = 0
        self._loading = False
        self._shown: LoadedFile | None = None
        self._older: LoadedFile | None = None
        self._result: Review | None = None
        self._comparison: Comparison | None = None
        self._placed = False

        self.rows_model = CsvRowsModel(self)
        self.flags_model = FlagsModel(self)
        self.compare_model = CompareModel(self)
        self._build()
        self._show_empty()

    # ================================================================== layout
    def _build(self) -> None:
        central = QWidget(self)
        outer = QVBoxLayout(central)
        outer.setContentsMargins(12, 12, 12, 8)
        outer.setSpacing(8)

        bar = QHBoxLayout()
        self.open_button = QPushButton(icon("review"), "Open CSV…", central)
        self.open_button.setObjectName("openCsvButton")
        self.open_button.setAccessibleName("Open CSV file")
        self.open_button.setToolTip(
            "Open a key list or secret CSV file (Ctrl+O). You can also drop files here."
        )
        self.open_button.clicked.connect(self.choose_files)
        bar.addWidget(self.open_button)
        self.compare_button = QPushButton("Compare with earlier export…", central)
        self.compare_button.setObjectName("compareCsvButton")
        self.compare_button.setAccessibleName("Compare with an earlier export")
        self.compare_button.setToolTip("Pick an earlier export of the same account to see what changed since")
        self.compare_button.clicked.connect(self.choose_older_file)
        bar.addWidget(self.compare_button)
        bar.addStretch(1)
        self.reveal_button = QPushButton("Reveal keys", central)
        self.reveal_button.setObjectName("revealSecretsButton")
        self.reveal_button.setAccessibleName("Reveal full keys")
        self.reveal_button.setCheckable(True)
        self.reveal_button.setToolTip(
            "Show the full keys of this secret file (anyone who sees them can use them)"
        )
        self.reveal_button.toggled.connect(self._reveal_toggled)
        bar.addWidget(self.reveal_button)
        self.flagged_only = QCheckBox("Only keys that need attention", central)
        self.flagged_only.setObjectName("csvFlaggedOnly")
        self.flagged_only.setAccessibleName("Show only keys that need attention")
        self.flagged_only.toggled.connect(self.rows_model.set_flagged_only)
        self.flagged_only.toggled.connect(self._update_count)
        bar.addWidget(self.flagged_only)
        self.filter_input = QLineEdit(central)
        self.filter_input.setObjectName("csvFilterInput")
        self.filter_input.setAccessibleName("Filter rows")
        self.filter_input.setPlaceholderText("Filter by label, key, id, status…")
        name_clear_button(self.filter_input, "Clear the filter")
        search = self.filter_input.addAction(icon("search"), QLineEdit.ActionPosition.LeadingPosition)
        search.setText("Filter")  # the icon's button is read by this name
        self.filter_input.setMinimumWidth(240)
        self.filter_input.textChanged.connect(self._filter_changed)
        bar.addWidget(self.filter_input)
        outer.addLayout(bar)

        self.secrets_banner = ErrorBanner(central, name="secretsBanner", tone="notice", dismissible=False)
        self.secrets_banner.setAccessibleName("This file holds full keys")
        outer.addWidget(self.secrets_banner)
        self.error_banner = ErrorBanner(central, name="csvErrorBanner", tone="error", dismissible=False)
        self.error_banner.setAccessibleName("Problems in the file")
        outer.addWidget(self.error_banner)

        self.summary = QLabel(central)
        self.summary.setObjectName("csvSummary")
        self.summary.setAccessibleDescription("Summary")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        outer.addWidget(self.summary)

        self.stack = QStackedWidget(central)
        self.empty_state = QLabel(self.stack)
        self.empty_state.setObjectName("csvEmptyState")
        self.empty_state.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_state.setWordWrap(True)
        self.stack.addWidget(self.empty_state)

        self.tabs = QTabWidget(self.stack)
        self.tabs.setObjectName("csvTabs")
        self.tabs.setAccessibleName("Views of the file")
        self.table = self._make_table("csvTable", "Rows of the file", self.rows_model)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.tabs.addTab(self.table, "Keys")
        self.flags_table = self._make_table("csvFlagsTable", "Keys that need attention", self.flags_model)
        self.flags_table.doubleClicked.connect(self._jump_to_flag)
        self.tabs.addTab(self.flags_table, "Flags")

        self.changes_page = QWidget(self.tabs)
        changes = QVBoxLayout(self.changes_page)
        changes.setContentsMargins(0, 8, 0, 0)
        head = QHBoxLayout()
        self.compare_summary = QLabel(self.changes_page)
        self.compare_summary.setObjectName("csvCompareSummary")
        self.compare_summary.setWordWrap(True)
        head.addWidget(self.compare_summary, 1)
        self.swap_button = QPushButton("Swap older/newer", self.changes_page)
        self.swap_button.setObjectName("swapCompareButton")
        self.swap_button.setAccessibleName("Swap the older and the newer file")
        self.swap_button.clicked.connect(self.swap_comparison)
        head.addWidget(self.swap_button)
        changes.addLayout(head)
        self.compare_table = self._make_table(
            "csvCompareTable", "Changes between the files", self.compare_model
        )
        changes.addWidget(self.compare_table, 1)
        self.tabs.addTab(self.changes_page, "Changes")
        self.tabs.currentChanged.connect(lambda _i: self._update_count())
        self.stack.addWidget(self.tabs)
        outer.addWidget(self.stack, 1)
        self.setCentralWidget(central)

        QShortcut(QKeySequence.StandardKey.Open, self, self.choose_files)
        QShortcut(QKeySequence.StandardKey.Find, self, self.filter_input.setFocus)

    def _make_table(self, name: str, accessible: str, model: object) -> QTableView:
        table = QTableView(self)
        table.setObjectName(name)
        table.setAccessibleName(accessible)
        table.setModel(model)  # type: ignore[arg-type]
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setAlternatingRowColors(True)
        table.setWordWrap(False)
        table.setTextElideMode(Qt.TextElideMode.ElideRight)
        table.verticalHeader().hide()
        # Fixed row height: the view never measures 100,000 rows.
        table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        table.verticalHeader().setDefaultSectionSize(table.fontMetrics().height() + 10)
        header = table.horizontalHeader()
        header.setHighlightSections(False)
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        return table

    # ================================================================== opening
    def choose_files(self) -> None:
        """The Open button: pick one file, or two to compare (older first)."""
        start = str(Path(self._shown.path).parent) if self._shown else str(Path.home())
        paths, _ = QFileDialog.getOpenFileNames(self, "Open key CSV files", start, FILE_FILTER)
        if paths:
            self.open_paths(sorted(paths, key=_mtime) if len(paths) == 2 else paths)

    def choose_older_file(self) -> None:
        """Compare the shown file with an earlier export the user picks."""
        if self._shown is None:
            return
        path, _ = QFileDialog.getOpenFileName(
            self, "Open an earlier export to compare with", str(Path(self._shown.path).parent), FILE_FILTER
        )
        if path:
            self.open_paths([path, self._shown.path])

    def open_paths(self, paths: Sequence[str | Path]) -> bool:
        """Open one file, or two to compare (the first is the older export, the second is shown).

        Returns False (and says why) for any other number of files. Loading
        happens on a worker thread; ``loaded`` is emitted when the window shows
        the result.
        """
        names = [str(p) for p in paths]
        if not 1 <= len(names) <= 2:
            self._show_error_only(
                "Open one CSV file to review it, or two exports of the same account to compare them "
                f"({len(names)} were given)."
            )
            self.loaded.emit()
            return False
        shown, older = (names[1], names[0]) if len(names) == 2 else (names[0], None)
        self._generation += 1
        generation = self._generation
        self._set_loading(True, Path(shown).name)
        job = run_in_pool(load_files, shown, older, self._now(), name="review-load")
        job.succeeded.connect(lambda result: self._loaded(generation, result))
        job.failed.connect(lambda exc: self._load_crashed(generation, exc))
        return True

    def swap_comparison(self) -> None:
        """Treat the newer file as the older one and the other way round."""
        if self._shown is not None and self._older is not None:
            self.open_paths([self._shown.path, self._older.path])

    def is_loading(self) -> bool:
        return self._loading

    # ================================================================== results
    def _loaded(self, generation: int, result: LoadResult) -> None:
        if generation != self._generation:
            return  # a newer open superseded this one
        self._set_loading(False)
        self._shown, self._older = result.shown, result.older
        self._result, self._comparison = result.review, result.comparison
        self.reveal_button.setChecked(False)
        doc = result.shown.doc
        if doc is None or result.review is None:
            self.rows_model.set_document(None, None)
            self.flags_model.set_review(None)
            self.compare_model.set_comparison(None)
            message = f"Could not read {Path(result.shown.path).name}: {result.shown.error}"
            self._show_empty(message)
            self.loadFailed.emit(message)
            self.loaded.emit()
            return
        self.rows_model.set_document(doc, result.review)
        self.flags_model.set_review(result.review)
        self.compare_model.set_comparison(result.comparison)
        self._size_columns()
        self.stack.setCurrentWidget(self.tabs)
        self.compare_button.setEnabled(True)
        self._show_summary()
        self._show_banners()
        self._show_tabs()
        self.setWindowTitle(f"{Path(result.shown.path).name} — Review key CSV files")
        self.loaded.emit()

    def _load_crashed(self, generation: int, exc: object) -> None:
        if generation != self._generation:
            return
        self._set_loading(False)
        message = f"Could not review the file: {exc}"
        self._show_empty(message)
        self.loadFailed.emit(message)
        self.loaded.emit()

    def _set_loading(self, loading: bool, name: str = "") -> None:
        self._loading = loading
        set_enabled_keeping_focus(self.open_button, not loading)
        has_file = self._shown is not None and self._shown.doc is not None
        set_enabled_keeping_focus(self.compare_button, not loading and has_file)
        if loading:
            # The summary keeps its text until the new one is ready (so "summary shown" means it).
            self.statusBar().showMessage(f"Reading {name}…")
            if self.stack.currentWidget() is self.empty_state:
                self.empty_state.setText(f"Reading {name}…")
        else:
            self.statusBar().clearMessage()

    def _show_empty(self, error: str | None = None) -> None:
        self.stack.setCurrentWidget(self.empty_state)
        self.empty_state.setText(
            "Open a key CSV file (Download CSV of the Manage MCP Keys window, or a saved new key) "
            "or drop it here.\nDrop two exports to see what changed between them.\n\n"
            "Nothing leaves this computer: review needs no network and no sign-in."
        )
        self._set_summary("No file open.")
        self.secrets_banner.hide()
        self.reveal_button.hide()
        self.compare_button.setEnabled(False)
        self.setWindowTitle("Review key CSV files")
        if error:
            self.error_banner.show_message(html.escape(error), error)
        else:
            self.error_banner.hide()

    def _show_error_only(self, message: str) -> None:
        self.error_banner.show_message(html.escape(message), message)

    def _show_summary(self) -> None:
        assert self._result is not None and self._shown is not None
        s = self._result.summary
        parts = [f"<b>{s.total:,}</b> {'key' if s.total == 1 else 'keys'}"]
        if s.active is not None:
            parts.append(f"<b>{s.active:,}</b> active")
            parts.append(f"<b>{s.deactivated:,}</b> deactivated")
        if s.never_used is not None:
            parts.append(f"<b>{s.never_used:,}</b> never used")
            parts.append(f"<b>{s.unused_90_days:,}</b> unused for 90+ days")
        if s.oldest is not None and s.oldest.created_at is not None:
            name = html.escape(s.oldest.label or s.oldest.id or "")
            parts.append(f"oldest: “{name}”, created {s.oldest.created_at.date().isoformat()}")
        flagged = len(self._result.flagged)
        tone = accents().danger.name()
        worth = (
            f"<span style='color:{tone}'><b>{flagged:,}</b> {_need(flagged)} attention</span>" if flagged
            else "no key needs attention"
        )
        kind = "secret file" if s.holds_secrets else "key list"
        name = html.escape(Path(self._shown.path).name)
        self._set_summary(f"<b>{name}</b> ({kind}): " + " · ".join(parts) + f" · {worth}")
        self.summary.setToolTip(
            "Unused for 90+ days counts keys used before, but not in the last 90 days; never-used keys "
            f"are counted separately. As of {self._result.as_of.strftime('%Y-%m-%d %H:%M UTC')}."
        )
        self._update_count()

    def _set_summary(self, rich_text: str) -> None:
        """The summary, named by its own words for screen readers (a label's name hides its text)."""
        self.summary.setText(rich_text)
        self.summary.setAccessibleName(QTextDocumentFragment.fromHtml(rich_text).toPlainText())

    def _show_banners(self) -> None:
        assert self._result is not None and self._shown is not None
        holds = self._result.summary.holds_secrets
        self.reveal_button.setVisible(holds)
        if holds:
            plain = (
                "This file holds full MCP keys. Anyone who gets it can use your account: keep it in a "
                "password manager and delete this copy. The keys are hidden until you press Reveal keys."
            )
            self.secrets_banner.show_message(
                "<b>This file holds full MCP keys.</b> Anyone who gets it can use your account: keep it "
                "in a password manager and delete this copy. The keys are hidden until you press "
                "<i>Reveal keys</i>.",
                plain,
            )
        else:
            self.secrets_banner.hide()
        problems = self._problem_lines()
        if problems:
            plain = " ".join(problems)
            rich = "<br>".join(html.escape(p) for p in problems)
            self.error_banner.show_message(rich, plain)
            self.error_banner.setToolTip("\n".join(self._all_problem_lines()))
        else:
            self.error_banner.hide()

    def _problem_lines(self) -> list[str]:
        lines: list[str] = []
        for loaded, role in ((self._shown, "this file"), (self._older, "the older file")):
            if loaded is None:
                continue
            name = Path(loaded.path).name
            if loaded.doc is None:
                lines.append(f"Could not read {role} ({name}) to compare with: {loaded.error}")
                continue
            problems = loaded.doc.problems
            if not problems:
                continue
            count, parsed = len(problems), len(loaded.doc.rows)
            lines.append(
                f"{name}: {plural(count, 'row')} could not be read and "
                f"{'is' if count == 1 else 'are'} not shown; "
                + (f"the {parsed:,} rows that parsed are shown." if parsed != 1
                   else "the 1 row that parsed is shown.")
            )
            lines += [f"Line {p.line}: {p.message}" for p in problems[:MAX_PROBLEMS_SHOWN]]
            if count > MAX_PROBLEMS_SHOWN:
                lines.append(f"… and {count - MAX_PROBLEMS_SHOWN} more (hover for the list).")
        return lines

    def _all_problem_lines(self) -> list[str]:
        out = []
        for loaded in (self._shown, self._older):
            if loaded is not None and loaded.doc is not None:
                out += [f"{Path(loaded.path).name}: line {p.line}: {p.message}" for p in loaded.doc.problems]
        return out[:500]

    def _show_tabs(self) -> None:
        assert self._result is not None
        flagged = len(self._result.flagged)
        self.tabs.setTabText(self.tabs.indexOf(self.flags_table), f"Needs attention ({flagged:,})")
        comparing = self._older is not None
        changes_index = self.tabs.indexOf(self.changes_page)
        self.tabs.setTabVisible(changes_index, comparing)
        if not comparing:
            if self.tabs.currentIndex() == changes_index:
                self.tabs.setCurrentIndex(0)
            return
        assert self._older is not None and self._shown is not None
        older, newer = Path(self._older.path).name, Path(self._shown.path).name
        c = self._comparison
        if c is None:
            self.compare_summary.setText(f"Could not compare {older} with {newer}: {self._older.error}")
            self.tabs.setTabText(changes_index, "Changes")
        else:
            total = (len(c.added) + len(c.removed) + len(c.status_changed) + len(c.label_changed)
                     + len(c.rotations))
            rotated = f"{len(c.rotations)} rotated, " if c.rotations else ""
            self.compare_summary.setText(
                f"From {older} (older) to {newer} (newer): {len(c.added)} added, {len(c.removed)} removed, "
                f"{len(c.status_changed)} status changed, {len(c.label_changed)} label changed, "
                f"{rotated}{c.unchanged} unchanged."
            )
            self.tabs.setTabText(changes_index, f"Changes ({total:,})")
        self.tabs.setCurrentWidget(self.changes_page)

    def _size_columns(self) -> None:
        """Each column as wide as its content (header and the rows in view, within a cap); the
        label column takes what is left, so no horizontal scrollbar unless the columns cannot fit."""
        self._fit_columns(self.table, self.rows_model.column_of("label"))
        self._fit_columns(self.flags_table, self.flags_table.model().columnCount() - 1)
        self._fit_columns(self.compare_table, _column_titled(self.compare_table, "Label"))

    @staticmethod
    def _fit_columns(table: QTableView, stretch: int) -> None:
        header = table.horizontalHeader()
        header.setStretchLastSection(False)
        # Qt measures 1,000 rows per column by default (the rows in view, then around them):
        # ~80,000 data() calls and ~300 ms for a 100,000-row file (docs/performance.md). The rows
        # in view, and as many again around them, are what the user sees; a wider value further
        # down gets the cap's room or the column's drag handle like any other.
        header.setResizeContentsPrecision(FIT_ROWS)
        count = table.model().columnCount()
        cap = table.fontMetrics().averageCharWidth() * 42
        for col in range(count):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
            want = max(table.sizeHintForColumn(col), header.sectionSizeHint(col)) + 12
            header.resizeSection(col, min(want, cap))
        if 0 <= stretch < count:
            header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)

    # ================================================================== interaction
    def _filter_changed(self, text: str) -> None:
        self.rows_model.set_filter(text)
        self._update_count()

    def _update_count(self) -> None:
        """The status bar counts what the tab on show lists."""
        if self._result is None or self._loading:
            return
        page = self.tabs.currentWidget()
        if page is self.flags_table:
            count = self.flags_model.rowCount()
            text = f"{plural(count, 'key')} {_need(count)} attention"
        elif page is self.changes_page:
            text = plural(self.compare_model.rowCount(), "change")
        else:
            shown, total = self.rows_model.rowCount(), self._result.summary.total
            text = f"Showing {shown:,} of {plural(total, 'row')}" if shown != total else plural(total, "row")
        self.statusBar().showMessage(text)

    def _reveal_toggled(self, revealed: bool) -> None:
        self.rows_model.set_revealed(revealed)
        self.reveal_button.setText("Hide keys" if revealed else "Reveal keys")
        col = self.rows_model.column_of("key")
        if col >= 0:  # a full key is 40 characters: make room for it while shown
            if revealed:
                mono = QFontMetrics(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
                self.table.horizontalHeader().resizeSection(col, mono.horizontalAdvance("W" * 40) + 24)
            else:
                self._fit_columns(self.table, self.rows_model.column_of("label"))

    def _jump_to_flag(self, index: QModelIndex) -> None:
        """Double-clicking a flag shows its row in the Keys tab."""
        line = index.data(Role.LINE)
        if line is None:
            return
        row = self.rows_model.view_row_of_line(int(line))
        if row < 0 and (self.filter_input.text() or self.flagged_only.isChecked()):
            self.filter_input.clear()
            self.flagged_only.setChecked(False)
            row = self.rows_model.view_row_of_line(int(line))
        if row < 0:
            return
        self.tabs.setCurrentWidget(self.table)
        target = self.rows_model.index(row, 0)
        self.table.setCurrentIndex(target)
        self.table.scrollTo(target, QAbstractItemView.ScrollHint.PositionAtCenter)

    # ================================================================== drag and drop
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if _local_files(event.mimeData()) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if _local_files(event.mimeData()) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = _local_files(event.mimeData())
        if paths is None:
            event.ignore()
            return
        event.acceptProposedAction()
        # Two dropped files: the older (by modification time) is the one compared from.
        ordered = sorted(paths, key=_mtime) if len(paths) == 2 else paths
        QTimer.singleShot(0, lambda: self.open_paths(ordered))

    def showEvent(self, event: QShowEvent) -> None:
        if not self._placed:
            self._placed = True
            self.place_on_screen()
        super().showEvent(event)

    def place_on_screen(self) -> None:
        """Centred on the screen it opens on, and no larger than that screen leaves room for."""
        screen = self.screen() or QApplication.primaryScreen()
        if screen is None:
            return
        room = screen.availableGeometry()
        frame = self.frameGeometry().size() - self.geometry().size()  # title bar and borders
        width = min(self.width(), room.width() - frame.width())
        height = min(self.height(), room.height() - frame.height())
        self.resize(max(width, self.minimumWidth()), max(height, self.minimumHeight()))
        box = self.frameGeometry()
        box.moveCenter(room.center())
        self.move(box.topLeft())

    def closeEvent(self, event: QCloseEvent) -> None:
        # Forget the revealed state and the data when the window goes away.
        self.reveal_button.setChecked(False)
        self._generation += 1  # drop a load still in flight
        super().closeEvent(event)


def _local_files(mime: object) -> list[str] | None:
    """The local file paths in a drag, or None when it carries none (or anything else)."""
    if mime is None or not mime.hasUrls():  # type: ignore[attr-defined]
        return None
    paths = [url.toLocalFile() for url in mime.urls() if url.isLocalFile()]  # type: ignore[attr-defined]
    return paths or None


def _column_titled(table: QTableView, title: str) -> int:
    """The column whose header reads ``title`` (the last one when none does)."""
    model = table.model()
    for col in range(model.columnCount()):
        if model.headerData(col, Qt.Orientation.Horizontal) == title:
            return col
    return model.columnCount() - 1


def _need(count: int) -> str:
    return "needs" if count == 1 else "need"


def _mtime(path: str | Path) -> float:
    try:
        return Path(path).stat().st_mtime
    except OSError:
        return 0.0
