"""The review window as a newcomer meets it (issue 12 item 15): centred on its screen, one window
reused for `review FILE`, columns that fit without a horizontal scrollbar, a status bar that counts
what the tab shows, plain words for "nothing to do"."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from fixtures_gui import shown_review_window
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QTabBar
from review_samples import NOW, key, key_list_csv, write
from test_self_test import headless_env

from phhub_keys.core.models import KeyStatus
from phhub_keys.gui.review_window import CsvReviewWindow

SAMPLE = [
    key(1, "laptop", used=2),
    key(2, "ci runner", used=200),
    key(3, "old server", status=KeyStatus.DEACTIVATED, created=500, used=400),
    key(4, "never set up", created=60, used=None),
    key(5, "Laptop", created=100, used=10),
    key(6, "fresh", created=5, used=None),
]


def test_it_opens_centred_on_its_screen_and_fits_it(qtbot) -> None:
    window = shown_review_window(qtbot, NOW)
    room = window.screen().availableGeometry()
    frame = window.frameGeometry()
    assert room.contains(frame) or frame.width() <= window.minimumWidth()
    assert abs(frame.center().x() - room.center().x()) <= 2
    assert abs(frame.center().y() - room.center().y()) <= 2


def test_columns_fit_without_a_horizontal_scrollbar_and_counts_follow_the_tab(qtbot, tmp_path: Path) -> None:
    window = shown_review_window(qtbot, NOW)
    window.resize(1080, 600)
    path = write(tmp_path / "keys.csv", key_list_csv(SAMPLE))
    with qtbot.waitSignal(window.loaded, timeout=60_000):
        window.open_paths([str(path)])
    QApplication.processEvents()
    table = window.table
    assert not table.horizontalScrollBar().isVisible()
    header = table.horizontalHeader()
    for col in range(table.model().columnCount()):
        assert header.sectionSize(col) >= header.sectionSizeHint(col) - 12 or \
            header.sectionResizeMode(col) == header.ResizeMode.Stretch
    assert window.statusBar().currentMessage() == "6 rows"
    bar = window.tabs.findChild(QTabBar)
    flags_tab = window.tabs.indexOf(window.flags_table)
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(flags_tab).center())
    assert window.tabs.currentIndex() == flags_tab
    assert window.statusBar().currentMessage() == "4 keys need attention"
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(0).center())
    assert window.statusBar().currentMessage() == "6 rows"


def test_a_clean_file_says_no_key_needs_attention(qtbot, tmp_path: Path) -> None:
    window = shown_review_window(qtbot, NOW)
    path = write(tmp_path / "clean.csv", key_list_csv([key(1, "laptop", used=2)]))
    with qtbot.waitSignal(window.loaded, timeout=60_000):
        window.open_paths([str(path)])
    assert "no key needs attention" in window.summary.text()
    assert "worth action" not in window.summary.text()


def test_the_app_reuses_its_open_review_window(qtbot, make_controller, tmp_path: Path) -> None:
    controller = make_controller()
    first_file = write(tmp_path / "first.csv", key_list_csv(SAMPLE))
    second_file = write(tmp_path / "second.csv", key_list_csv(SAMPLE[:2]))
    first = controller.open_review([str(first_file)])
    qtbot.waitUntil(lambda: not first.is_loading() and first.rows_model.rowCount() == 6, timeout=60_000)
    controller.handle_message(["review", str(second_file)])  # a second `phhub-keys review FILE`
    qtbot.waitUntil(lambda: first.rows_model.rowCount() == 2, timeout=60_000)
    reviews = [w for w in controller.other_windows() if isinstance(w, CsvReviewWindow)]
    assert reviews == [first]
    assert "second.csv" in first.windowTitle()
    first.close()


def test_a_second_review_command_goes_to_the_review_window_already_open(tmp_path: Path) -> None:
    """Without the app: the first `phhub-keys review` window takes the second one's file."""
    env = {**headless_env(tmp_path), "QT_QPA_PLATFORM": "offscreen"}
    # A short private runtime dir: a socket path must stay under ~100 bytes.
    env["XDG_RUNTIME_DIR"] = tempfile.mkdtemp(prefix="phr-")
    first_file = write(tmp_path / "first.csv", key_list_csv(SAMPLE))
    second_file = write(tmp_path / "second.csv", key_list_csv(SAMPLE[:2]))
    first = subprocess.Popen([sys.executable, "-m", "phhub_keys", "review", str(first_file)], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        run_dir = Path(env["XDG_RUNTIME_DIR"])
        deadline = time.monotonic() + 60
        while not any(p.name.startswith("phhub-keys-") for p in run_dir.rglob("*")):  # listening
            assert first.poll() is None, first.communicate()
            if time.monotonic() > deadline:
                first.terminate()
                raise AssertionError(f"the first review window never listened: {first.communicate()}")
            time.sleep(0.2)
        second = subprocess.run([sys.executable, "-m", "phhub_keys", "review", str(second_file)], env=env,
                                capture_output=True, text=True, timeout=60)
        assert second.returncode == 0, second
        assert "opened in the running phhub-keys app" in second.stdout
        assert first.poll() is None  # the first window is still the one open
    finally:
        first.terminate()
        first.communicate(timeout=30)
        shutil.rmtree(env["XDG_RUNTIME_DIR"], ignore_errors=True)
