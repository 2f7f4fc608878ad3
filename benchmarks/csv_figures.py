"""Offline CSV review of a 100,000-row key-list export: open -> summary shown.

The file is written by core's own exporter (the Download CSV format of
hub-api.md) from generated keys. The baseline reads the same file with
``csv.reader`` into a list, the least any reader must do.
"""

from __future__ import annotations

import csv
import random
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from .context import Context
from .measure import Stats, ratio_of, time_calls
from .report import Row, ms, ms_spread, verdict
from .seeding import label_for

TITLE = "offline CSV review of {n} rows: open -> summary shown"


def write_export(path: Path, rows: int, seed_value: int = 11) -> Path:
    """A key-list CSV like a big account's export: varied labels, some duplicates, a tenth
    deactivated, a third never used, dates over two years."""
    from phhub_keys.core.csvio import key_list_csv
    from phhub_keys.core.keyformat import BASE62, KEY_PREFIX, RANDOM_LEN, checksum, redact
    from phhub_keys.core.models import KeyStatus, McpKey

    rng = random.Random(seed_value)
    now = datetime(2026, 11, 1, tzinfo=UTC)
    keys = []
    for i in range(rows):
        body = "".join(rng.choice(BASE62) for _ in range(RANDOM_LEN))
        created = now - timedelta(seconds=rng.randint(0, 730 * 86400))
        used = None if rng.random() < 0.33 else created + (now - created) * rng.random()
        keys.append(McpKey(
            id=f"mk_{rng.getrandbits(64):016x}",
            label=label_for(i if rng.random() > 0.02 else 0, rng),
            redacted=redact(KEY_PREFIX + body + checksum(body)),
            status=KeyStatus.DEACTIVATED if rng.random() < 0.1 else KeyStatus.ACTIVE,
            created_at=created.replace(microsecond=0),
            last_used_at=used.replace(microsecond=0) if used else None,
        ))
    path.write_text(key_list_csv(keys), encoding="utf-8", newline="")
    return path


def _baseline(path: Path) -> int:
    with open(path, newline="", encoding="utf-8") as handle:
        return len(list(csv.reader(handle)))


def _review_window_run(path: Path) -> tuple[float, str]:
    """Open ``path`` in the real CsvReviewWindow; seconds until its summary shows, and the summary."""
    from PySide6.QtWidgets import QWidget

    from phhub_keys.gui.review_window import CsvReviewWindow

    from .qtprobe import PaintProbe, ensure_app, settle, wait_until

    ensure_app()
    window = CsvReviewWindow()
    window.show()
    settle(50)
    summary = window.findChild(QWidget, "csvSummary")
    if summary is None:
        raise RuntimeError("CsvReviewWindow has no widget named csvSummary")
    probe = PaintProbe(summary)
    loaded: list[float] = []

    def on_loaded() -> None:
        loaded.append(time.perf_counter())
        probe.arm()  # the summary's next paint is the one that shows the result

    window.loaded.connect(on_loaded)
    start = time.perf_counter()
    if not window.open_paths([path]):
        raise RuntimeError("CsvReviewWindow refused the file")
    wait_until(lambda: bool(loaded) and probe.painted_at is not None, 60, "the review summary painted")
    elapsed = probe.painted_at - start  # type: ignore[operator]
    text = _summary_text(summary)
    window.close()
    window.deleteLater()
    settle(20)
    return elapsed, text


def _summary_text(widget) -> str:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QLabel

    labels = [widget] if isinstance(widget, QLabel) else []
    labels += widget.findChildren(QLabel)
    return " | ".join(label.text() for label in labels if label.text())


def csv_review(ctx: Context) -> Row:
    from phhub_keys.core.csvio import read_csv
    from phhub_keys.core.gc_pause import paused_gc
    from phhub_keys.core.review import review

    def read_and_review() -> object:
        with paused_gc():  # as the window's loader and 'phhub-keys review' do
            return review(read_csv(path))

    rows = ctx.sizes.csv_rows
    path = write_export(ctx.workdir / f"keys-{rows}.csv", rows)
    repeats = min(5, ctx.sizes.repeats)  # a run reads 10 MB: five make a stable median
    base = time_calls(lambda: _baseline(path), repeats)
    core = time_calls(read_and_review, min(3, repeats))
    samples = []
    text = ""
    for i in range(repeats + 1):
        elapsed, text = _review_window_run(path)
        if i:
            samples.append(elapsed)
    win = Stats.of(samples, "open -> summary painted")
    r = ratio_of(win.median, base.median, "CSV review")
    row = Row(TITLE.format(n=f"{rows:,}"), value=ms_spread(win.median, win.min, win.max),
              baseline=ms_spread(base.median, base.min, base.max) + " csv.reader",
              ratio=f"{r:.2f}x", target="<= 5x and < 1 s",
              verdict=verdict(r <= 5 and win.median < 1.0, ctx.quick))
    row.notes.append(f"{path.stat().st_size / 1e6:.1f} MB file; core read_csv + review alone "
                     f"{ms(core.median)}; summary shown: {text[:120]!r}")
    return row
