"""The fast CSV reader (core.csvio): right by an independent oracle, and equal to the row-by-row reader.

The review window reads 100,000-row files, so csvio converts whole columns at a
time. Two kinds of check:

- ``test_rows_written_are_the_rows_read``: hypothesis draws the rows themselves (ids, labels,
  statuses, times as values), writes them with the standard library's csv.writer, and the
  parse must give back exactly those values: the oracle is the data, not a second parser.
- The differential tests: ``reference_parse`` below is the original row-by-row reader (it
  shares csvio's rule tables, so it checks the fast paths, not the rules); hypothesis feeds
  both the same messy text and every result must match.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from phhub_keys.core import csvio
from phhub_keys.core.csvio import (
    HEADER_ALIASES,
    KEY_LIST_HEADER,
    MAX_FIELD_CHARS,
    CsvFormatError,
    CsvRow,
    parse_csv_text,
    unescape_cell,
)
from phhub_keys.core.keyformat import KEY_PREFIX, generate_key, is_valid_key
from phhub_keys.core.models import KeyStatus
from phhub_keys.core.timestamps import parse_ts


def reference_parse(text: str):
    """The original row-by-row csvio.parse_csv_text, returning plain comparable values."""
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise CsvFormatError("the file is empty")
    first_line = text.splitlines()[0]
    delimiter = csvio._sniff_delimiter(first_line)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
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
    rows, problems = [], []
    while True:
        line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.append((line, f"bad quoting: {exc}"))
            break
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            problems.append((line, f"expected {len(header)} columns, found {len(cells)}"))
            continue
        row, problem = _reference_row(line, columns, cells)
        if problem:
            problems.append((line, problem))
        else:
            rows.append(row)
    if kind == "secrets" and rows and not any(r.holds_secret for r in rows):
        kind = "key_list"
    return kind, tuple(c for c in columns if c), [tuple(r) for r in rows], problems


def _reference_row(line, columns, cells):
    values = {}
    for name, raw in zip(columns, cells, strict=True):
        if not name:
            continue
        if len(raw) > MAX_FIELD_CHARS:
            return None, f"the {name} field is too long ({len(raw)} characters)"
        value = unescape_cell(raw if name == "label" else raw.strip())
        if name == "status":
            word = value.lower()
            if not word:
                values[name] = None
                continue
            if word == "expired":
                values[name] = KeyStatus.EXPIRED
            elif word in ("active", "deactivated", "inactive", "disabled"):
                values[name] = KeyStatus.ACTIVE if word == "active" else KeyStatus.DEACTIVATED
            else:
                return None, f"unknown status {value!r} (expected active, deactivated or expired)"
        elif name in ("created_at", "last_used_at", "expires_at"):
            if value.lower() in ("", "never", "-"):
                values[name] = None
                continue
            try:
                values[name] = parse_ts(value)
            except ValueError:
                return None, f"{name} is not a timestamp: {value[:40]!r}"
        else:
            values[name] = value or None
    key = values.get("key")
    if isinstance(key, str) and key.startswith(KEY_PREFIX) and "..." not in key and not is_valid_key(key):
        return None, "the key column holds a damaged key (its checksum does not match)"
    return CsvRow(line=line, **values), None


def fast_parse(text: str):
    doc = parse_csv_text(text)
    return doc.kind, doc.columns, [tuple(r) for r in doc.rows], [(p.line, p.message) for p in doc.problems]


def both(text: str):
    """Both readers' results, or both readers' error messages."""
    results = []
    for parse in (reference_parse, fast_parse):
        try:
            results.append(parse(text))
        except CsvFormatError as exc:
            results.append(("error", str(exc), exc.line))
    return results


VALID_KEY = generate_key()
DAMAGED_KEY = VALID_KEY[:-1] + ("A" if VALID_KEY[-1] != "A" else "B")

cell_values = st.one_of(
    st.sampled_from(
        [
            "", " ", "x", "label one", " padded ", "'=1+1", "'-5", "'plain", "=SUM(A1)", "a,b", "a;b",
            'say "hi"', "two\nlines", "cr\rcell", "tab\tcell", "Active", "active", " deactivated ",
            "Inactive", "DISABLED", "paused", "never", "Never", "-", "2026-01-02T03:04:05Z",
            "2026-01-02T03:04:05+00:00", "2026-01-02T05:04:05+02:00", " 2026-01-02T03:04:05Z ",
            "2026-01-02T03:04:05z", "2026-01-02T03:04:05", "2026-01-02", "yesterday", "2026-13-40T00:00:00Z",
            VALID_KEY, DAMAGED_KEY, "phk_dLK5...J6HMii", "phk_short", "k_123", "https://hub.example/mcp",
            "é ü 漢字", "\u202eevil", "'",
        ]
    ),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12),
)
header_words = st.sampled_from([*HEADER_ALIASES.keys(), "Label", "Created", "Last used", "KEY", "notes", ""])


STATUS_CELLS = st.sampled_from(
    ["Active", "active", " deactivated ", "Inactive", "DISABLED", "paused", "", "'active"]
)
TIME_CELLS = st.sampled_from(
    [
        "", "never", "Never", "-", "2026-01-02T03:04:05Z", "2026-01-02T03:04:05+00:00",
        "2026-01-02T05:04:05+02:00", " 2026-01-02T03:04:05Z ", "2026-01-02T03:04:05z",
        "2026-01-02T03:04:05", "2026-01-02", "yesterday", "2026-13-40T00:00:00Z",
        "2026-01-02T03:04:05.250Z", "'2026-01-02T03:04:05Z",
    ]
)
KEY_CELLS = st.sampled_from(
    [VALID_KEY, DAMAGED_KEY, "phk_dLK5...J6HMii", "phk_short", "", " " + VALID_KEY, "=HYPERLINK()"]
)
TYPED_CELLS = {"status": STATUS_CELLS, "created_at": TIME_CELLS, "last_used_at": TIME_CELLS, "key": KEY_CELLS}
REAL_HEADERS = st.sampled_from(
    [
        list(KEY_LIST_HEADER),
        ["label", "key", "server_url", "created_at"],
        ["Label", "Key", "Status", "Created", "Last used"],
        ["Identifier", "Name", "Key", "State", "Created", "Last used", "Notes"],
    ]
)


@st.composite
def csv_texts(draw):
    header = list(draw(st.one_of(REAL_HEADERS, st.lists(header_words, min_size=1, max_size=7))))
    if draw(st.booleans()):
        header[draw(st.integers(0, len(header) - 1))] = draw(st.sampled_from(["key", "label"]))
    kinds = [HEADER_ALIASES.get(h.strip().lower()) for h in header]
    typed = [st.one_of(TYPED_CELLS[k], cell_values) if k in TYPED_CELLS else cell_values for k in kinds]
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    terminator = draw(st.sampled_from(["\r\n", "\n", "\r"]))
    rows = []
    for _ in range(draw(st.integers(0, 8))):
        if draw(st.integers(0, 9)):
            rows.append([draw(strategy) for strategy in typed])
        else:
            rows.append([draw(cell_values) for _ in range(draw(st.integers(0, len(header) + 2)))])
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator=terminator)
    writer.writerow(header)
    writer.writerows(rows)
    text = buf.getvalue()
    if draw(st.booleans()):
        text = "\ufeff" + text
    if draw(st.integers(0, 4)) == 0:
        # Hand damage: drop a character somewhere (often a quote) or add blank lines.
        pos = draw(st.integers(0, len(text)))
        text = text[:pos] + draw(st.sampled_from(['"', "", "\n\n", '"x', ","])) + text[pos + 1 :]
    if draw(st.booleans()):
        text += terminator * draw(st.integers(1, 3))
    return text


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(csv_texts())
def test_fast_reader_matches_reference_reader(text):
    reference, fast = both(text)
    assert fast == reference


@given(st.text(max_size=200))
@settings(max_examples=300, deadline=None)
def test_fast_reader_matches_reference_on_arbitrary_text(text):
    reference, fast = both("label,key\n" + text)
    assert fast == reference


STATUS_WORDS = {KeyStatus.ACTIVE: "active", KeyStatus.DEACTIVATED: "deactivated",
                KeyStatus.EXPIRED: "expired"}
# Labels as people type them: any text, except a leading apostrophe (the formula escape's marker).
ORACLE_LABELS = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)),
                        min_size=1, max_size=40).filter(lambda t: not t.startswith("'"))
ORACLE_TIMES = st.one_of(st.none(), st.datetimes(
    min_value=datetime(2001, 1, 1), max_value=datetime(2099, 1, 1), timezones=st.just(UTC),
).map(lambda d: d.replace(microsecond=0)))


@st.composite
def written_rows(draw):
    """(rows as values, the CSV text csv.writer makes of them)."""
    count = draw(st.integers(0, 12))
    rows = []
    for i in range(count):
        rows.append({
            "id": f"mk_{i:016x}",
            "label": draw(ORACLE_LABELS),
            "key": draw(st.sampled_from([None, "phk_dLK5...J6HMii", "phk_abcd...ef1234"])),
            "status": draw(st.sampled_from([None, *STATUS_WORDS])),
            "created_at": draw(ORACLE_TIMES),
            "last_used_at": draw(ORACLE_TIMES),
            "expires_at": draw(ORACLE_TIMES),
        })
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    # csv.writer quotes a cell only for the characters of *its* line terminator: with "\n" alone a
    # label holding "\r" would go out unquoted (a broken file, not the reader's fault), so "\n"
    # files quote every cell.
    terminator = draw(st.sampled_from(["\r\n", "\n"]))
    quoting = csv.QUOTE_MINIMAL if terminator == "\r\n" else csv.QUOTE_ALL
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator=terminator, quoting=quoting)
    header = ["id", "label", "key", "status", "created_at", "last_used_at", "expires_at"]
    writer.writerow(header)
    for row in rows:
        writer.writerow([
            row["id"], row["label"], row["key"] or "", STATUS_WORDS.get(row["status"], ""),
            *("" if row[t] is None else row[t].strftime("%Y-%m-%dT%H:%M:%SZ")
              for t in ("created_at", "last_used_at", "expires_at")),
        ])
    return rows, buf.getvalue()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(written_rows())
def test_rows_written_are_the_rows_read(case):
    rows, text = case
    doc = parse_csv_text(text)
    assert doc.problems == []
    fields = ("id", "label", "key", "status", "created_at", "last_used_at", "expires_at")
    read = [tuple(getattr(r, f) for f in fields) for r in doc.rows]
    assert read == [tuple(w[f] for f in fields) for w in rows]
    # Line numbers: the header is line 1; a label with line breaks makes its row span several lines.
    line = 2
    for written, read in zip(rows, doc.rows, strict=True):
        assert read.line == line
        label = written["label"]
        line += 1 + label.count("\n") + label.count("\r") - label.count("\r\n")


def test_line_numbers_follow_multi_line_cells_and_blank_lines():
    text = 'label,key\n"first\nsecond",phk_a...b\n\n,\nplain,phk_c...d\na,b,c\nlast,phk_e...f\n'
    doc = parse_csv_text(text)
    assert [(r.line, r.label) for r in doc.rows] == [(2, "first\nsecond"), (6, "plain"), (8, "last")]
    assert [(p.line, p.message) for p in doc.problems] == [(7, "expected 2 columns, found 3")]


def test_clean_file_takes_the_positional_line_numbers():
    text = "id,label,key,status,created_at,last_used_at\r\n" + "".join(
        f"k{i},L{i},phk_abcd...ef{i:04d},active,2026-01-01T00:00:00Z,\r\n" for i in range(5)
    )
    doc = parse_csv_text(text + "\r\n\r\n")
    assert [r.line for r in doc.rows] == [2, 3, 4, 5, 6]
    assert doc.problems == []
    assert doc.rows[0].created_at == datetime(2026, 1, 1, tzinfo=UTC)
    assert doc.rows[0].last_used_at is None


def test_bad_cells_are_reported_per_row_and_other_rows_survive():
    text = (
        "id,label,key,status,created_at,last_used_at\n"
        "a,ok,phk_a...b,active,2026-01-01T00:00:00Z,never\n"
        "b,bad status,phk_a...b,paused,2026-01-01T00:00:00Z,\n"
        "c,bad time,phk_a...b,active,soon,\n"
        f"d,damaged,{DAMAGED_KEY},active,2026-01-01T00:00:00Z,\n"
        "e,both,phk_a...b,paused,soon,\n"
    )
    doc = parse_csv_text(text)
    assert [r.id for r in doc.rows] == ["a"]
    assert [(p.line, p.message) for p in doc.problems] == [
        (3, "unknown status 'paused' (expected active, deactivated or expired)"),
        (4, "created_at is not a timestamp: 'soon'"),
        (5, "the key column holds a damaged key (its checksum does not match)"),
        (6, "unknown status 'paused' (expected active, deactivated or expired)"),
    ]


def test_csv_row_is_immutable_and_hides_secrets():
    row = CsvRow(line=2, label="x", key=VALID_KEY)
    with pytest.raises(AttributeError):
        row.label = "y"  # type: ignore[misc]
    assert VALID_KEY not in repr(row)
    assert VALID_KEY not in str(row)
    assert row.holds_secret
    assert hash(row) == hash(CsvRow(line=2, label="x", key=VALID_KEY))


def test_100000_row_file_parses_completely(tmp_path):
    lines = ["id,label,key,status,created_at,last_used_at"]
    lines += [
        f"k{i},label {i},phk_{i % 10000:04d}...abcdef,{'active' if i % 3 else 'deactivated'},"
        f"2025-01-01T00:00:00Z,{'' if i % 4 == 0 else '2026-01-01T00:00:00Z'}"
        for i in range(100_000)
    ]
    path = tmp_path / "big.csv"
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    doc = csvio.read_csv(path)
    assert len(doc.rows) == 100_000
    assert doc.problems == []
    assert doc.rows[-1].line == 100_001
    assert doc.rows[-1].id == "k99999"
    assert sum(1 for r in doc.rows if r.status is KeyStatus.DEACTIVATED) == 33_334
    assert sum(1 for r in doc.rows if r.last_used_at is None) == 25_000


PLAIN_CELLS = st.sampled_from(
    ["", " ", "x", "label one", " padded ", "'=1", "Active", "deactivated", "paused", "never",
     "2026-01-02T03:04:05Z", "2026-01-02T05:04:05+02:00", "2026-01-02", "phk_dLK5...J6HMii", VALID_KEY,
     DAMAGED_KEY, "é ü", "\u2028sep", "\x0bvt", "'"]
)


@st.composite
def plain_texts(draw):
    """Quote-free files built by hand (no csv.writer): the str.split fast path's territory."""
    header = list(draw(REAL_HEADERS))
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    terminator = draw(st.sampled_from(["\r\n", "\n"]))
    lines = [delimiter.join(header)]
    for _ in range(draw(st.integers(0, 12))):
        roll = draw(st.integers(0, 19))
        if roll == 0:
            lines.append("")  # a blank line
        elif roll == 1:
            width = draw(st.integers(1, len(header) + 2))
            lines.append(delimiter.join(draw(PLAIN_CELLS) for _ in range(width)))
        elif roll == 2:
            lines.append(delimiter * (len(header) - 1))  # a row of empty cells
        else:
            lines.append(delimiter.join(draw(PLAIN_CELLS) for _ in header))
    if draw(st.integers(0, 4)) == 0:  # a file re-saved by several tools: line breaks of both kinds
        breaks = [draw(st.sampled_from(["\r\n", "\n"])) for _ in lines]
        text = "".join(line + brk for line, brk in zip(lines, breaks, strict=True))[: -len(breaks[-1])]
    else:
        text = terminator.join(lines)
    text += draw(st.sampled_from(["", terminator, terminator * 2]))
    if draw(st.integers(0, 9)) == 0:
        text = text.replace("\n", "\r", 1) if "\n" in text else text  # a bare CR somewhere
    return text


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plain_texts())
def test_split_fast_path_matches_reference_reader(text):
    reference, fast = both(text)
    assert fast == reference


