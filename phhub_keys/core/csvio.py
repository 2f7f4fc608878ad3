"""CSV files of keys: the key list export and the shown-once secret file.

Writing escapes spreadsheet formulas (CSV injection); reading is tolerant of
what people and spreadsheets do to files (BOM, CRLF, ``;``, header words) and
reports problems by line number instead of failing on the first bad row.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import repeat
from operator import attrgetter, contains, itemgetter
from pathlib import Path
from typing import Any, NamedTuple

from .keyformat import KEY_LEN, KEY_PREFIX, is_valid_key
from .models import KeyStatus, McpKey, NewKey
from .timestamps import format_ts, parse_ts

# v2 (key hygiene) appended expires_at and replaces; readers accept files without them.
KEY_LIST_HEADER = ("id", "label", "key", "status", "created_at", "last_used_at", "expires_at", "replaces")
SECRET_HEADER = ("label", "key", "server_url", "created_at")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A hub caps an account at 10,000 keys (~1 MB of CSV); 64 MB leaves room for merged exports
# while bounding the parse (about 10x the file size at peak, mostly csv module copies).
MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_FIELD_CHARS = 64 * 1024

# Header words a person might type, mapped to our column names.
HEADER_ALIASES: dict[str, str] = {
    "id": "id",
    "identifier": "id",
    "key id": "id",
    "key_id": "id",
    "label": "label",
    "name": "label",
    "key": "key",
    "api key": "key",
    "mcp key": "key",
    "secret": "key",
    "redacted": "key",
    "status": "status",
    "state": "status",
    "created": "created_at",
    "created_at": "created_at",
    "created at": "created_at",
    "last used": "last_used_at",
    "last_used": "last_used_at",
    "last_used_at": "last_used_at",
    "last used at": "last_used_at",
    "expires": "expires_at",
    "expires_at": "expires_at",
    "expires at": "expires_at",
    "expiry": "expires_at",
    "replaces": "replaces",
    "rotated from": "replaces",
    "server url": "server_url",
    "server_url": "server_url",
    "url": "server_url",
}


class CsvFormatError(ValueError):
    """A file that cannot be read as a key CSV at all; ``line`` says where (1-based)."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(f"line {line}: {message}" if line else message)
        self.line = line
        self.reason = message


def escape_cell(value: str) -> str:
    """Prefix a ``'`` so spreadsheets never evaluate the cell as a formula."""
    if value.startswith(FORMULA_STARTS) or value.startswith("'"):
        return "'" + value
    return value


def unescape_cell(value: str) -> str:
    """Undo exactly the escape that ``escape_cell`` adds."""
    if value.startswith("'") and value[1:].startswith((*FORMULA_STARTS, "'")):
        return value[1:]
    return value


