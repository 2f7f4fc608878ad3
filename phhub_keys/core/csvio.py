"""CSV files of keys: the key list export and the shown-once secret file.

Writing escapes spreadsheet formulas (CSV injection); reading is tolerant of
what people and spreadsheets do to files (BOM, CRLF, ``;``, header words) and
reports problems by line number instead of failing on the first bad row.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from .keyformat import KEY_PREFIX, is_valid_key
from .models import KeyStatus, McpKey, NewKey
from .timestamps import format_ts, parse_ts

KEY_LIST_HEADER = ("id", "label", "key", "status", "created_at", "last_used_at")
SECRET_HEADER = ("label", "key", "server_url", "created_at")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MAX_FILE_BYTES = 256 * 1024 * 1024
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
            (k.id, k.label, k.redacted, k.status.value, format_ts(k.created_at), format_ts(k.last_used_at))
            for k in keys
        ),
    )


def new_secret_csv(new_key: NewKey, server_url: str) -> str:
    """The shown-once CSV text, holding the full secret: save it with write_private_text."""
    return _write(
        SECRET_HEADER,
        [(new_key.key.label, new_key.secret, server_url, format_ts(new_key.key.created_at))],
    )


@dataclass(frozen=True, slots=True)
class CsvRow:
    """One parsed row; fields a file lacks are None. ``key`` may be a full secret."""

    line: int
    id: str | None = None
    label: str | None = None
    key: str | None = None
    status: KeyStatus | None = None
    created_at: datetime | None = None
    last_used_at: datetime | None = None
    server_url: str | None = None

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

    @property
    def holds_secrets(self) -> bool:
        return any(row.holds_secret for row in self.rows)


def _decode(data: bytes) -> str:
    if b"\x00" in data[:4096]:
        raise CsvFormatError("this is not a text file (it contains NUL bytes)")
    for encoding in ("utf-8-sig", "utf-16") if data[:2] in (b"\xff\xfe", b"\xfe\xff") else ("utf-8-sig",):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise CsvFormatError("the file is not UTF-8 text (save it as UTF-8 CSV)", line) from None
    raise CsvFormatError("the file is not UTF-8 text")  # pragma: no cover


def _sniff_delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def parse_csv_text(text: str) -> CsvDocument:
    """Parse CSV text of either format; raises CsvFormatError when no row can be read."""
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise CsvFormatError("the file is empty")
    first_line = text.splitlines()[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(first_line), strict=True)
    try:
        header = next(reader)
    except csv.Error as exc:
        raise CsvFormatError(f"unreadable header: {exc}", 1) from None
    columns = [HEADER_ALIASES.get(h.strip().lower().lstrip("'")) for h in header]
    known = {c for c in columns if c}
    if "key" not in known and "label" not in known:
        raise CsvFormatError(
            "no 'label' or 'key' column in the header; expected e.g. " + ",".join(KEY_LIST_HEADER), 1
        )
    kind = "secrets" if "server_url" in known or ("id" not in known and "status" not in known) else "key_list"
    doc = CsvDocument(kind=kind, columns=tuple(c for c in columns if c))
    while True:
        line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            doc.problems.append(CsvProblem(line, f"bad quoting: {exc}"))
            # A broken quote swallows the rest of the file; stop instead of guessing.
            break
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            doc.problems.append(
                CsvProblem(line, f"expected {len(header)} columns, found {len(cells)}")
            )
            continue
        row, problem = _row(line, columns, cells)
        if problem:
            doc.problems.append(CsvProblem(line, problem))
        else:
            doc.rows.append(row)
    if kind == "secrets" and doc.rows and not doc.holds_secrets:
        doc.kind = "key_list"
    return doc


def _row(line: int, columns: list[str | None], cells: list[str]) -> tuple[CsvRow, str | None]:
    values: dict[str, object] = {}
    for name, raw in zip(columns, cells, strict=True):
        if not name:
            continue
        if len(raw) > MAX_FIELD_CHARS:
            return CsvRow(line), f"the {name} field is too long ({len(raw)} characters)"
        # Labels keep their exact text; other cells forgive stray spaces.
        value = unescape_cell(raw if name == "label" else raw.strip())
        if name == "status":
            word = value.lower()
            if not word:
                values[name] = None
                continue
            if word in ("active", "deactivated", "inactive", "disabled"):
                values[name] = KeyStatus.ACTIVE if word == "active" else KeyStatus.DEACTIVATED
            else:
                return CsvRow(line), f"unknown status {value!r} (expected active or deactivated)"
        elif name in ("created_at", "last_used_at"):
            if value.lower() in ("", "never", "-"):
                values[name] = None
                continue
            try:
                values[name] = parse_ts(value)
            except ValueError:
                return CsvRow(line), f"{name} is not a timestamp: {value[:40]!r}"
        else:
            values[name] = value or None
    key = values.get("key")
    if isinstance(key, str) and key.startswith(KEY_PREFIX) and "..." not in key and not is_valid_key(key):
        return CsvRow(line), "the key column holds a damaged key (its checksum does not match)"
    return CsvRow(line=line, **values), None  # type: ignore[arg-type]


def read_csv(path: str | os.PathLike[str]) -> CsvDocument:
    """Read a key CSV file from disk; raises CsvFormatError or OSError."""
    p = Path(path)
    size = p.stat().st_size
    if size > MAX_FILE_BYTES:
        raise CsvFormatError(f"the file is too large ({size // (1024 * 1024)} MB)")
    return parse_csv_text(_decode(p.read_bytes()))
