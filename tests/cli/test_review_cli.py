"""``phhub-keys review ... --summary [--json]`` and ``--compare``, run as a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from review_samples import NOW, days_ago, hand_edited, key, key_list_csv, random_keys, secrets_csv, write

from phhub_keys.core.keyformat import generate_key, redact
from phhub_keys.core.models import KeyStatus

AS_OF = NOW.strftime("%Y-%m-%dT%H:%M:%SZ")


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    return subprocess.run(
        [sys.executable, "-m", "phhub_keys", "review", *map(str, args)],
        capture_output=True, text=True, timeout=120, env=env, cwd=cwd,
    )


KEYS = [
    key(1, "laptop", created=400, used=2),
    key(2, "ci runner", created=300, used=120),
    key(3, "old", status=KeyStatus.DEACTIVATED, created=700, used=500),
    key(4, "never set up", created=45, used=None),
    key(5, "fresh", created=3, used=None),
]


def ts(days: float) -> str:
    return days_ago(days).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_summary_json_field_by_field(tmp_path):
    path = write(tmp_path / "keys.csv", key_list_csv(KEYS))
    result = run(path, "--summary", "--json", "--as-of", AS_OF)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    data = json.loads(result.stdout)
    assert data["file"] == str(path)
    assert data["kind"] == "key_list"
    assert data["holds_secrets"] is False
    assert data["as_of"] == AS_OF
    assert data["total"] == 5
    assert data["active"] == 4
    assert data["deactivated"] == 1
    assert data["status_unknown"] == 0
    assert data["never_used"] == 2
    assert data["unused_90_days"] == 2  # ci runner (120 days) and the deactivated key (500 days)
    assert data["oldest_key"] == {
        "line": 4, "id": "mk_000003", "label": "old", "key": KEYS[2].redacted, "status": "deactivated",
        "created_at": ts(700), "last_used_at": ts(500), "expires_at": None, "replaces": None,
    }
    assert data["flags"] == [
        {"line": 3, "kind": "unused_90_days", "id": "mk_000002", "label": "ci runner",
         "reason": f"Active; last used 120 days ago ({days_ago(120).date()}). "
                   "Deactivate it if nothing uses it any more."},
        {"line": 5, "kind": "never_used_30_days", "id": "mk_000004", "label": "never set up",
         "reason": f"Active; never used since it was created 45 days ago ({days_ago(45).date()}). "
                   "Deactivate it if it was never set up."},
    ]
    assert data["problems"] == []


def test_json_alone_implies_summary_and_human_output_reads_well(tmp_path):
    path = write(tmp_path / "keys.csv", key_list_csv(KEYS))
    assert json.loads(run(path, "--json", "--as-of", AS_OF).stdout)["total"] == 5
    human = run(path, "--summary", "--as-of", AS_OF)
    assert human.returncode == 0
    lines = human.stdout.splitlines()
    assert lines[0] == f"{path}: key list"
    assert lines[1] == ("  total 5  active 4  deactivated 1  never used 2  unused 90+ days 2  expired 0  "
                        "expiring within 30 days 0")
    assert lines[2] == f"  oldest key: 'old' ({KEYS[2].redacted}), created {ts(700)}"
    assert lines[3] == "  flags: 2"
    assert lines[4].startswith("    line 3: 'ci runner': Active; last used 120 days ago")


def test_hand_edited_file_gives_the_same_json_as_the_export(tmp_path):
    keys, _ = random_keys(60, seed=9)
    export = write(tmp_path / "export.csv", key_list_csv(keys))
    edited = write(tmp_path / "edited.csv", hand_edited(keys), bom=True)
    a = json.loads(run(export, "--json", "--as-of", AS_OF).stdout)
    b = json.loads(run(edited, "--json", "--as-of", AS_OF).stdout)
    assert {**a, "file": None} == {**b, "file": None}


def test_secret_file_json_never_holds_the_secret(tmp_path):
    secret = generate_key()
    path = write(tmp_path / "new-key.csv", secrets_csv([("laptop", secret)]))
    result = run(path, "--summary", "--json", "--as-of", AS_OF)
    assert result.returncode == 0
    assert secret not in result.stdout + result.stderr
    data = json.loads(result.stdout)
    assert data["kind"] == "secrets" and data["holds_secrets"] is True
    assert (data["total"], data["active"], data["deactivated"], data["never_used"]) == (1, None, None, None)
    assert data["oldest_key"]["key"] == redact(secret)
    human = run(path, "--summary", "--as-of", AS_OF)
    assert secret not in human.stdout and "password manager" in human.stdout


def test_malformed_rows_exit_3_name_the_lines_and_still_summarise(tmp_path):
    text = key_list_csv(KEYS[:2]) + "mk_x,bad,phk_a...b,paused,,,,\r\nmk_y,short\r\n"
    path = write(tmp_path / "edited.csv", text)
    result = run(path, "--summary", "--json", "--as-of", AS_OF)
    assert result.returncode == 3
    data = json.loads(result.stdout)
    assert data["total"] == 2
    assert data["problems"] == [
        {"line": 4, "message": "unknown status 'paused' (expected active, deactivated or expired)"},
        {"line": 5, "message": "expected 8 columns, found 2"},
    ]
    assert f"{path}: 2 malformed rows skipped; 2 rows read" in result.stderr
    assert f"{path}: line 4: unknown status 'paused'" in result.stderr
    assert f"{path}: line 5: expected 8 columns, found 2" in result.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (bytes(range(256)) * 4, "this is not a text file (it contains NUL bytes)"),
        ("label,key\nok,x\nSchl\u00fcssel,y\n".encode("cp1252"), "line 3: the file is not UTF-8 text"),
        (b"who,what\nx,y\n", "line 1: no 'label' or 'key' column"),
        (b'"label,key\n', "line 1: unreadable header"),
    ],
    ids=["empty", "binary", "cp1252", "no-columns", "bad-header-quote"],
)
def test_unreadable_file_exits_1_with_a_clear_message(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    result = run(path, "--summary", "--json")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith(f"phhub-keys review: {path}: ")
    assert message in result.stderr


def test_missing_file_exits_1(tmp_path):
    result = run(tmp_path / "nope.csv", "--summary")
    assert result.returncode == 1
    assert "No such file or directory" in result.stderr


def test_bad_quoting_stops_at_the_line_and_keeps_the_rows_before(tmp_path):
    text = key_list_csv(KEYS[:3]) + 'mk_9,"unterminated,phk_a...b,active,,\r\nmk_10,x,phk_a...b,active,,\r\n'
    result = run(write(tmp_path / "q.csv", text), "--json", "--as-of", AS_OF)
    assert result.returncode == 3
    data = json.loads(result.stdout)
    assert data["total"] == 3
    assert [p["line"] for p in data["problems"]] == [5]
    assert data["problems"][0]["message"].startswith("bad quoting")


def test_compare_json_lists_every_kind_of_change(tmp_path):
    old_keys = [key(1, "laptop"), key(2, "ci"), key(3, "gone")]
    new_keys = [key(1, "laptop (home)"), key(2, "ci", status=KeyStatus.DEACTIVATED), key(4, "added")]
    for before, after in zip(old_keys[:2], new_keys[:2], strict=True):
        object.__setattr__(after, "redacted", before.redacted)
    old = write(tmp_path / "old.csv", key_list_csv(old_keys))
    new = write(tmp_path / "new.csv", key_list_csv(new_keys))
    result = run("--compare", old, new, "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["old"], data["new"]) == (str(old), str(new))
    assert [r["label"] for r in data["added"]] == ["added"]
    assert [r["label"] for r in data["removed"]] == ["gone"]
    assert data["status_changed"] == [{
        "id": "mk_000002", "key": old_keys[1].redacted, "old_line": 3, "new_line": 3,
        "old_label": "ci", "new_label": "ci", "old_status": "active", "new_status": "deactivated",
    }]
    assert [(c["old_label"], c["new_label"]) for c in data["label_changed"]] == [("laptop", "laptop (home)")]
    assert data["unchanged"] == 0 and data["matched_by_key"] == 0
    human = run("--compare", old, new, "--summary")
    assert f"  status   {old_keys[1].redacted}  'ci': active -> deactivated" in human.stdout
    both = json.loads(run(old, "--compare", old, new, "--json", "--as-of", AS_OF).stdout)
    assert [f["file"] for f in both["files"]] == [str(old)] and both["compare"]["added"] == data["added"]


def test_several_files_give_a_json_list(tmp_path):
    a = write(tmp_path / "a.csv", key_list_csv(KEYS[:2]))
    b = write(tmp_path / "b.csv", key_list_csv(KEYS))
    data = json.loads(run(a, b, "--json", "--as-of", AS_OF).stdout)
    assert [(f["file"], f["total"]) for f in data["files"]] == [(str(a), 2), (str(b), 5)]
    assert data["compare"] is None


@pytest.mark.parametrize(
    "args",
    [("--summary",), ("--as-of", "yesterday", "x.csv", "--json"), ("--bogus",)],
    ids=["no-file", "bad-time", "unknown-option"],
)
def test_usage_errors_exit_2(args):
    result = run(*args)
    assert result.returncode == 2
    assert result.stderr


def test_window_without_a_display_says_how_to_print_instead(tmp_path):
    path = write(tmp_path / "keys.csv", key_list_csv(KEYS))
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    result = subprocess.run(
        [sys.executable, "-m", "phhub_keys", "review", str(path)],
        capture_output=True, text=True, timeout=60, env=env,
    )
    if sys.platform.startswith(("win", "darwin")):
        pytest.skip("a display always exists there")
    assert result.returncode == 1
    assert "use --summary to print instead" in result.stderr


@pytest.mark.slow
def test_100000_rows_summary_json(tmp_path):
    keys, expected = random_keys(100_000, seed=4)
    path = write(tmp_path / "big.csv", key_list_csv(keys))
    result = run(path, "--summary", "--json", "--as-of", AS_OF)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    figures = (data["total"], data["active"], data["deactivated"], data["never_used"], data["unused_90_days"])
    assert figures == (
        expected.total, expected.active, expected.deactivated, expected.never_used, expected.unused_90_days,
    )
    assert len(data["flags"]) == len(expected.flagged_stale) + len(expected.flagged_never_used)


def test_a_reader_that_leaves_early_is_not_a_traceback(tmp_path):
    """`review big.csv --json | head -1`: the JSON is far larger than a pipe buffer."""
    keys, _ = random_keys(3000, seed=5)
    path = write(tmp_path / "big.csv", key_list_csv(keys))
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "phhub_keys", "review", str(path), "--json", "--as-of", AS_OF],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.read(1)
    proc.stdout.close()  # the reader is gone
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 1
    assert "Traceback" not in err and "BrokenPipe" not in err, err


def test_hostile_cells_and_file_names_are_printed_escaped(tmp_path):
    """A CSV (or its name) holding ESC / OSC 52 / C1 codes: --summary and --compare show them escaped."""
    osc52 = "\x1b]52;c;cm0gLXJmIH4K\x07"
    old = tmp_path / "old.csv"
    old.write_text("id,label,key,status,created_at,last_used_at\r\n"
                   "mk_ok,fine,,active,2026-01-01T00:00:00Z,\r\n", encoding="utf-8")
    new = tmp_path / "new\x1b[2J.csv"
    new.write_text("id,label,key,status,created_at,last_used_at\r\n"
                   f"mk_{osc52},lap\x1b]0;pwned\x07top,{osc52},active,2020-01-01T00:00:00Z,\r\n"
                   "mk_ok,fine,,active,2026-01-01T00:00:00Z,\r\n"
                   f"mk_bad,x,,act\x1b[31mive,2026-01-01T00:00:00Z,\r\n", encoding="utf-8")
    summary = run(new, "--summary", "--as-of", AS_OF)
    compared = run("--compare", old, new, "--summary")
    for result in (summary, compared):
        assert result.returncode == 3, result  # the bad status row is malformed, the rest is read
        for raw in ("\x1b", "\x07", "\x9b"):
            assert raw not in result.stdout + result.stderr, (raw, result)
    assert "new\\x1b[2J.csv" in summary.stdout
    assert "\\x1b]52;c;cm0gLXJmIH4K\\x07" in summary.stdout
    assert "\\x1b]52;c;cm0gLXJmIH4K\\x07" in compared.stdout and "added" in compared.stdout