def _write(header: Iterable[str], rows: Iterable[Iterable[str | None]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(list(header))
    for row in rows:
        writer.writerow([escape_cell(cell or "") for cell in row])
    return buf.getvalue()


def key_list_csv(keys: Iterable[McpKey]) -> str:
    """The Download CSV text: one row per key, redacted key only."""
    return _write(
        KEY_LIST_HEADER,
        (
            (k.id, k.label, k.redacted, k.status.value, format_ts(k.created_at), format_ts(k.last_used_at),
             format_ts(k.expires_at), k.replaces)
            for k in keys
        ),
    )


def write_key_list_csv(path: str | os.PathLike[str], keys: Iterable[McpKey]) -> Path:
    """Write the key list export to ``path`` owner-only (0600), atomically.

    The one code path for the window's Download CSV and ``keys export``: the list names
    every key, its label and where it was last used, which is nobody else's business.
    """
    from .safefile import write_private_text

    return write_private_text(path, key_list_csv(keys))


def new_secret_csv(new_key: NewKey, server_url: str) -> str:
    """The shown-once CSV text, holding the full secret: save it with write_private_text."""
    return _write(
        SECRET_HEADER,
        [(new_key.key.label, new_key.secret, server_url, format_ts(new_key.key.created_at))],
    )


class CsvRow(NamedTuple):
    """One parsed row; fields a file lacks are None. ``key`` may be a full secret.

    A NamedTuple rather than a frozen dataclass: equally immutable, and three
    times cheaper to build, which matters for 100,000-row files.
    """

    line: int
    id: str | None = None
    label: str | None = None
    key: str | None = None
    status: KeyStatus | None = None
    created_at: datetime | None = None
    last_used_at: datetime | None = None
    server_url: str | None = None
    expires_at: datetime | None = None  # empty or "never": no expiry
    replaces: str | None = None  # the id of the key this one was rotated from

    @property
    def holds_secret(self) -> bool:
        return bool(self.key) and is_valid_key(self.key or "")

    def __repr__(self) -> str:
        shown = "<secret>" if self.holds_secret else self.key
        return f"CsvRow(line={self.line}, id={self.id!r}, label={self.label!r}, key={shown!r})"


@dataclass(frozen=True, slots=True)
class CsvProblem:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass(slots=True)
class CsvDocument:
    """What a CSV file held: the rows that parsed and the problems of the rest."""

    kind: str  # "key_list" | "secrets"
    columns: tuple[str, ...]
    rows: list[CsvRow] = field(default_factory=list)
    problems: list[CsvProblem] = field(default_factory=list)
    # The parser's column lists (field name -> one value per row), so core.review need not pull
    # them out of 100,000 rows again. Trusted only while ``rows`` is still the list they describe.
    _column_cache: tuple[list[CsvRow], dict[str, list[Any]]] | None = field(
        default=None, repr=False, compare=False
    )

    @property
    def holds_secrets(self) -> bool:
        return any_secret(self.column("key"))

    def column(self, name: str) -> list[Any]:
        """One field of every row, e.g. ``column("status")`` (None where the file lacks it)."""
        cache = self._column_cache
        rows = self.rows
        if (
            cache is not None
            and cache[0] is rows
            and len(cache[1]["line"]) == len(rows)
            and (not rows or (cache[1]["line"][0] == rows[0].line and cache[1]["line"][-1] == rows[-1].line))
            and name in cache[1]
        ):
            return cache[1][name]
        return list(map(itemgetter(CsvRow._fields.index(name)), rows))


def any_secret(keys: Iterable[str | None]) -> bool:
    """True when a value is a full, valid key (checks only the few of full length)."""
    present: list[str] = list(filter(None, keys))
    if KEY_LEN not in set(map(len, present)):  # in C: a key list export holds only shorter previews
        return False
    full = [k for k in present if len(k) == KEY_LEN]
    return any(map(is_valid_key, full))


def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), or UTF-16 with a BOM as Excel's "Unicode text" writes it."""
    utf16 = data[:2] in (b"\xff\xfe", b"\xfe\xff")
    encoding = "utf-16" if utf16 else "utf-8-sig"
    if not utf16 and b"\x00" in data[:4096]:
        raise CsvFormatError("this is not a text file (it contains NUL bytes)")
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].decode(encoding, errors="replace").count("\n") + 1
        name = "UTF-16" if utf16 else "UTF-8"
        raise CsvFormatError(f"the file is not {name} text (save it as UTF-8 CSV)", line) from None
    if utf16 and "\x00" in text[:4096]:
        raise CsvFormatError("this is not a text file (it contains NUL characters)")
    return text


def _sniff_delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


_FIRST_LINE = re.compile(r"[^\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]*")  # str.splitlines' first line
_CSV_LINE = re.compile(r"[^\r\n]*")  # csv.reader's first line
_STATUS_WORDS: dict[str, KeyStatus | None] = {
    "": None,
    "active": KeyStatus.ACTIVE,
    "deactivated": KeyStatus.DEACTIVATED,
    "inactive": KeyStatus.DEACTIVATED,
    "disabled": KeyStatus.DEACTIVATED,
    "expired": KeyStatus.EXPIRED,
}
# Status cells exactly as exports and spreadsheets write them: one dict lookup per cell, in C.
_STATUS_CELLS = {
    variant: status
    for word, status in _STATUS_WORDS.items()
    for variant in (word, word.title(), word.upper())
}
_NO_TIME = frozenset(("", "never", "-"))
_TIME_COLUMNS = ("created_at", "last_used_at", "expires_at")
_UNKNOWN = object()
_DAMAGED_KEY = "the key column holds a damaged key (its checksum does not match)"
_tzinfo = attrgetter("tzinfo")


def _unescaped(values: list[str]) -> list[str]:
    # One join and one substring search find a cell starting with the escape quote.
    if "\x00'" in "\x00" + "\x00".join(values):
        return [v if v[:1] != "'" else unescape_cell(v) for v in values]
    return values


