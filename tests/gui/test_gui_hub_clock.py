"""The window counts time by the hub's clock, end to end (issue 14, "Time"): a real hub whose
clock runs days away from this computer's, the window's "now" learnt from the hub's answers
(their Date header, which the hub sets from the clock that decides "expired"), and the Expires
column, the Expired badge, the expiring-soon colour, the banner and the filter words follow the hub,
never this computer's clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fixtures_gui import close_manage_window, open_manage_window
from fixtures_hub import HubClock, add_test_user
from PySide6.QtCore import Qt

from phhub_keys.api.client import HubClient
from phhub_keys.gui.keys_model import Col, Role, expiry_state, format_expires
from phhub_keys.gui.theme import accents

DAY = timedelta(days=1)


@pytest.mark.parametrize("skew_days", [-4, 3], ids=["computer-4-days-ahead", "computer-3-days-behind"])
def test_expires_badge_colour_banner_and_filter_follow_a_skewed_hub_clock(
        qtbot: Any, start_hub: Any, window_recorder: Any, skew_days: int) -> None:
    hub = start_hub()
    clock = HubClock(timedelta(days=skew_days) - 10 * DAY)  # hub time = this computer's + skew, 10 days ago
    hub.store.clock = clock
    client = HubClient(hub.url)
    creds = add_test_user(hub)
    client.login(creds.email, creds.password)
    made = clock()
    gone = client.create_key("gone", expires_at=made + 9 * DAY).key
    soon = client.create_key("soon", expires_at=made + 13 * DAY).key
    later = client.create_key("later", expires_at=made + 20 * DAY).key
    clock.advance(days=10)  # the hub's now: gone expired a day ago, soon in 3 days, later in 10 days
    window = open_manage_window(qtbot, client, window_recorder)
    try:
        model = window.model
        hub_now, local_now = window.hub_now(), datetime.now(UTC)
        assert abs((hub_now - clock()).total_seconds()) <= 2
        assert abs((hub_now - local_now - timedelta(days=skew_days)).total_seconds()) <= 2

        def cell(key_id: str, col: int, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
            return model.index(model.row_of(key_id), col).data(role)

        shown = {k.label: cell(k.id, Col.EXPIRES) for k in (gone, soon, later)}
        assert shown == {"gone": "yesterday", "soon": "in 3 days", "later": "in 10 days"}
        assert [cell(k.id, Col.STATUS) for k in (gone, soon, later)] == ["Expired", "Active", "Active"]
        assert [cell(k.id, Col.EXPIRES, Role.EXPIRY) for k in (gone, soon, later)] == [
            "expired", "expiring", ""]
        assert cell(soon.id, Col.EXPIRES, Qt.ItemDataRole.BackgroundRole) == accents().warning_bg
        assert cell(later.id, Col.EXPIRES, Qt.ItemDataRole.BackgroundRole) is None
        assert cell(soon.id, Col.EXPIRES, Qt.ItemDataRole.ToolTipRole).startswith("Expires in 3 days")
        assert window.expiry_banner.text() == "1 key expires within 7 days; 1 key has expired"
        window.filter_input.setText("expiring")
        assert [model.key_at(r).label for r in range(model.rowCount())] == ["soon"]
        window.filter_input.clear()

        # The test can fail: this computer's clock tells another story for every key.
        for key in (gone, soon, later):
            local = model.key_by_id(key.id)
            assert (format_expires(local, local_now), expiry_state(local, local_now)) != (
                shown[key.label], cell(key.id, Col.EXPIRES, Role.EXPIRY)), key.label

        # The relative-time timer keeps counting from the hub's time, not this computer's.
        window.refresh_times()
        assert cell(soon.id, Col.EXPIRES) == "in 3 days"
        assert window.expiry_banner.text() == "1 key expires within 7 days; 1 key has expired"

        # Three more days on the hub: "soon" has expired by the hub's clock; the next answer says so.
        clock.advance(days=3, seconds=5)
        with qtbot.waitSignal(window.loaded, timeout=10_000):
            assert window.refresh()
        assert [cell(k.id, Col.STATUS) for k in (gone, soon, later)] == ["Expired", "Expired", "Active"]
        assert cell(soon.id, Col.EXPIRES) == "just now" and cell(later.id, Col.EXPIRES) == "in 7 days"
        assert cell(later.id, Col.EXPIRES, Role.EXPIRY) == "expiring"
        assert window.expiry_banner.text() == "1 key expires within 7 days; 2 keys have expired"
    finally:
        close_manage_window(window)
        client.close()


def test_expiring_filter_and_banner_follow_time_while_the_window_is_open(
        qtbot: Any, start_hub: Any, window_recorder: Any) -> None:
    """With "expiring" in the filter box, a key that comes within 7 days by the hub's clock appears
    at the next time refresh (the window's 30 s timer), without the filter being typed again; one
    whose expiry passes turns Expired (as the hub computes it) and leaves that filter."""
    hub = start_hub()
    clock = HubClock()
    hub.store.clock = clock
    client = HubClient(hub.url)
    creds = add_test_user(hub)
    client.login(creds.email, creds.password)
    made = clock()
    first = client.create_key("first", expires_at=made + 5 * DAY).key
    second = client.create_key("second", expires_at=made + 8 * DAY + timedelta(hours=20)).key
    client.create_key("far", expires_at=made + 60 * DAY)
    window = open_manage_window(qtbot, client, window_recorder)
    try:
        model = window.model
        window.filter_input.setText("expiring")
        window.table.selectRow(0)
        assert [model.key_at(r).label for r in range(model.rowCount())] == ["first"]
        assert window.count_label.text() == "1 of 3 keys match"
        assert window.expiry_banner.text() == "1 key expires within 7 days"

        clock.advance(days=2)  # two days pass on the hub (learnt from its next answer) ...
        client.me()
        window.refresh_times()  # ... and the window's relative-time timer fires
        assert [model.key_at(r).label for r in range(model.rowCount())] == ["second", "first"]
        assert window.count_label.text() == "2 of 3 keys match"
        assert window.table.current_key_id() == first.id  # the selection stayed on its key
        assert model.index(model.row_of(second.id), Col.EXPIRES).data() == "in 7 days"
        assert window.expiry_banner.text() == "2 keys expire within 7 days"

        clock.advance(days=3, seconds=5)  # "first" is past its expiry by the hub's clock
        client.me()
        window.refresh_times()
        assert [model.key_at(r).label for r in range(model.rowCount())] == ["second"]
        assert model.key_by_id(first.id).status.display == "Expired"
        assert window.expiry_banner.text() == "1 key expires within 7 days; 1 key has expired"
        window.filter_input.setText("expired")
        assert [model.key_at(r).label for r in range(model.rowCount())] == ["first"]
        assert model.index(0, Col.STATUS).data() == "Expired"
        with qtbot.waitSignal(window.loaded, timeout=10_000):  # and the hub agrees
            assert window.refresh()
        assert [model.key_at(r).label for r in range(model.rowCount())] == ["first"]
        assert model.key_by_id(first.id).status.display == "Expired"
    finally:
        close_manage_window(window)
        client.close()


def test_the_create_forms_dates_are_the_hubs(qtbot: Any, start_hub: Any, window_recorder: Any) -> None:
    """With the hub 3 days ahead of this computer, "On a date…" starts at the hub's tomorrow: the
    earliest date offered is one the hub accepts (this computer's tomorrow is in the hub's past)."""
    hub = start_hub()
    hub.store.clock = clock = HubClock(3 * DAY)
    client = HubClient(hub.url)
    creds = add_test_user(hub)
    client.login(creds.email, creds.password)
    window = open_manage_window(qtbot, client, window_recorder)
    try:
        window.open_create_form()
        chooser = window.create_form.expiry
        assert chooser.select("date")
        hub_today = clock().astimezone().date()
        earliest = chooser.date_edit.minimumDate().toPython()
        assert earliest == hub_today + DAY != datetime.now().date() + DAY
        assert chooser.date_edit.maximumDate().toPython() == hub_today + timedelta(days=36_500)
        chooser.set_date(earliest)
        window.create_form.label_input.setText("hub's tomorrow")
        window.create_form.submit()
        form = window.create_form
        qtbot.waitUntil(lambda: window.model.total_count() == 1 or bool(form.expiry_error_text()),
                        timeout=10_000)
        assert not window.create_form.expiry_error_text()
        [key] = window.model.keys()
        assert key.expires_at == datetime.combine(earliest, datetime.min.time()).astimezone().astimezone(UTC)
        assert window.model.index(0, Col.EXPIRES).data().startswith("in ")
        window.dismiss_new_key()
    finally:
        close_manage_window(window)
        client.close()


def test_tray_reminders_count_by_the_hubs_clock(qtbot: Any, local_hub: Any, make_controller: Any) -> None:
    """The hub runs 25 days ahead of this computer; a key expiring 10 days from the hub's now is 35
    days away by this computer's clock (no threshold crossed): the reminder still comes, and names
    the hub's 10 days."""
    local_hub.hub.store.clock = HubClock(25 * DAY)
    api = HubClient(local_hub.url, token=local_hub.new_token())
    soon = api.create_key("ten hub days", expires_in_days=10).key
    assert (soon.expires_at - datetime.now(UTC)).days >= 34  # the local clock alone would stay quiet
    controller = make_controller(local=local_hub, use_tray=True)
    controller.setup_tray()
    with qtbot.waitSignal(controller.tray.messageShown, timeout=10_000) as shown:
        controller.ensure_signed_in()
    assert "“ten hub days” expires in 10 days" in shown.args[1]
    assert controller.tray.last_tag == soon.id
    api.close()


def test_a_saved_list_is_not_called_expired_by_this_computers_clock(qtbot: Any) -> None:
    """Before the hub answered (a saved list on screen, no hub time known), the relative-time timer
    does not turn a key the hub last called active into Expired by this computer's clock alone."""
    from dataclasses import replace

    from phhub_keys.core.models import KeyStatus, McpKey
    from phhub_keys.gui.manage_window import ManageKeysWindow

    window = ManageKeysWindow(None)
    qtbot.addWidget(window)
    now = datetime.now(UTC).replace(microsecond=0)
    key = McpKey.from_json({"id": "mk_0123456789abcdef", "label": "saved", "redacted": "phk_abcd...efghij",
                            "status": "active", "created_at": "2026-01-01T00:00:00Z", "last_used_at": None,
                            "last_used_client": None, "last_used_ip": None, "deactivated_at": None})
    window.show_saved_list([replace(key, expires_at=now - timedelta(minutes=5))], now - DAY)
    window.refresh_times()
    assert window.model.key_by_id(key.id).status is KeyStatus.ACTIVE
