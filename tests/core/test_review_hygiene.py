"""Offline review of key hygiene: the expires_at / replaces columns (and files without them),
the expired / expires-within-30-days / rotated-but-old-still-active flags, and rotations in
Compare (core, the review command as a subprocess, and the review window's change model)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

from review_samples import NOW, days_ago, key, write
from test_review_cli import run

from phhub_keys.core.csvio import KEY_LIST_HEADER, key_list_csv, parse_csv_text
from phhub_keys.core.models import KeyStatus
from phhub_keys.core.review import FlagKind, compare, review

AS_OF = "2026-06-01T12:00:00Z"  # = NOW


def in_days(days: float):  # type: ignore[no-untyped-def]
    return (NOW + timedelta(days=days)).replace(microsecond=0)


def hygiene_keys():  # type: ignore[no-untyped-def]
    old = replace(key(1, "laptop (old)", used=1), expires_at=in_days(3), replaced_by="mk_000002")
    return [
        old,  # rotated with a grace: the old key still works for 3 more days
        replace(key(2, "laptop", used=1), replaces="mk_000001", expires_at=in_days(90)),
        replace(key(3, "expired by status", status=KeyStatus.EXPIRED, used=20), expires_at=days_ago(10)),
        # The file says active, but as of NOW it is past its expiry.
        replace(key(4, "past its expiry", used=20), expires_at=days_ago(2)),
        replace(key(5, "expires soon", used=1), expires_at=in_days(10)),
        replace(key(6, "expires later", used=1), expires_at=in_days(40)),
        replace(key(7, "deactivated, expired", status=KeyStatus.DEACTIVATED, used=5),
                expires_at=days_ago(5)),
        replace(key(8, "rotated, old cut off", status=KeyStatus.DEACTIVATED, used=5),
                replaced_by="mk_000009"),
        replace(key(9, "successor", used=1), replaces="mk_000008"),
    ]


def test_the_export_carries_expiry_and_rotation_and_reads_back():
    text = key_list_csv(hygiene_keys())
    assert text.splitlines()[0] == ",".join(KEY_LIST_HEADER)
    assert KEY_LIST_HEADER[-2:] == ("expires_at", "replaces")
    doc = parse_csv_text(text)
    assert doc.problems == []
    assert doc.rows[0].expires_at == in_days(3) and doc.rows[1].replaces == "mk_000001"
    assert doc.rows[2].status is KeyStatus.EXPIRED and doc.rows[8].expires_at is None


def test_flags_for_expired_expiring_and_rotated_but_still_active():
    result = review(parse_csv_text(key_list_csv(hygiene_keys())), NOW)
    flags = {(f.id, f.kind) for f in result.flags}
    assert {f for f in flags if f[1] not in (FlagKind.UNUSED_90_DAYS, FlagKind.NEVER_USED_30_DAYS)} == {
        ("mk_000001", FlagKind.ROTATED_OLD_ACTIVE),  # not also "expires soon": that is its grace
        ("mk_000003", FlagKind.EXPIRED),
        ("mk_000004", FlagKind.EXPIRED),
        ("mk_000005", FlagKind.EXPIRES_SOON),
    }
    by = {(f.id, f.kind): f for f in result.flags}
    rotated = by[("mk_000001", FlagKind.ROTATED_OLD_ACTIVE)]
    assert rotated.reason.startswith(
        "Rotated to mk_000002 (line 3), but this old key still works until 2026-06-04")
    assert "Deactivate it once its clients use the new key" in rotated.reason
    assert by[("mk_000004", FlagKind.EXPIRED)].reason.startswith("Expired 2 days ago (2026-05-30)")
    soon = by[("mk_000005", FlagKind.EXPIRES_SOON)]
    assert soon.reason.startswith("Active; expires in 10 days (2026-06-11)")
    assert (result.summary.expired, result.summary.expiring_30_days) == (2, 1)
    data = result.to_json()
    assert (data["expired"], data["expiring_30_days"]) == (2, 1)
    kinds = {f["kind"] for f in data["flags"]}
    assert kinds >= {"expired", "expires_within_30_days", "rotated_old_still_active"}
    # The same file a month later: the rotated key's grace is over, so it is expired, not "still active".
    later = review(parse_csv_text(key_list_csv(hygiene_keys())), NOW + timedelta(days=31))
    assert ("mk_000001", FlagKind.ROTATED_OLD_ACTIVE) not in {(f.id, f.kind) for f in later.flags}
    assert ("mk_000001", FlagKind.EXPIRED) in {(f.id, f.kind) for f in later.flags}


def test_a_file_without_the_new_columns_still_reads_and_has_no_expiry_figures():
    v1 = ("id,label,key,status,created_at,last_used_at\r\n"
          "mk_1,a,phk_aaaa...bbbbbb,active,2026-01-01T00:00:00Z,\r\n"
          "mk_2,b,phk_cccc...dddddd,expired,2026-01-01T00:00:00Z,2026-02-01T00:00:00Z\r\n")
    doc = parse_csv_text(v1)
    assert doc.problems == [] and [r.expires_at for r in doc.rows] == [None, None]
    result = review(doc, NOW)
    assert (result.summary.expired, result.summary.expiring_30_days) == (1, None)
    expired = [(f.id, f.kind) for f in result.flags if f.kind is FlagKind.EXPIRED]
    assert expired == [("mk_2", FlagKind.EXPIRED)]
    # A hand-made file with other header words.
    edited = parse_csv_text("Label;Key;Status;Expires;Rotated from\r\nx;phk_aaaa...bbbbbb;Active;Never;\r\n")
    assert edited.problems == [] and edited.rows[0].expires_at is None and edited.rows[0].replaces is None


def compare_files(tmp_path):  # type: ignore[no-untyped-def]
    before = [key(1, "laptop", used=1), key(3, "ci", used=1)]
    after = [
        replace(key(1, "laptop", used=1), expires_at=in_days(1), replaced_by="mk_000002"),
        replace(key(2, "laptop", used=0), replaces="mk_000001", expires_at=in_days(90)),
        key(3, "ci", used=1),
        key(4, "brand new", used=None, created=1),
    ]
    before[0] = replace(before[0], redacted=after[0].redacted)  # the same key in both exports
    old = write(tmp_path / "before.csv", key_list_csv(before))
    new = write(tmp_path / "after.csv", key_list_csv(after))
    return old, new, after


def test_compare_lists_rotations_old_to_new(tmp_path):
    old, new, after = compare_files(tmp_path)
    comparison = compare(parse_csv_text(old.read_text()), parse_csv_text(new.read_text()))
    assert [(r.old.id, r.new.id) for r in comparison.rotations] == [("mk_000001", "mk_000002")]
    assert sorted(r.id for r in comparison.added) == ["mk_000002", "mk_000004"]
    (rotation,) = comparison.to_json()["rotations"]
    assert rotation == {
        "old_id": "mk_000001", "new_id": "mk_000002", "old_key": after[0].redacted,
        "new_key": after[1].redacted, "old_label": "laptop", "new_label": "laptop", "old_status": "active",
        "old_line": 2, "new_line": 3,  # the old key's line in the older file, the new key's in the newer
    }
    result = run("--compare", old, new, "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["rotations"] == [rotation]
    human = run("--compare", old, new, "--summary")
    line = f"  rotated  {after[0].redacted} -> {after[1].redacted}  'laptop' (old key now active)"
    assert line in human.stdout


def test_compare_without_a_replaces_column_has_no_rotations():
    text = "id,label,key,status\r\nmk_1,a,phk_aaaa...bbbbbb,active\r\n"
    newer = text + "mk_2,b,phk_cccc...dddddd,active\r\n"
    assert compare(parse_csv_text(text), parse_csv_text(newer)).rotations == []


def test_the_review_windows_change_list_shows_the_rotation(qtmodeltester, tmp_path):
    from phhub_keys.gui.review_model import ChangeKind, CompareModel

    old, new, after = compare_files(tmp_path)
    model = CompareModel()
    model.set_comparison(compare(parse_csv_text(old.read_text()), parse_csv_text(new.read_text())))
    qtmodeltester.check(model)
    assert model.kinds().count(ChangeKind.ROTATED) == 1
    row = model.kinds().index(ChangeKind.ROTATED)
    assert model.index(row, 0).data() == "Rotated"
    assert model.index(row, 1).data() == after[1].redacted
    assert model.index(row, 2).data() == f"laptop — replaces {after[0].redacted}"
    assert model.index(row, 3).data() == "Old key: Active"
    assert (model.index(row, 4).data(), model.index(row, 5).data()) == ("2", "3")


def test_a_rotated_pair_sharing_its_label_is_not_a_duplicate():
    old = replace(key(1, "Claude Desktop", used=1), expires_at=in_days(5), replaced_by="mk_000002")
    new = replace(key(2, "Claude Desktop", used=0), replaces="mk_000001")
    pair = review(parse_csv_text(key_list_csv([old, new])), NOW)
    assert FlagKind.DUPLICATE_LABEL not in {f.kind for f in pair.flags}
    third = key(3, "claude desktop ", used=1)  # a real duplicate of the label
    trio = review(parse_csv_text(key_list_csv([old, new, third])), NOW)
    dupes = [(f.id, f.others) for f in trio.flags if f.kind is FlagKind.DUPLICATE_LABEL]
    assert dupes == [("mk_000002", (4,)), ("mk_000003", (3,))]
