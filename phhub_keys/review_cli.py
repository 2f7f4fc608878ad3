"""``phhub-keys review``: review exported key CSV files offline, in the window or headless.

``review [FILE ...]`` opens the review window (two files: compare them).
``review FILE ... --summary [--json]`` prints each file's summary and flags.
``review --compare OLD NEW --summary|--json`` prints what changed between two exports
(without either, the window shows the comparison).

Exit codes: 0 all files read cleanly; 1 a file could not be read at all
(missing, not a CSV, not UTF-8...); 2 usage error; 3 a file was read but some
rows are malformed (the summary covers the rows that parsed; every problem is
on stderr with its line number). No network and no sign-in are needed; a full
secret is never printed, only its redacted form.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from .core.wording import plural
from .pipes import silence_closed_stdout
from .terminal import printable

EXIT_OK = 0
EXIT_UNREADABLE = 1
EXIT_USAGE = 2
EXIT_MALFORMED = 3
MAX_PROBLEMS_PRINTED = 50


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="phhub-keys review",
        description="Review exported MCP key CSV files offline: summary, keys that need attention, and "
        "changes between two exports. Opens a window unless --summary, --json or a printing --compare "
        "is asked for.",
        epilog="Exit codes: 0 ok, 1 a file could not be read, 2 usage error, "
        "3 some rows are malformed (summary of the rows that parsed; problems on stderr).",
    )
    parser.add_argument("files", nargs="*", metavar="FILE", help="key list or secret CSV files")
    parser.add_argument(
        "--summary", action="store_true", help="print the summary and flags instead of opening a window"
    )
    parser.add_argument("--json", action="store_true", help="print JSON (implies --summary)")
    parser.add_argument(
        "--compare", nargs=2, metavar=("OLD", "NEW"),
        help="what changed from OLD to NEW (printed with --summary/--json, else shown in the window)",
    )
    parser.add_argument(
        "--as-of", metavar="TIME", type=_timestamp,
        help="judge 'unused for 90 days' etc. as of this RFC 3339 time instead of now",
    )
    return parser


def _timestamp(text: str) -> datetime:
    from .core.timestamps import parse_ts

    try:
        value = parse_ts(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an RFC 3339 time with a timezone: {text!r} ({exc})") from None
    if value is None:
        raise argparse.ArgumentTypeError("empty time")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help
        return int(exc.code or 0)
    headless = args.summary or args.json
    if not headless:
        paths = list(args.compare) if args.compare else list(args.files)
        if args.compare and args.files:
            print("phhub-keys review: give FILE arguments or --compare OLD NEW, not both", file=sys.stderr)
            return EXIT_USAGE
        if len(paths) > 2:
            print("phhub-keys review: the window opens one file, or two to compare", file=sys.stderr)
            return EXIT_USAGE
        return open_window(paths)
    if not args.files and not args.compare:
        print("phhub-keys review: --summary needs a FILE (or --compare OLD NEW)", file=sys.stderr)
        return EXIT_USAGE
    try:
        return print_reports(args.files, args.compare, as_json=args.json, now=args.as_of)
    except BrokenPipeError:  # e.g. `review big.csv --json | head`: the reader left, nothing to report
        silence_closed_stdout()
        return EXIT_UNREADABLE


# --- headless ------------------------------------------------------------------------------------------


def _print(text: str, file: TextIO) -> None:
    """One human-readable line; file names and CSV cells may hold terminal escapes: shown escaped."""
    print(printable(text), file=file)


def print_reports(
    files: list[str],
    compare_pair: list[str] | None,
    *,
    as_json: bool,
    now: datetime | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Print summaries (and a comparison); returns the exit code described in the module docstring.

    The cyclic GC pauses while the files are read and reviewed (core.gc_pause): this command
    owns the process.
    """
    from .core.gc_pause import paused_gc

    with paused_gc():
        return _print_reports(files, compare_pair, as_json=as_json, now=now, out=out, err=err)


