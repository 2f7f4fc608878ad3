"""core.review: the summary figures, the flags and the comparison of two exports."""

from __future__ import annotations

import json
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from review_samples import NOW, days_ago, hand_edited, key, key_list_csv, random_keys, secrets_csv

from phhub_keys.core.csvio import parse_csv_text
from phhub_keys.core.keyformat import generate_key, redact
from phhub_keys.core.models import KeyStatus
from phhub_keys.core.review import FlagKind, compare, review


def flagged(result, kind: FlagKind) -> set[str]:
    return {f.id for f in result.flags if f.kind is kind}


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.integers(0, 300))
def test_generated_key_list_gives_the_expected_figures(seed, count):
    keys, expected = random_keys(count, seed)
    result = review(parse_csv_text(key_list_csv(keys)), NOW)
    s = result.summary
    assert (s.total, s.active, s.deactivated, s.never_used, s.unused_90_days) == (
        expected.total, expected.active, expected.deactivated, expected.never_used, expected.unused_90_days,
    )
    assert s.status_unknown == 0
    assert flagged(result, FlagKind.UNUSED_90_DAYS) == expected.flagged_stale
    assert flagged(result, FlagKind.NEVER_USED_30_DAYS) == expected.flagged_never_used
    assert flagged(result, FlagKind.DUPLICATE_LABEL) == set()  # labels are "key <n>": all distinct
    if keys:
        oldest = min(keys, key=lambda k: k.created_at)
        assert s.oldest is not None and s.oldest.id == oldest.id
    else:
        assert s.oldest is None


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 10_000))
def test_hand_edited_copy_gives_the_same_review_as_the_export(seed):
    keys, _ = random_keys(40, seed)
    exported = review(parse_csv_text(key_list_csv(keys)), NOW)
    edited = review(parse_csv_text("\ufeff" + hand_edited(keys)), NOW)
    assert edited.summary == exported.summary
    assert edited.to_json() == exported.to_json()


def test_boundaries_of_the_time_flags():
    keys = [
        key(1, "used 90 days ago", used=90),
        key(2, "used 89 days ago", used=89.9),
        key(3, "never used, 30 days old", created=30, used=None),
        key(4, "never used, 29 days old", created=29.9, used=None),
        key(5, "deactivated and stale", status=KeyStatus.DEACTIVATED, used=400),
        key(6, "deactivated, never used", status=KeyStatus.DEACTIVATED, created=400, used=None),
        key(7, "fresh", used=0),
    ]
    result = review(parse_csv_text(key_list_csv(keys)), NOW)
    assert [(f.id, f.kind) for f in result.flags] == [
        ("mk_000001", FlagKind.UNUSED_90_DAYS),
        ("mk_000003", FlagKind.NEVER_USED_30_DAYS),
    ]
    stale, never = result.flags
    assert stale.line == 2 and stale.label == "used 90 days ago"
    assert stale.reason == (
        f"Active; last used 90 days ago ({days_ago(90).date().isoformat()}). "
        "Deactivate it if nothing uses it any more."
    )
    assert never.reason.startswith("Active; never used since it was created 30 days ago")
    s = result.summary
    assert (s.never_used, s.unused_90_days) == (3, 2)  # unused_90 counts the deactivated stale key too


def test_duplicate_labels_ignore_case_spaces_and_unicode_form():
    composed = "Caf\u00e9 laptop"
    decomposed = unicodedata.normalize("NFD", composed)
    keys = [
        key(1, "CI"), key(2, "laptop"), key(3, " ci "), key(4, composed), key(5, "Ci"), key(6, decomposed),
        key(7, "unique"),
    ]
    result = review(parse_csv_text(key_list_csv(keys)), NOW)
    dupes = {f.line: f for f in result.flags if f.kind is FlagKind.DUPLICATE_LABEL}
    assert sorted(dupes) == [2, 4, 5, 6, 7]
    assert dupes[2].reason == (
        "The label 'CI' is also on lines 4, 6; rename keys so each says where it is used."
    )
    assert dupes[5].reason.startswith(f"The label {composed!r} is also on line 7;")
    assert result.flags_at(1) == ()  # "laptop" is not a duplicate of "Café laptop"
    assert result.flagged == [0, 2, 3, 4, 5]