def _none_for_empty(values: list[str]) -> list[str | None]:
    return [v or None for v in values] if "" in values else values  # type: ignore[return-value]


def _clean_column(cells: Sequence[str]) -> list[str]:
    """Strip stray spaces and the formula escape, as every non-label cell allows."""
    return _unescaped(list(map(str.strip, cells)))


def _convert_column(
    name: str, cells: Sequence[str], bad: dict[int, str], longest: int | None = None
) -> list[object]:
    """Convert one column of raw cells; a cell that fails records its row's first problem in ``bad``.

    Whole columns at a time: the common case is a few passes of map()/``in``
    that run in C, with a per-cell Python path only for a column that needs it
    (odd status words, other time formats, formula escapes), so a
    100,000-row file costs a few list passes rather than a Python call per cell.
    """
    if cells and (longest is None or longest > MAX_FIELD_CHARS) and max(map(len, cells)) > MAX_FIELD_CHARS:
        for pos, raw in enumerate(cells):
            if len(raw) > MAX_FIELD_CHARS:
                bad.setdefault(pos, f"the {name} field is too long ({len(raw)} characters)")
    if name == "label":
        # Labels keep their exact text; other cells forgive stray spaces.
        return _none_for_empty(_unescaped(list(cells)))  # type: ignore[return-value]
    if name == "status":
        statuses = list(map(_STATUS_CELLS.get, cells, repeat(_UNKNOWN)))
        if _UNKNOWN not in statuses:
            return statuses
        values = _clean_column(cells)
        statuses = list(map(_STATUS_WORDS.get, map(str.lower, values), repeat(_UNKNOWN)))
        for pos, status in enumerate(statuses):
            if status is _UNKNOWN:
                bad.setdefault(pos, f"unknown status {values[pos]!r} "
                                    "(expected active, deactivated or expired)")
                statuses[pos] = None
        return statuses
    if name in _TIME_COLUMNS:
        if "" not in cells:  # the common case: every cell a clean RFC 3339 UTC time, no cleaning needed
            try:
                times = list(map(datetime.fromisoformat, cells))
                if set(map(_tzinfo, times)) <= {UTC}:
                    return times  # type: ignore[return-value]
            except ValueError:
                pass
        return _convert_times(name, _clean_column(cells), bad)
    return _none_for_empty(_clean_column(cells))  # type: ignore[return-value]


def _convert_times(name: str, values: list[str], bad: dict[int, str]) -> list[object]:
    fromiso = datetime.fromisoformat
    times: list[object]
    try:
        # Fast path for what this project writes (...Z) and empty cells.
        times = [fromiso(v) if v else None for v in values] if "" in values else list(map(fromiso, values))
        if set(map(_tzinfo, filter(None, times))) <= {UTC}:
            return times
    except ValueError:
        times = [_UNKNOWN] * len(values)
    for pos, value in enumerate(times):
        if value is None or (value is not _UNKNOWN and value.tzinfo is UTC):  # type: ignore[attr-defined]
            continue
        text = values[pos]
        if text.lower() in _NO_TIME:
            times[pos] = None
            continue
        try:
            times[pos] = parse_ts(text)
        except ValueError:
            bad.setdefault(pos, f"{name} is not a timestamp: {text[:40]!r}")
            times[pos] = None
    return times