def _print_reports(
    files: list[str],
    compare_pair: list[str] | None,
    *,
    as_json: bool,
    now: datetime | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    from .core.csvio import CsvDocument, CsvFormatError, read_csv
    from .core.review import compare, review
    from .core.timestamps import utcnow

    out = out or sys.stdout
    err = err or sys.stderr
    now = now or utcnow()
    unreadable = malformed = False
    docs: dict[str, CsvDocument] = {}
    for name in [*files, *(compare_pair or [])]:
        if name in docs:
            continue
        try:
            docs[name] = read_csv(name)
        except CsvFormatError as exc:
            _print(f"phhub-keys review: {name}: {exc}", file=err)
            unreadable = True
        except OSError as exc:
            _print(f"phhub-keys review: {name}: {exc.strerror or exc}", file=err)
            unreadable = True
    for name, doc in docs.items():
        if doc.problems:
            _print_problems(name, doc, err)
            malformed = True
    if unreadable:
        return EXIT_UNREADABLE
    code = EXIT_MALFORMED if malformed else EXIT_OK

    reports = []
    for name in files:
        data = review(docs[name], now).to_json()
        reports.append({"file": name, **data})
    comparison = None
    if compare_pair:
        old, new = compare_pair
        comparison = {"old": old, "new": new, **compare(docs[old], docs[new]).to_json()}

    if as_json:
        payload: Any
        if comparison is not None and not reports:
            payload = comparison
        elif comparison is None and len(reports) == 1:
            payload = reports[0]
        else:
            payload = {"files": reports, "compare": comparison}
        json.dump(payload, out, indent=2, ensure_ascii=False)
        out.write("\n")
    else:
        for report in reports:
            _print_summary(report, out)
        if comparison is not None:
            _print_comparison(comparison, out)
    return code


def _print_problems(name: str, doc: Any, err: TextIO) -> None:
    problems = doc.problems
    _print(
        f"phhub-keys review: {name}: {plural(len(problems), 'malformed row')} skipped; "
        f"{plural(len(doc.rows), 'row')} read",
        file=err,
    )
    for problem in problems[:MAX_PROBLEMS_PRINTED]:
        _print(f"  {name}: line {problem.line}: {problem.message}", file=err)
    if len(problems) > MAX_PROBLEMS_PRINTED:
        _print(f"  ... and {len(problems) - MAX_PROBLEMS_PRINTED} more", file=err)


def _figure(value: int | None) -> str:
    return "n/a" if value is None else str(value)


def _print_summary(report: dict[str, Any], out: TextIO) -> None:
    kind = "secret file (full keys: keep it in a password manager)" if report["holds_secrets"] else "key list"
    _print(f"{report['file']}: {kind}", file=out)
    _print(
        f"  total {report['total']}  active {_figure(report['active'])}  "
        f"deactivated {_figure(report['deactivated'])}  never used {_figure(report['never_used'])}  "
        f"unused 90+ days {_figure(report['unused_90_days'])}"
        + (f"  expired {report['expired']}" if report.get("expired") is not None else "")
        + (f"  expiring within 30 days {report['expiring_30_days']}"
           if report.get("expiring_30_days") is not None else ""),
        file=out,
    )
    oldest = report["oldest_key"]
    if oldest:
        _print(
            f"  oldest key: {oldest['label']!r} ({oldest['key'] or oldest['id']}), "
            f"created {oldest['created_at']}",
            file=out,
        )
    flags = report["flags"]
    _print(f"  flags: {len(flags)}" if flags else "  flags: none", file=out)
    for flag in flags:
        _print(f"    line {flag['line']}: {flag['label']!r}: {flag['reason']}", file=out)


def _print_comparison(comparison: dict[str, Any], out: TextIO) -> None:
    _print(f"changes from {comparison['old']} to {comparison['new']}:", file=out)
    for row in comparison["added"]:
        _print(f"  added    {row['key']}  {row['label']!r}", file=out)
    for row in comparison["removed"]:
        _print(f"  removed  {row['key']}  {row['label']!r}", file=out)
    for change in comparison["status_changed"]:
        _print(
            f"  status   {change['key']}  {change['new_label']!r}: "
            f"{change['old_status']} -> {change['new_status']}",
            file=out,
        )
    for change in comparison["label_changed"]:
        _print(f"  label    {change['key']}  {change['old_label']!r} -> {change['new_label']!r}", file=out)
    for rotation in comparison.get("rotations", []):
        state = f" (old key now {rotation['old_status']})" if rotation["old_status"] else ""
        _print(f"  rotated  {rotation['old_key']} -> {rotation['new_key']}  {rotation['new_label']!r}{state}",
               file=out)
    _print(f"  unchanged {comparison['unchanged']}", file=out)


# --- window --------------------------------------------------------------------------------------------


def open_window(paths: list[str]) -> int:
    """The review window: in the running app when there is one, else on its own (no hub, no sign-in)."""
    from .gui.app import display_problem

    problem = display_problem()
    if problem:
        print(f"phhub-keys review: {problem}; use --summary to print instead", file=sys.stderr)
        return EXIT_UNREADABLE
    from PySide6.QtWidgets import QApplication

    from .gui.review_window import CsvReviewWindow

    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "phhub-keys"])
    assert isinstance(app, QApplication)
    forward: Callable[..., bool] | None
    try:
        from .gui.single_instance import forward_review as forward
    except ImportError:  # pragma: no cover - a build without the app
        forward = None
    if forward is not None and forward([str(p) for p in paths]):
        print("phhub-keys review: opened in the running phhub-keys app")
        return 0
    app.setApplicationName("phhub-keys")
    app.setApplicationDisplayName("MCP Keys")
    app.setDesktopFileName("io.github.phhub_keys")
    try:
        from .gui.tray import app_icon

        app.setWindowIcon(app_icon())
    except (ImportError, FileNotFoundError):  # pragma: no cover - a build without icons still reviews
        pass
    window = CsvReviewWindow()
    window.show()
    if paths:
        window.open_paths([str(Path(p)) for p in paths])
    listener = _listen_for_more_reviews(window)
    try:
        return app.exec()
    finally:
        if listener is not None:
            listener.close()


def _listen_for_more_reviews(window: Any) -> Any:
    """A later ``phhub-keys review FILE`` opens its file(s) in this window instead of a second one."""
    try:
        from .gui.settings import default_settings_path
        from .gui.single_instance import REVIEW_MODE, SingleInstance, server_name
    except ImportError:  # pragma: no cover - a build without the app
        return None
    listener = SingleInstance(server_name(REVIEW_MODE, str(default_settings_path().parent)))
    if not listener.listen():
        return None

    def handle(argv: list[str]) -> None:
        files = [a for a in argv[1:] if not a.startswith("-")] if argv[:1] == ["review"] else []
        if files:
            window.open_paths(files)
        if window.isMinimized():
            window.showNormal()
        window.show()
        window.raise_()
        window.activateWindow()

    listener.messageReceived.connect(handle)
    return listener