def test_a_row_can_carry_a_time_flag_and_a_duplicate_flag_in_that_order():
    keys = [key(1, "same", used=200), key(2, "same", used=1)]
    result = review(parse_csv_text(key_list_csv(keys)), NOW)
    assert [(f.line, f.kind) for f in result.flags] == [
        (2, FlagKind.UNUSED_90_DAYS), (2, FlagKind.DUPLICATE_LABEL), (3, FlagKind.DUPLICATE_LABEL),
    ]
    assert [len(result.flags_at(pos)) for pos in range(2)] == [2, 1]
    assert result.flagged == [0, 1]


def test_big_duplicate_groups_name_a_few_lines_and_count_the_rest():
    keys = [key(n, "shared", used=1) for n in range(12)]
    result = review(parse_csv_text(key_list_csv(keys)), NOW)
    assert len(result.flags) == 12
    assert result.flags[0].reason.startswith("The label 'shared' is also on lines 3, 4, 5, 6, 7 and 6 more;")


def test_secret_file_is_recognised_and_its_figures_say_what_the_file_cannot_tell():
    secrets = [generate_key(), generate_key()]
    doc = parse_csv_text(secrets_csv([("laptop", secrets[0]), ("laptop", secrets[1])]))
    result = review(doc, NOW)
    s = result.summary
    assert s.kind == "secrets" and s.holds_secrets
    assert (s.total, s.active, s.deactivated, s.status_unknown, s.never_used, s.unused_90_days) == (
        2, None, None, 2, None, None,
    )
    assert [f.kind for f in result.flags] == [FlagKind.DUPLICATE_LABEL] * 2
    text = json.dumps(result.to_json())
    assert all(secret not in text for secret in secrets)
    assert result.to_json()["oldest_key"]["key"] == redact(secrets[0])


def test_file_without_status_column_flags_with_a_careful_reason():
    text = "Label,Key,Created,Last used\nold,phk_abcd...efghij,2025-01-01T00:00:00Z,2025-02-01T00:00:00Z\n"
    result = review(parse_csv_text(text), NOW)
    assert result.summary.active is None
    assert [f.kind for f in result.flags] == [FlagKind.UNUSED_90_DAYS]
    assert result.flags[0].reason.startswith("Status not in the file; last used 485 days ago (2025-02-01).")


def test_review_json_fields():
    keys = [key(1, "old", created=500, used=200), key(2, "new", created=10, used=None),
            key(3, "off", status=KeyStatus.DEACTIVATED, created=300, used=5)]
    doc = parse_csv_text(key_list_csv(keys) + "x,broken,phk_a...b,paused,,,,\r\n")
    data = review(doc, NOW).to_json()
    assert data["kind"] == "key_list"
    assert data["holds_secrets"] is False
    assert data["as_of"] == "2026-06-01T12:00:00Z"
    assert (data["total"], data["active"], data["deactivated"]) == (3, 2, 1)
    assert (data["never_used"], data["unused_90_days"], data["status_unknown"]) == (1, 1, 0)
    assert data["oldest_key"] == {
        "line": 2, "id": "mk_000001", "label": "old", "key": keys[0].redacted, "status": "active",
        "created_at": days_ago(500).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "last_used_at": days_ago(200).strftime("%Y-%m-%dT%H:%M:%SZ"), "expires_at": None, "replaces": None,
    }
    assert data["flags"] == [{
        "line": 2, "kind": "unused_90_days", "id": "mk_000001", "label": "old",
        "reason": f"Active; last used 200 days ago ({days_ago(200).date()}). "
                  "Deactivate it if nothing uses it any more.",
    }]
    assert data["problems"] == [
        {"line": 5, "message": "unknown status 'paused' (expected active, deactivated or expired)"}
    ]


def test_empty_document_reviews_to_zeroes():
    result = review(parse_csv_text("id,label,key,status,created_at,last_used_at\r\n"), NOW)
    s = result.summary
    figures = (s.total, s.active, s.deactivated, s.never_used, s.unused_90_days, s.oldest)
    assert figures == (0, 0, 0, 0, 0, None)
    assert result.flags == [] and result.flagged == []