def parse_csv_text(text: str) -> CsvDocument:
    """Parse CSV text of either format; raises CsvFormatError when no row can be read.

    Built for 100,000-row files: rows are gathered first, then converted
    column by column (see _convert_column).
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text or text.isspace():
        raise CsvFormatError("the file is empty")
    first_line = _FIRST_LINE.match(text).group()  # type: ignore[union-attr]
    delimiter = _sniff_delimiter(first_line)
    header_line = _CSV_LINE.match(text).group()  # type: ignore[union-attr]
    if len(header_line) > csv.field_size_limit():
        raise CsvFormatError(f"the header line is too long ({len(header_line)} characters); "
                             "this is not a key CSV file", 1)
    reader: Iterator[list[str]] | None = None
    if '"' in header_line:
        reader = _reader(text, delimiter)
        try:
            header = next(reader)
        except csv.Error as exc:
            raise CsvFormatError(f"unreadable header: {_csv_error_text(exc, '')}", 1) from None
    else:
        # Without a quote, csv.reader's first record is exactly this split; a reader over the whole
        # text would copy all of it (tens of MB for a big file) just to read the header.
        header = header_line.split(delimiter)
    columns = [HEADER_ALIASES.get(h.strip().lower().lstrip("'")) for h in header]
    known = {c for c in columns if c}
    if "key" not in known and "label" not in known:
        raise CsvFormatError(
            "no 'label' or 'key' column in the header; expected e.g. " + ",".join(KEY_LIST_HEADER), 1
        )
    kind = "secrets" if "server_url" in known or ("id" not in known and "status" not in known) else "key_list"
    doc = CsvDocument(kind=kind, columns=tuple(c for c in columns if c))
    plain = _split_plain(text, delimiter, len(header)) if reader is None else None
    if plain is not None:
        return _parse_rows(doc, columns, *plain)
    if reader is None:
        reader = _reader(text, delimiter)
        next(reader)
    return _parse_rows(doc, columns, *_gather(reader, text, delimiter, len(header)))


_Column = Callable[[int], Sequence[str]]  # column index -> that column's cells, one per record


def _parse_rows(
    doc: CsvDocument,
    columns: list[str | None],
    lines: Sequence[int],
    column_cells: _Column,
    problems: list[CsvProblem],
    longest: int | None = None,
) -> CsvDocument:
    """Convert the gathered records into rows; a row with a bad cell becomes a problem instead.

    ``longest`` bounds every cell's length when the gatherer already knows it.
    """
    bad: dict[int, str] = {}
    by_field: dict[str, list[Any]] = {}
    for index, name in enumerate(columns):
        if name:  # a repeated column overrides the earlier one, as a dict would
            by_field[name] = _convert_column(name, column_cells(index), bad, longest)
    keys = by_field.get("key")
    present = list(filter(None, keys)) if keys is not None else []
    # Only a key without "..." (not a redacted preview) can be a damaged full key.
    if keys is not None and sum(map(contains, present, repeat("..."))) != len(present):
        for pos, key in enumerate(keys):
            if (
                isinstance(key, str)
                and key.startswith(KEY_PREFIX)
                and "..." not in key
                and not is_valid_key(key)
            ):
                bad.setdefault(pos, _DAMAGED_KEY)

    fields = [by_field.get(name, repeat(None)) for name in CsvRow._fields[1:]]
    # tuple.__new__ straight from C: CsvRow's own __new__ is a Python function (twice the cost).
    rows = list(map(tuple.__new__, repeat(CsvRow), zip(lines, *fields, strict=False)))
    if bad:
        problems.extend(CsvProblem(lines[pos], message) for pos, message in bad.items())
        problems.sort(key=lambda problem: problem.line)
        rows = [row for pos, row in enumerate(rows) if pos not in bad]
    else:
        by_field["line"] = list(lines)
        doc._column_cache = (rows, by_field)
    doc.rows, doc.problems = rows, problems
    if doc.kind == "secrets" and doc.rows and not doc.holds_secrets:
        doc.kind = "key_list"
    return doc


def _split_plain(
    text: str, delimiter: str, width: int
) -> tuple[range, _Column, list[CsvProblem], int] | None:
    """The fastest path, for the common export with no quotes at all: plain ``str.split``.

    Without a quote character csv.reader does nothing but split lines and
    cells, so splitting the whole text at once (in C) gives the same cells
    with far fewer objects. Each line break becomes a delimiter plus a NUL
    marker (a file with NUL never gets here), so one split yields every cell
    (the header's first), and the markers prove every line has exactly
    ``width`` cells. Anything unusual (quotes, NUL, bare CR or LF, blank
    lines, a line of the wrong width, a giant cell) returns None for the
    csv.reader path. Returns the lines, the columns, no problems, and the
    longest cell's length.

    Every step is one C-level pass over the text or the cells; no step copies
    the text other than the one ``replace`` (a 100,000-row file is ~10 M
    characters, and each pass over it costs milliseconds).
    """
    if '"' in text or "\x00" in text:
        return None
    newline = "\r\n" if "\r" in text else "\n"
    marked = text.replace(newline, delimiter + "\x00")
    if "\r" in marked or "\n" in marked:
        return None  # a CR or LF that is not one of the file's line breaks
    markers = marked.count("\x00")
    if not markers:
        return None  # the header alone
    flat = marked.split(delimiter)
    del marked
    while flat[-1] == "\x00":  # line breaks at the end (trailing blank lines are skipped anyway)
        flat.pop()
        markers -= 1
    if len(flat) % width or len(flat) == width:
        return None
    # The first cell of every data line; each must carry one marker, and no other cell any (every
    # marker follows a delimiter, so it can only open a cell: counting them proves both).
    starts = flat[width::width]
    joined = "".join(starts)
    if markers != len(starts) or joined.count("\x00") != markers:
        return None
    first = joined.split("\x00")[1:]
    if "" in map(str.strip, first):  # maybe blank lines: the slow path skips them
        return None
    longest = max(map(len, flat))
    if longest > csv.field_size_limit():
        return None

    def column(index: int) -> Sequence[str]:
        return first if index == 0 else flat[width + index :: width]

    return range(2, 2 + len(starts)), column, [], longest


def _gather(
    reader: Iterator[list[str]], text: str, delimiter: str, width: int
) -> tuple[Sequence[int], _Column, list[CsvProblem]]:
    """Read the data rows with the line each starts on; rows of the wrong width become problems."""
    header_end: int = reader.line_num  # type: ignore[attr-defined]
    try:
        records = list(reader)
    except csv.Error:
        records = None
    # Fast path: a clean file where every record is one physical line, so the
    # line numbers follow from the positions.
    trailing_blank_lines = 0
    while records and not records[-1]:
        records.pop()
        trailing_blank_lines += 1
    consumed = reader.line_num - header_end - trailing_blank_lines  # type: ignore[attr-defined]
    if (
        records is not None
        and consumed == len(records)
        and set(map(len, records)) <= {width}
        and "" not in map(str.strip, map(itemgetter(0), records))  # maybe blank rows: take the slow path
    ):
        return range(header_end + 1, header_end + 1 + len(records)), _columns_of(records), []
    lines, records, problems = _gather_slowly(_reader(text, delimiter), width)
    return lines, _columns_of(records), problems


def _columns_of(records: list[list[str]]) -> _Column:
    return lambda index: tuple(map(itemgetter(index), records))  # faster than zip(*records)


def _gather_slowly(
    reader: Iterator[list[str]], width: int
) -> tuple[list[int], list[list[str]], list[CsvProblem]]:
    """Row by row, tracking lines: for files with problems or multi-line cells."""
    lines: list[int] = []
    records: list[list[str]] = []
    problems: list[CsvProblem] = []
    next(reader)
    end = reader.line_num  # type: ignore[attr-defined]
    try:
        for cells in reader:
            start, end = end + 1, reader.line_num  # type: ignore[attr-defined]
            if not "".join(cells).strip():
                continue
            if len(cells) == width:
                lines.append(start)
                records.append(cells)
            else:
                problems.append(CsvProblem(start, f"expected {width} columns, found {len(cells)}"))
    except csv.Error as exc:
        # A broken quote swallows the rest of the file; stop instead of guessing.
        problems.append(CsvProblem(end + 1, _csv_error_text(exc)))
    return lines, records, problems


def _csv_error_text(exc: csv.Error, other: str = "bad quoting: ") -> str:
    """What a csv.Error means for the person: a giant field is not a quoting mistake."""
    if "field larger than field limit" in str(exc):
        return (f"a field is too long (over {csv.field_size_limit()} characters; a quote may be "
                "missing, so the rest of the file was read as one field)")
    return f"{other}{exc}"


def _reader(text: str, delimiter: str) -> Iterator[list[str]]:
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)


def read_csv(path: str | os.PathLike[str]) -> CsvDocument:
    """Read a key CSV file from disk; raises CsvFormatError or OSError."""
    from .userfiles import FileRefused, NotRegularFile, TooLarge, read_regular

    try:
        data = read_regular(path, MAX_FILE_BYTES)  # a regular file only: never a pipe or /dev/zero
    except TooLarge as exc:
        raise CsvFormatError(
            f"the file is too large ({exc.size / (1024 * 1024):.0f} MB; key exports are at most a few MB, "
            f"and files over {MAX_FILE_BYTES // (1024 * 1024)} MB are not read): is it the right file?"
        ) from None
    except NotRegularFile as exc:
        raise CsvFormatError(f"it is {exc.kind}, not a regular file: nothing was read") from None
    except FileRefused as exc:
        raise CsvFormatError(str(exc)) from None
    return parse_csv_text(_decode(data))
