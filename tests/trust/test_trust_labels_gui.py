"""Hypothesis-generated labels through the window's create form and in-place rename.

A label core accepts is sent and comes back exactly as the hub stores it (core's
normalised form); a label core refuses shows the inline error and never reaches
the hub. One window per test function (GUI set-up is slow), few examples.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fixtures_gui import close_manage_window, open_manage_window
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from phhub_keys.api.client import HubClient
from phhub_keys.core.labels import label_problem, normalize_label
from phhub_keys.gui.manage_window import ManageKeysWindow

WAIT_MS = 15_000
labels = st.one_of(
    st.text(max_size=120),
    st.text(st.characters(codec="utf-8"), min_size=1, max_size=12).map(lambda t: f"  {t}  "),
    st.sampled_from(["", " ", "x" * 100, "x" * 101, "tab\there", "nul\x00", "bidi \u202e x", "e\u0301",
                     "=1+1", "emoji 🔑", "ǅ ligature"]),
)
SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.fixture
def window(qtbot, signed_in_client: HubClient, window_recorder) -> Iterator[ManageKeysWindow]:  # type: ignore[no-untyped-def]
    w = open_manage_window(qtbot, signed_in_client, window_recorder, "labels", WAIT_MS)
    yield w
    close_manage_window(w)


def test_create_labels(qtbot, window: ManageKeysWindow, signed_in_client: HubClient) -> None:  # type: ignore[no-untyped-def]
    window.secret_clipboard.clear_after_ms = 0

    @SETTINGS
    @given(label=labels)
    def run(label: str) -> None:
        before = {k.id for k in signed_in_client.list_keys()}
        window.discard_secret()
        window.open_create_form()
        window.create_form.label_input.setText(label)
        window.create_form.submit()
        problem = label_problem(label)
        if problem is not None:
            assert window.create_form.error_text() == problem
            assert window.create_form.label_text() == label and not window.is_busy()
            assert {k.id for k in signed_in_client.list_keys()} == before  # never reached the hub
            return
        qtbot.waitUntil(lambda: window.has_unsaved_secret() and not window.is_busy(), timeout=WAIT_MS)
        (new,) = [k for k in signed_in_client.list_keys() if k.id not in before]
        assert new.label == normalize_label(label)
        assert window.model.key_by_id(new.id).label == new.label  # type: ignore[union-attr]

    run()


def test_rename_labels(qtbot, window: ManageKeysWindow, signed_in_client: HubClient) -> None:  # type: ignore[no-untyped-def]
    key = signed_in_client.create_key("start").key
    with qtbot.waitSignal(window.loaded, timeout=WAIT_MS):
        window.refresh()

    @SETTINGS
    @given(label=labels)
    def run(label: str) -> None:
        stored = signed_in_client.list_keys()[0].label
        calls = len(signed_in_client.calls)
        accepted = window.rename_key(key.id, label)
        problem = label_problem(label)
        if problem is not None:
            assert not accepted
            assert problem in window.save_status_text()
            assert signed_in_client.list_keys()[0].label == stored
            # only the check above went to the hub: the rename itself never did
            assert [c.method for c in list(signed_in_client.calls)[calls:]] == ["GET"]
            return
        if normalize_label(label) == stored:
            return  # nothing to change: the editor does not call the hub
        assert accepted
        qtbot.waitUntil(lambda: not window.is_busy() and window.model.save_state(key.id) != "saving",
                        timeout=WAIT_MS)
        assert signed_in_client.list_keys()[0].label == normalize_label(label)
        assert window.model.key_by_id(key.id).label == normalize_label(label)  # type: ignore[union-attr]

    run()


def test_invisible_characters_and_split_secrets_are_refused_inline(qtbot, window: ManageKeysWindow,  # type: ignore[no-untyped-def]
                                                                    signed_in_client: HubClient) -> None:
    """The create form and in-place rename refuse them with core's message; nothing reaches the hub."""
    from phhub_keys.core.keyformat import generate_key

    secret = generate_key()
    window.open_create_form()
    form = window.create_form
    for label, expected in (("Cur\u200bsor", "invisible character (U+200B)"),
                            ("Cursor\u200f", "invisible character (U+200F)"),
                            ("a\u2029b", "line break"),
                            (f"prod {secret[:20]}\u2060{secret[20:]}", "looks like an MCP key")):
        form.label_input.setText(label)
        assert not form.confirm_button.isEnabled()
        form.submit()
        assert expected in form.error_text() and secret not in form.error_text()
    assert signed_in_client.list_keys() == []
    key = signed_in_client.create_key("Cursor").key
    with qtbot.waitSignal(window.loaded, timeout=WAIT_MS):
        window.refresh()
    assert window.rename_key(key.id, "Cur\u200bsor") is False
    assert "invisible character (U+200B)" in window.save_status_text()
    assert window.rename_key(key.id, f"{secret[:9]}\u200b{secret[9:]}") is False
    assert "looks like an MCP key" in window.save_status_text() and secret not in window.save_status_text()
    assert [k.label for k in signed_in_client.list_keys()] == ["Cursor"]

