"""The CSV reader and the review path fed hostile files: random bytes, truncated files, giant
fields, deep quoting, files too large to read.

Every file must end in a CsvDocument (rows that parsed plus problems by line)
or a CsvFormatError that names the line, never another exception. Time is
bounded by the pytest timeout on each test; memory by a tracemalloc peak that
must stay linear in the file size (measured: about 10x the file for a 50 MB
field, i.e. the bytes, the text and the csv module's UCS-4 StringIO copies;
MAX_FILE_BYTES caps the file, so the peak has an absolute bound too). The review CLI
turns each into an exit code and a message naming file and line.
"""

from __future__ import annotations

import io
import tracemalloc
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from phhub_keys import review_cli
from phhub_keys.core.csvio import MAX_FILE_BYTES, CsvDocument, CsvFormatError, key_list_csv, read_csv
from phhub_keys.core.keyformat import generate_key
from phhub_keys.core.models import KeyStatus, McpKey
from phhub_keys.core.timestamps import parse_ts

GIANT = 50 * 1024 * 1024
RAW = ("Traceback", "_csv.Error", "field larger than field limit")


def _read(path: Path) -> CsvDocument | CsvFormatError:
    try:
        return read_csv(path)
    except CsvFormatError as exc:
        return exc


def _assert_clear(result: CsvDocument | CsvFormatError) -> None:
    """Either rows + problems with line numbers, or an error that says what and (if known) where."""
    if isinstance(result, CsvFormatError):
        assert result.reason and not any(raw in str(result) for raw in RAW[:2]), str(result)
        if result.line is not None:
            assert result.line >= 1 and str(result).startswith(f"line {result.line}: ")
        return
    for problem in result.problems:
        assert problem.line >= 1 and problem.message and str(problem).startswith(f"line {problem.line}: ")


def _sample_export() -> bytes:
    created = parse_ts("2026-01-02T03:04:05Z")
    keys = [
        McpKey(f"mk_{i:016x}", label, redacted=f"phk_abcd...{i:06d}", status=status, created_at=created)
        for i, (label, status) in enumerate([
            ("plain", KeyStatus.ACTIVE), ('with "quotes", and comma', KeyStatus.ACTIVE),
            ("=formula", KeyStatus.DEACTIVATED), ("multi\nline? no: unicode ✓", KeyStatus.ACTIVE),
        ])
    ]
    return key_list_csv(keys).encode("utf-8")