def test_split_fast_path_is_taken_for_a_plain_export():
    text = "id,label,key,status\r\n" + "".join(f"k{i},L {i},phk_a...b,active\r\n" for i in range(50))
    gathered = csvio._split_plain(text, ",", 4)
    assert gathered is not None
    lines, column, problems, longest = gathered
    assert list(lines) == list(range(2, 52)) and problems == []
    assert column(1)[:2] == ["L 0", "L 1"]
    assert column(0)[:2] == ["k0", "k1"]
    assert longest == len("phk_a...b")
    assert csvio._split_plain(text.replace("L 7", '"L 7"'), ",", 4) is None


def test_rows_too_short_and_too_long_never_balance_out():
    # 2 + 4 cells is 2 rows x 3 columns in total: each row must still be checked on its own.
    text = "label,key,status\r\nshort,phk_a...b\r\nlong,phk_c...d,active,extra\r\n"
    assert fast_parse(text) == reference_parse(text)
    assert [(p.line, p.message) for p in parse_csv_text(text).problems] == [
        (2, "expected 3 columns, found 2"), (3, "expected 3 columns, found 4"),
    ]


def test_mixed_line_breaks_take_the_csv_path():
    text = "label,key\r\nA,phk_a...b\r\nB,phk_c...d\n\nC,phk_e...f\nD,phk_g...h\r\n"
    assert csvio._split_plain(text, ",", 2) is None
    assert fast_parse(text) == reference_parse(text)
    assert [(r.line, r.label) for r in parse_csv_text(text).rows] == [(2, "A"), (3, "B"), (5, "C"), (6, "D")]


def test_a_bare_lf_in_a_crlf_file_cannot_hide_a_short_row():
    # "c" alone on a line, then "d,e": merged at the LF they would look like one 2-cell row.
    text = "label,key\r\na,b\r\nc\nd,e\r\n"
    assert csvio._split_plain(text, ",", 2) is None
    assert fast_parse(text) == reference_parse(text)
    problems = [(p.line, p.message) for p in parse_csv_text(text).problems]
    assert problems == [(3, "expected 2 columns, found 1")]
