"""The tray menu offscreen: every action, the offline copy, the status line, sign-out, quit.

Offscreen there is no system tray (isSystemTrayAvailable() is False), so the icon
is never shown; the controller is told to build the tray anyway (use_tray=True)
and the actions are triggered as the menu would. The real tray host test is in
test_tray_xvfb.py.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLabel, QSystemTrayIcon

from phhub_keys.api.client import HubClient
from phhub_keys.core.net import display_host
from phhub_keys.gui import workers
from phhub_keys.gui.tray import Tray

EXPECTED = ["trayCopyServerUrl", "trayOpenManager", "trayNewKey", "traySetupClient", "trayReviewCsv",
            "trayStatus", "traySignOut", "traySignOutEverywhere", "trayQuit"]
SERVER_URL = "https://hub.example.org/mcp"


def offline_controller(make_controller, app_settings, cached: str | None = SERVER_URL):
    """A remote-mode controller for a hub that does not exist; only the settings know its URL."""
    app_settings.hub_url = "https://hub.example.org"
    app_settings.email = "ada@example.org"
    if cached:
        app_settings.set_cached_server_url(cached, "https://hub.example.org")
    controller = make_controller(settings=app_settings, use_tray=True)
    controller.setup_tray()  # the tray alone, without start(): no sign-in, no keyring, no hub
    return controller


def test_menu_order_names_and_default_action(qtbot, make_controller, app_settings):
    controller = offline_controller(make_controller, app_settings)
    tray = controller.tray
    assert isinstance(tray, Tray)
    assert tray.action_names() == EXPECTED
    actions = [a for a in tray.menu.actions() if not a.isSeparator()]
    assert actions[0].objectName() == "trayCopyServerUrl" and actions[-1].objectName() == "trayQuit"
    assert tray.menu.defaultAction() is tray.action("trayCopyServerUrl")
    assert [tray.action(n).text() for n in EXPECTED] == [
        "Copy Server URL", "Manage MCP Keys…", "New Key…", "Set up a client…", "Review CSV files…",
        "Not signed in to hub.example.org", "Sign Out", "Sign Out Everywhere…", "Quit"]
    assert not tray.action("trayStatus").isEnabled()
    assert not tray.action("traySignOut").isEnabled()  # nobody to sign out
    assert not tray.action("traySignOutEverywhere").isEnabled()
    assert tray.icon.contextMenu() is tray.menu
    assert not tray.icon.icon().isNull()


def test_copy_uses_the_cached_url_with_no_hub_running(qtbot, make_controller, app_settings):
    controller = offline_controller(make_controller, app_settings)
    QGuiApplication.clipboard().setText("something else")
    with qtbot.waitSignal(controller.tray.messageShown, timeout=1000) as shown:
        controller.tray.action("trayCopyServerUrl").trigger()
    assert QGuiApplication.clipboard().text() == SERVER_URL
    assert shown.args == ["Server URL copied", SERVER_URL]
    assert workers.active_jobs() == 0 and controller.client is None  # nothing went to the network


def test_left_click_on_the_icon_copies(qtbot, make_controller, app_settings):
    controller = offline_controller(make_controller, app_settings)
    QGuiApplication.clipboard().setText("something else")
    controller.tray.icon.activated.emit(QSystemTrayIcon.ActivationReason.Trigger)
    assert QGuiApplication.clipboard().text() == SERVER_URL
    assert controller.tray.last_message == ("Server URL copied", SERVER_URL)


def test_copy_with_nothing_cached_explains_and_leaves_the_clipboard(qtbot, make_controller, app_settings):
    controller = offline_controller(make_controller, app_settings, cached=None)
    QGuiApplication.clipboard().setText("keep me")
    controller.tray.action("trayCopyServerUrl").trigger()
    assert QGuiApplication.clipboard().text() == "keep me"
    assert controller.tray.last_message[0] == "No server URL yet"


def test_a_url_cached_from_another_hub_is_not_copied(qtbot, make_controller, app_settings):
    app_settings.set_cached_server_url("https://old-hub.example.org/mcp", "https://old-hub.example.org")
    controller = make_controller(settings=app_settings, use_tray=True, hub_url="https://hub.example.org")
    controller.setup_tray()
    QGuiApplication.clipboard().setText("keep me")
    controller.tray.copy_server_url()
    assert QGuiApplication.clipboard().text() == "keep me"


def test_open_manager_new_key_and_status_line(qtbot, local_hub, make_controller):
    controller = make_controller(local=local_hub, use_tray=True)
    controller.setup_tray()
    tray = controller.tray
    tray.action("trayOpenManager").trigger()
    qtbot.waitUntil(lambda: controller.window is not None and controller.window.is_loaded(), timeout=10000)
    window = controller.window
    assert window.isVisible() and not window.create_form.isVisible()
    # The server URL the window learned is what the tray copies from now on, offline.
    assert controller.cached_server_url() == f"{local_hub.url}/mcp"
    tray.menu.aboutToShow.emit()
    assert tray.action("trayStatus").text() == controller.account_text()
    assert local_hub.email in tray.action("trayStatus").text()
    assert tray.action("traySignOut").isEnabled()
    window.close()
    assert not window.isVisible()
    tray.action("trayNewKey").trigger()
    assert window.isVisible() and window.create_form.isVisible()


def test_review_csv_opens_the_review_window(qtbot, make_controller, app_settings, tmp_path: Path):
    controller = offline_controller(make_controller, app_settings)
    controller.tray.action("trayReviewCsv").trigger()
    review = controller.other_windows()[-1]
    assert review.objectName() == "CsvReviewWindow" and review.isVisible()
    csv = tmp_path / "keys.csv"
    csv.write_text("id,label,key,status,created_at,last_used_at\n"
                   "mk_1,Cursor,phk_abcd...ef1234,active,2026-01-01T00:00:00Z,\n", encoding="utf-8")
    window = controller.open_review([str(csv)])
    assert window is controller.other_windows()[-1] is review  # the open review window is reused
    qtbot.waitUntil(lambda: not window.is_loading(), timeout=10000)
    summary = window.findChild(QLabel, "csvSummary")
    assert "keys.csv" in summary.text() and "<b>1</b> key" in summary.text()
    for w in controller.other_windows():
        w.close()


def test_setup_opens_offline_with_the_cached_server_url(qtbot, make_controller, app_settings):
    controller = offline_controller(make_controller, app_settings)
    controller.tray.action("traySetupClient").trigger()
    dialog = controller.other_windows()[-1]
    assert dialog.objectName() == "SetupDialog" and dialog.isVisible()
    assert dialog.server_url() == SERVER_URL
    assert workers.active_jobs() == 0 and controller.client is None
    dialog.close()


def test_sign_out_clears_the_keyring_entry_and_the_status_line(qtbot, hub, make_user, mem_credentials,
                                                                app_settings, make_controller):
    creds = make_user()
    client = HubClient(hub.url)
    client.login(creds.email, creds.password)
    mem_credentials.save(hub.url, creds.email, client.token)
    app_settings.hub_url, app_settings.email = hub.url, creds.email
    controller = make_controller(settings=app_settings, credentials=mem_credentials, use_tray=True)
    controller.start()
    qtbot.waitUntil(lambda: controller.window is not None and controller.window.is_loaded(), timeout=10000)
    tray = controller.tray
    tray.menu.aboutToShow.emit()
    assert creds.email in tray.action("trayStatus").text()
    tray.action("traySignOut").trigger()
    qtbot.waitUntil(lambda: mem_credentials.load(hub.url, creds.email) is None, timeout=5000)
    tray.menu.aboutToShow.emit()  # the menu is rebuilt each time it opens
    assert tray.action("trayStatus").text() == f"Not signed in to {display_host(hub.url)}"
    assert not tray.action("traySignOut").isEnabled()
    assert tray.last_message[0] == "Signed out"
    assert controller.window is None


def test_quit_is_last_and_quits(qtbot, make_controller, app_settings):
    controller = offline_controller(make_controller, app_settings)
    controller.tray.action("trayQuit").trigger()
    assert controller.rec.quits == 0  # quitting happens from the event loop, after the menu closed
    qtbot.waitUntil(lambda: controller.rec.quits == 1, timeout=2000)


def test_quit_with_an_unsaved_secret_asks_first(qtbot, local_hub, make_controller):
    controller = make_controller(local=local_hub, use_tray=True)
    controller.start()
    qtbot.waitUntil(lambda: controller.window is not None and controller.window.is_loaded(), timeout=10000)
    window = controller.window
    window.create_key("not yet copied")
    qtbot.waitUntil(window.has_unsaved_secret, timeout=10000)
    controller.rec.answers = [False]
    controller.tray.action("trayQuit").trigger()
    qtbot.wait(20)
    assert controller.rec.quits == 0 and window.has_unsaved_secret()
    controller.rec.answers = [True]
    controller.tray.action("trayQuit").trigger()
    qtbot.waitUntil(lambda: controller.rec.quits == 1, timeout=2000)
    assert not window.has_unsaved_secret()


def test_each_tray_icon_says_which_hub_it_belongs_to(qtbot, make_controller, app_settings, local_hub):
    """Two instances (another hub, or --local) each have an icon: the tooltip and menu name the hub."""
    remote = offline_controller(make_controller, app_settings)
    tray = remote.tray
    tray.rebuild_menu()
    assert tray.icon.toolTip() == "MCP Keys — hub.example.org, not signed in"
    assert tray.menu.title() == "MCP Keys — hub.example.org"
    assert tray.action("trayStatus").text() == "Not signed in to hub.example.org"
    local = make_controller(local=local_hub, use_tray=True)
    local.setup_tray()
    local.start()
    qtbot.waitUntil(lambda: local.signed_in, timeout=10_000)
    local.tray.rebuild_menu()
    assert local.tray.icon.toolTip() == f"MCP Keys — {local_hub.email} on local hub"
    assert local.tray.menu.title() == "MCP Keys — local hub"
    assert local.tray.action("trayStatus").text() == f"{local_hub.email} on local hub"