# --------------------------------------------------------------------------- random and truncated


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=4000) | st.text(max_size=2000).map(lambda t: t.encode("utf-8", "replace")))
def test_random_bytes_give_rows_or_a_clear_error(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "random.csv"
    path.write_bytes(data)
    _assert_clear(_read(path))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(prefix=st.sampled_from([b"", b"\xef\xbb\xbf"]), junk=st.binary(max_size=40),
       where=st.integers(min_value=0, max_value=10_000))
def test_a_valid_export_with_junk_spliced_in(tmp_path: Path, prefix: bytes, junk: bytes, where: int) -> None:
    data = _sample_export()
    at = where % (len(data) + 1)
    path = tmp_path / "spliced.csv"
    path.write_bytes(prefix + data[:at] + junk + data[at:])
    _assert_clear(_read(path))


def test_every_truncation_of_a_valid_export(tmp_path: Path) -> None:
    data = _sample_export()
    full = read_csv_bytes(tmp_path, data)
    assert isinstance(full, CsvDocument) and len(full.rows) == 4 and not full.problems
    for cut in range(len(data)):
        result = read_csv_bytes(tmp_path, data[:cut])
        _assert_clear(result)
        if isinstance(result, CsvDocument):
            # a cut file never yields more rows than the whole one, nor invents labels
            assert len(result.rows) <= 4
            labels = {r.label for r in full.rows}
            assert all(r.label is None or any(label.startswith(r.label) for label in labels)
                       for r in result.rows)


def read_csv_bytes(tmp_path: Path, data: bytes) -> CsvDocument | CsvFormatError:
    path = tmp_path / "cut.csv"
    path.write_bytes(data)
    return _read(path)


def test_a_cut_in_the_middle_of_a_quoted_field_names_the_line(tmp_path: Path) -> None:
    data = b'label,key\r\nfirst,a\r\nsecond,b\r\n"third, never closed,c\r\n'
    result = read_csv_bytes(tmp_path, data)
    assert isinstance(result, CsvDocument)
    assert [r.label for r in result.rows] == ["first", "second"]
    assert [p.line for p in result.problems] == [4]


# --------------------------------------------------------------------------- giant and deep


def _peak_of(path: Path) -> tuple[CsvDocument | CsvFormatError, int]:
    tracemalloc.start()
    try:
        result = _read(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak


GIANT_FILES = {
    "quoted giant field": lambda: b'label,key\r\nok,a\r\n"' + b"x" * GIANT + b'",b\r\nafter,c\r\n',
    "plain giant field": lambda: b"label,key\r\nok,a\r\n" + b"y" * GIANT + b",b\r\nafter,c\r\n",
    "giant header": lambda: b"label," + b"h" * GIANT + b"\r\nx,y\r\n",
    "one giant line of quotes": lambda: b"label,key\r\n" + b'"' * GIANT,
    "doubled quotes": lambda: b'label,key\r\n"' + b'""' * (GIANT // 2) + b'",k\r\n',
}


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", list(GIANT_FILES))
def test_giant_fields_are_refused_by_line_in_bounded_memory(tmp_path: Path, name: str) -> None:
    path = tmp_path / "giant.csv"
    path.write_bytes(GIANT_FILES[name]())
    size = path.stat().st_size
    result, peak = _peak_of(path)
    _assert_clear(result)
    print(f"{name}: {size / 2**20:.0f} MB file, peak {peak / 2**20:.0f} MB traced")
    assert peak < 12 * size, f"parsing a {size} byte file held {peak} bytes"
    if isinstance(result, CsvFormatError):
        assert result.line == 1 and "too long" in str(result)  # only the header can fail the file
        return
    assert result.problems, "a 50 MB field was accepted as a cell"
    giant_line = result.problems[0]
    assert giant_line.line in (2, 3)
    assert "too long" in giant_line.message, giant_line.message
    assert "quoting" not in giant_line.message  # a size problem, not a quoting one
    assert [r.label for r in result.rows if r.label == "ok"] in ([], ["ok"])


def test_a_file_larger_than_the_limit_is_refused_without_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.csv"
    with path.open("wb") as f:  # sparse: costs no disk
        f.write(b"label,key\r\n")
        f.truncate(MAX_FILE_BYTES + 1)
    tracemalloc.start()
    try:
        with pytest.raises(CsvFormatError) as info:
            read_csv(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "too large" in str(info.value)
    assert peak < 1024 * 1024


# --------------------------------------------------------------------------- the review path


def _review(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = review_cli.main([*args, "--summary"])
    return code, out.getvalue(), err.getvalue()


@pytest.mark.timeout(120)
def test_review_summary_of_hostile_files_names_file_and_line(tmp_path: Path) -> None:
    giant = tmp_path / "giant.csv"
    giant.write_bytes(GIANT_FILES["quoted giant field"]())
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    truncated = tmp_path / "truncated.csv"
    secret = generate_key()
    truncated.write_bytes(b"label,key,server_url,created_at\r\n\"laptop," + secret.encode())
    for path, codes, where in ((giant, (3,), "line 3"), (binary, (1,), "not a text file"),
                               (truncated, (1, 3), "line 2")):
        code, out, err = _review(str(path))
        assert code in codes, (path.name, code, err)
        assert f"{path}" in err and where in err, err
        assert "Traceback" not in err + out
        assert secret not in err + out  # a damaged secret file is still never echoed
