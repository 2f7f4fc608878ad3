"""A filter keystroke that extends the needle filters only the rows shown (the fast path) and
must show exactly what a full pass over every key shows, whatever happened in between:
renames (pending labels), hub replacements of shown and hidden rows, inserts, removals, sorts.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PySide6.QtCore import Qt

from phhub_keys.core.models import KeyStatus, McpKey
from phhub_keys.gui.keys_model import Col, KeysModel

_NOW = datetime(2026, 11, 27, tzinfo=UTC)
_TEXT = st.text(alphabet="abAB ß", max_size=4)


def _key(i: int, label: str, active: bool = True) -> McpKey:
    status = KeyStatus.ACTIVE if active else KeyStatus.DEACTIVATED
    return McpKey(f"k{i}", label, f"phk_{i:04d}...x{i:05d}", status, _NOW - timedelta(minutes=i))


def _expected(model: KeysModel, text: str) -> list[str]:
    """The full pass: every key, in model order, whose label/key/status contains the needle."""
    needle = text.strip().casefold()
    shown = []
    for row in range(model.total_count()):
        key = model.keys()[row]
        label = model._all[row].shown_label  # a pending rename is what the row shows and matches
        if needle in f"{label}\n{key.redacted}\n{key.status.display}".casefold():
            shown.append(key.id)
    return shown


_OPS = st.lists(st.one_of(
    st.tuples(st.just("filter"), _TEXT),
    st.tuples(st.just("type"), _TEXT),  # append to the current filter: the narrowing path
    st.tuples(st.just("replace"), st.integers(0, 11), _TEXT),  # the hub's Key for a shown or hidden row
    st.tuples(st.just("rename"), st.integers(0, 11), _TEXT),
    st.tuples(st.just("revert"), st.integers(0, 11)),
    st.tuples(st.just("insert"), st.integers(12, 15), _TEXT),
    st.tuples(st.just("remove"), st.integers(0, 15)),
    st.tuples(st.just("sort"), st.sampled_from([Col.LABEL, Col.KEY, Col.CREATED])),
), max_size=25)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(labels=st.lists(_TEXT, min_size=12, max_size=12), ops=_OPS)
def test_every_filter_change_shows_what_a_full_pass_shows(qapp, labels: list[str], ops: list) -> None:
    model = KeysModel()
    model.set_keys([_key(i, label, i % 3 != 0) for i, label in enumerate(labels)], _NOW)
    text = ""
    for op in ops:
        kind = op[0]
        if kind in ("filter", "type"):
            text = op[1] if kind == "filter" else text + op[1]
            unchanged = text.strip().casefold() == model.filter_text()
            model.set_filter(text)
            if unchanged:  # no filter change: replaced rows stay where they are (by design)
                continue
            shown = [model.key_at(r).id for r in range(model.rowCount())]
            assert shown == _expected(model, text), (ops, text)
            assert all(model.row_of(key_id) == r for r, key_id in enumerate(shown))
        elif kind == "replace":
            if model.key_by_id(f"k{op[1]}") is not None:
                model.upsert_key(_key(op[1], op[2] or "x", op[1] % 2 == 0))
        elif kind == "rename":
            row = model.row_of(f"k{op[1]}")
            if row is not None:
                model.setData(model.index(row, Col.LABEL), op[2] or "renamed", Qt.ItemDataRole.EditRole)
        elif kind == "revert":
            model.revert_pending(f"k{op[1]}")
        elif kind == "insert":
            if model.key_by_id(f"k{op[1]}") is None:
                model.upsert_key(_key(op[1], op[2]))
        elif kind == "remove":
            model.remove_key(f"k{op[1]}")
        else:
            model.sort(op[1], Qt.SortOrder.AscendingOrder)


def test_a_hidden_row_the_hub_replaced_is_found_by_the_next_keystroke(qapp) -> None:
    model = KeysModel()
    model.set_keys([_key(0, "alpha"), _key(1, "zulu")], _NOW)
    model.set_filter("al")
    assert [model.key_at(r).id for r in range(model.rowCount())] == ["k0"]
    model.upsert_key(_key(1, "alps"))  # renamed elsewhere; stays hidden until the filter changes
    assert model.row_of("k1") is None
    model.set_filter("alp")  # narrowing from the shown rows alone would miss it
    assert [model.key_at(r).id for r in range(model.rowCount())] == ["k0", "k1"]


def test_a_renamed_row_is_rechecked_by_the_next_keystroke(qapp) -> None:
    model = KeysModel()
    model.set_keys([_key(0, "alpha"), _key(1, "alto")], _NOW)
    model.set_filter("al")
    model.setData(model.index(model.row_of("k1"), Col.LABEL), "beta", Qt.ItemDataRole.EditRole)
    assert model.row_of("k1") == 1  # stays shown while the rename is pending
    model.set_filter("alp")
    assert [model.key_at(r).id for r in range(model.rowCount())] == ["k0"]