@pytest.mark.slow
def test_100000_row_export_reviews_completely():
    keys, expected = random_keys(100_000, seed=7)
    result = review(parse_csv_text(key_list_csv(keys)), NOW)
    s = result.summary
    assert (s.total, s.active, s.deactivated, s.never_used, s.unused_90_days) == (
        expected.total, expected.active, expected.deactivated, expected.never_used, expected.unused_90_days,
    )
    assert len(result.flags) == len(expected.flagged_stale) + len(expected.flagged_never_used)
    assert len(result.flagged) == len(result.flags)  # no duplicate labels: one flag per flagged row
    assert {f.line for f in result.flags} == {pos + 2 for pos in result.flagged}


# --- compare ------------------------------------------------------------------------------------------


def test_compare_lists_added_removed_status_and_label_changes():
    old_keys = [key(1, "laptop"), key(2, "ci"), key(3, "old server"), key(4, "same")]
    new_keys = [
        key(5, "new laptop"),
        key(1, "laptop (home)"),
        key(2, "ci", status=KeyStatus.DEACTIVATED),
        key(4, "same"),
    ]
    for k_old, k_new in ((old_keys[0], new_keys[1]), (old_keys[1], new_keys[2]), (old_keys[3], new_keys[3])):
        object.__setattr__(k_new, "redacted", k_old.redacted)
    diff = compare(parse_csv_text(key_list_csv(old_keys)), parse_csv_text(key_list_csv(new_keys)))
    assert [r.id for r in diff.added] == ["mk_000005"]
    assert [r.id for r in diff.removed] == ["mk_000003"]
    assert [(c.old.status, c.new.status) for c in diff.status_changed] == [
        (KeyStatus.ACTIVE, KeyStatus.DEACTIVATED)
    ]
    assert [(c.old.label, c.new.label) for c in diff.label_changed] == [("laptop", "laptop (home)")]
    assert diff.unchanged == 1 and diff.matched_by_key == 0 and diff.changed
    data = diff.to_json()
    assert data["status_changed"] == [{
        "id": "mk_000002", "key": old_keys[1].redacted, "old_line": 3, "new_line": 4, "old_label": "ci",
        "new_label": "ci", "old_status": "active", "new_status": "deactivated",
    }]
    assert data["added"][0]["id"] == "mk_000005" and data["removed"][0]["label"] == "old server"


def test_compare_matches_a_secret_file_to_an_export_by_redacted_key():
    secret = generate_key()
    other = generate_key()
    secrets_doc = parse_csv_text(secrets_csv([("laptop", secret), ("gone", other)]))
    export = [key(1, "laptop renamed", secret=secret), key(2, "brand new")]
    diff = compare(secrets_doc, parse_csv_text(key_list_csv(export)))
    assert diff.matched_by_key == 1
    assert [(c.old.label, c.new.label) for c in diff.label_changed] == [("laptop", "laptop renamed")]
    assert [r.label for r in diff.removed] == ["gone"]
    assert [r.label for r in diff.added] == ["brand new"]
    assert secret not in json.dumps(diff.to_json()) and other not in json.dumps(diff.to_json())


def test_rows_with_different_ids_never_match_by_key():
    shared = "phk_abcd...efghij"
    old = parse_csv_text(f"id,label,key,status\na,x,{shared},active\n")
    new = parse_csv_text(f"id,label,key,status\nb,x,{shared},active\n")
    diff = compare(old, new)
    assert [r.id for r in diff.removed] == ["a"] and [r.id for r in diff.added] == ["b"]


def test_compare_identical_exports_changes_nothing():
    keys, _ = random_keys(200, seed=3)
    doc = parse_csv_text(key_list_csv(keys))
    diff = compare(doc, parse_csv_text(key_list_csv(keys)))
    assert not diff.changed and diff.unchanged == 200


def test_duplicate_ids_in_a_file_pair_up_once():
    old = parse_csv_text("id,label,status\na,one,active\na,two,active\n")
    new = parse_csv_text("id,label,status\na,one,active\n")
    diff = compare(old, new)
    assert diff.unchanged == 1 and [r.label for r in diff.removed] == ["two"] and diff.added == []


def test_duplicate_labels_in_a_plain_ascii_file_ignore_case_and_spaces():
    keys = [key(1, "Laptop"), key(2, "laptop "), key(3, "LAPTOP"), key(4, "desktop")]
    result = review(parse_csv_text(key_list_csv(keys)), NOW)
    assert [(f.line, f.kind) for f in result.flags] == [(n, FlagKind.DUPLICATE_LABEL) for n in (2, 3, 4)]
