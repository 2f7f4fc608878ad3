"""CSV write -> read round trips for both formats, formula escaping on write,
tolerant reads, and malformed files reported by line."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from phhub_keys.core.csvio import (
    FORMULA_STARTS,
    KEY_LIST_HEADER,
    SECRET_HEADER,
    CsvFormatError,
    escape_cell,
    key_list_csv,
    new_secret_csv,
    parse_csv_text,
    read_csv,
    unescape_cell,
)
from phhub_keys.core.keyformat import BASE62, KEY_PREFIX, checksum, generate_key, redact
from phhub_keys.core.models import KeyStatus, McpKey, NewKey

TRICKY = ["=", "+", "-", "@", "'", '"', ",", "\n", "\r\n", "\t", ";", "🔑", "👩‍💻", "مفتاح",
          "\u05e9\u05dc\u05d5\u05dd", "=HYPERLINK(\"http://x\")", "+1", "-2", "@SUM(A1)", "''", "'=", " ",
          "\u00e9", "e\u0301"]

labels = st.lists(st.sampled_from(TRICKY) | st.text(st.characters(codec="utf-8"), max_size=12),
                  min_size=1, max_size=6).map("".join).filter(bool)
timestamps = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1),
                          timezones=st.just(UTC)).map(lambda d: d.replace(microsecond=0))
key_ids = st.text(alphabet="0123456789abcdef", min_size=16, max_size=16).map(lambda h: "mk_" + h)
secrets_ = st.text(alphabet=BASE62, min_size=30, max_size=30).map(lambda b: KEY_PREFIX + b + checksum(b))


@st.composite
def mcp_keys(draw: st.DrawFn) -> McpKey:
    secret = draw(secrets_)
    return McpKey(
        id=draw(key_ids),
        label=draw(labels),
        redacted=redact(secret),
        status=draw(st.sampled_from(KeyStatus)),
        created_at=draw(timestamps),
        last_used_at=draw(st.none() | timestamps),
    )


def _cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


@given(st.lists(mcp_keys(), max_size=8))
def test_key_list_round_trip(keys: list[McpKey]) -> None:
    text = key_list_csv(keys)
    doc = parse_csv_text(text)
    assert doc.problems == []
    assert doc.kind == "key_list"
    assert doc.columns == KEY_LIST_HEADER
    assert len(doc.rows) == len(keys)
    for key, row in zip(keys, doc.rows, strict=True):
        assert (row.id, row.label, row.key, row.status) == (key.id, key.label, key.redacted, key.status)
        assert (row.created_at, row.last_used_at) == (key.created_at, key.last_used_at)
        assert not row.holds_secret
    assert not doc.holds_secrets


@given(mcp_keys(), secrets_, st.sampled_from(["http://127.0.0.1:8750/mcp", "https://hub.example.org/mcp",
                                               "=cmd|' /C calc'!A0"]))
def test_secret_file_round_trip(key: McpKey, secret: str, server_url: str) -> None:
    text = new_secret_csv(NewKey(key, secret), server_url)
    doc = parse_csv_text(text)
    assert doc.problems == []
    assert doc.kind == "secrets"
    assert doc.columns == SECRET_HEADER
    (row,) = doc.rows
    assert (row.label, row.key, row.server_url) == (key.label, secret, server_url)
    assert row.created_at == key.created_at
    assert row.holds_secret and doc.holds_secrets
    assert secret not in repr(row)


@given(st.lists(mcp_keys(), min_size=1, max_size=5))
def test_no_written_cell_is_a_formula(keys: list[McpKey]) -> None:
    for text in (key_list_csv(keys), new_secret_csv(NewKey(keys[0], generate_key()), "=1+1")):
        for cells in _cells(text):
            for cell in cells:
                assert not cell.startswith(FORMULA_STARTS), cell


@given(st.text(st.characters(codec="utf-8"), max_size=20))
def test_escape_unescape_are_inverse(value: str) -> None:
    escaped = escape_cell(value)
    assert not escaped.startswith(FORMULA_STARTS)
    assert unescape_cell(escaped) == value


def test_formula_labels_are_escaped_exactly_once() -> None:
    created = datetime(2026, 1, 1, tzinfo=UTC)
    key = McpKey("mk_1", "=SUM(A1:A9)", "phk_abcd...efghij", KeyStatus.ACTIVE, created)
    text = key_list_csv([key])
    assert "'=SUM(A1:A9)" in text
    assert parse_csv_text(text).rows[0].label == "=SUM(A1:A9)"
    quoted = key_list_csv([McpKey("mk_2", "'hello", "r", KeyStatus.ACTIVE, key.created_at)])
    assert parse_csv_text(quoted).rows[0].label == "'hello"


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(mcp_keys(), min_size=1, max_size=5), st.sampled_from(["crlf", "lf"]),
       st.sampled_from([",", ";", "\t"]), st.booleans())
def test_tolerant_read_of_edited_files(tmp_path: Path, keys: list[McpKey], newline: str, delimiter: str,
                                       bom: bool) -> None:
    buf = io.StringIO()
    # csv.writer with a "\n" terminator leaves a bare "\r" unquoted (a real line break);
    # a spreadsheet would quote it, so do that here.
    bare_cr = newline == "lf" and any("\r" in k.label for k in keys)
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n" if newline == "crlf" else "\n",
                        quoting=csv.QUOTE_ALL if bare_cr else csv.QUOTE_MINIMAL)
    writer.writerow(["Identifier", "Label", "Key", "STATUS", "Created", "Last used"])
    for k in keys:
        writer.writerow([k.id, escape_cell(k.label), k.redacted, k.status.display,
                         k.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"), "never" if k.last_used_at is None
                         else k.last_used_at.isoformat()])
    path = tmp_path / "edited.csv"
    if "\x00" in buf.getvalue():
        return  # a NUL byte marks a binary file (labels never hold control characters)
    path.write_bytes(("\ufeff" if bom else "").encode() + buf.getvalue().encode("utf-8"))
    doc = read_csv(path)
    assert doc.problems == []
    assert doc.kind == "key_list"
    assert [(r.id, r.label, r.status, r.created_at, r.last_used_at) for r in doc.rows] == [
        (k.id, k.label, k.status, k.created_at, k.last_used_at) for k in keys
    ]


def test_status_words_people_type() -> None:
    text = "label,status\na,Active\nb,deactivated\nc,INACTIVE\nd,disabled\ne,\n"
    doc = parse_csv_text(text)
    assert [r.status for r in doc.rows] == [KeyStatus.ACTIVE, KeyStatus.DEACTIVATED, KeyStatus.DEACTIVATED,
                                             KeyStatus.DEACTIVATED, None]


def test_utf16_with_bom_is_read(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes("Label;Key\r\nLaptop;phk_abcd...efghij\r\n".encode("utf-16"))
    doc = read_csv(path)
    assert [(r.label, r.key) for r in doc.rows] == [("Laptop", "phk_abcd...efghij")]


def test_bad_rows_are_reported_by_line_and_good_rows_kept() -> None:
    damaged = generate_key()
    damaged = damaged[:10] + ("A" if damaged[10] != "A" else "B") + damaged[11:]
    text = (
        "id,label,key,status,created_at,last_used_at\r\n"          # line 1
        "mk_1,ok,phk_aaaa...bbbbbb,active,2026-01-01T00:00:00Z,\r\n"  # 2
        'mk_2,"two\r\nlines",phk_aaaa...bbbbbb,active,2026-01-01T00:00:00Z,\r\n'  # 3-4
        "mk_3,short row\r\n"                                          # 5
        "mk_4,x,phk_aaaa...bbbbbb,paused,2026-01-01T00:00:00Z,\r\n"   # 6
        "mk_5,x,phk_aaaa...bbbbbb,active,yesterday,\r\n"              # 7
        f"mk_6,x,{damaged},active,2026-01-01T00:00:00Z,\r\n"          # 8
        "\r\n"                                                        # 9 (blank: skipped)
        "mk_7,last,phk_aaaa...bbbbbb,deactivated,2026-01-01T00:00:00Z,never\r\n"  # 10
    )
    doc = parse_csv_text(text)
    assert [r.id for r in doc.rows] == ["mk_1", "mk_2", "mk_7"]
    assert [r.line for r in doc.rows] == [2, 3, 10]
    assert doc.rows[1].label == "two\r\nlines"
    problems = {p.line: p.message for p in doc.problems}
    assert set(problems) == {5, 6, 7, 8}
    assert problems[5] == "expected 6 columns, found 2"
    assert "unknown status 'paused'" in problems[6]
    assert "created_at is not a timestamp" in problems[7]
    assert "checksum" in problems[8]
    assert str(doc.problems[0]).startswith("line 5: ")


def test_bad_quoting_names_the_line_and_keeps_earlier_rows() -> None:
    text = 'label,key\nfirst,phk_aaaa...bbbbbb\n"broken,phk_aaaa...bbbbbb\nmore,x\n'
    doc = parse_csv_text(text)
    assert [r.label for r in doc.rows] == ["first"]
    assert doc.problems and doc.problems[0].line == 3
    assert "quoting" in doc.problems[0].message


@pytest.mark.parametrize(
    ("data", "line", "needle"),
    [
        (b"", None, "empty"),
        (b"   \r\n\r\n", None, "empty"),
        (b"\x00\x01\x02PK\x03\x04", None, "not a text file"),
        (b"label,key\nok,x\n\xff\xfe bad\n", 3, "not UTF-8"),
        (b"foo;bar\nx;y\n", 1, "no 'label' or 'key' column"),
    ],
)
def test_unreadable_files_raise_with_line(tmp_path: Path, data: bytes, line: int | None, needle: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(data)
    with pytest.raises(CsvFormatError) as info:
        read_csv(path)
    assert info.value.line == line
    assert needle in str(info.value)
    if line:
        assert str(info.value).startswith(f"line {line}: ")


@given(st.binary(max_size=300))
def test_random_bytes_never_crash_the_reader(data: bytes) -> None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return
    try:
        doc = parse_csv_text(text)
    except CsvFormatError as exc:
        assert str(exc)
        return
    for problem in doc.problems:
        assert problem.line >= 2


def test_the_parser_leaves_the_interpreters_gc_alone() -> None:
    """Pausing the cyclic GC is interpreter-wide: the caller that owns the thread decides
    (core.gc_pause, used by the review window's loader and 'phhub-keys review'), not the parser."""
    import ast
    import inspect

    from phhub_keys.core import csvio, review

    for module in (csvio, review):
        tree = ast.parse(inspect.getsource(module))
        names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)
                 for alias in node.names}
        assert "gc" not in names and "paused_gc" not in names, module.__name__
