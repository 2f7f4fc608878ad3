"""SetupDialog through pytest-qt: snippets per client, Copy, 'Add to', and 'Test a key' off the GUI thread."""

from __future__ import annotations

import json
import socket
import threading
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLineEdit, QListWidget, QPlainTextEdit, QPushButton

from phhub_keys.api import keycheck
from phhub_keys.api.keycheck import CheckStatus
from phhub_keys.core import client_setup
from phhub_keys.core.keyformat import generate_key
from phhub_keys.gui import workers
from phhub_keys.gui.clipboard import KDE_HINT
from phhub_keys.gui.setup_dialog import SetupDialog

LOCAL_URL = "http://127.0.0.1:8750/mcp"
# The offscreen platform says this whenever a dialog is shown; it is not about our code.


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home" / ".config"))
    return tmp_path / "home"


@pytest.fixture
def make_dialog(qtbot: Any, home: Path) -> Iterator[Any]:
    made: list[SetupDialog] = []

    def make(server_url: str = LOCAL_URL, secret: str | None = None) -> SetupDialog:
        dialog = SetupDialog(server_url, secret)
        dialog.asked: list[tuple[str, str]] = []  # type: ignore[misc]
        dialog.answers: list[bool] = []  # type: ignore[misc]
        dialog.opened: list[str] = []  # type: ignore[misc]

        def confirm(title: str, text: str, action: str) -> bool:
            dialog.asked.append((title, text))
            return dialog.answers.pop(0) if dialog.answers else False

        dialog.confirm = confirm
        dialog.open_url = lambda url: dialog.opened.append(url.toString()) or True
        qtbot.addWidget(dialog)
        dialog.show()
        made.append(dialog)
        return dialog

    yield make
    for dialog in made:
        dialog.cancel_key_check()
    assert workers.wait_idle(20_000)


def snippet_text(dialog: SetupDialog, client_id: str) -> str:
    return dialog.findChild(QPlainTextEdit, f"snippet_{client_id}").toPlainText()


# ---------------------------------------------------------------- snippets


def test_a_page_per_client_picked_from_a_list(make_dialog) -> None:
    dialog = make_dialog()
    assert dialog.objectName() == "SetupDialog"
    picker = dialog.findChild(QListWidget, "setupClientList")
    assert picker.count() == len(client_setup.CLIENTS) == 14
    assert [picker.item(i).text() for i in range(picker.count())] == [
        "Cursor", "Claude Desktop", "Claude Code", "VS Code", "Windsurf", "Codex CLI", "Gemini CLI", "Zed",
        "Cline", "Continue", "Goose", "LM Studio", "JetBrains AI", "OpenAI Agent Builder",
    ]
    picker.setCurrentRow(7)
    assert dialog.current_client() == "zed" and dialog.client_tabs["zed"].isVisible()
    assert json.loads(snippet_text(dialog, "cursor"))["mcpServers"]["performance-hub"]["url"] == LOCAL_URL
    assert json.loads(snippet_text(dialog, "vscode"))["inputs"][0]["password"] is True
    assert tomllib.loads(snippet_text(dialog, "codex"))["mcp_servers"]["performance-hub"]["url"] == LOCAL_URL
    assert snippet_text(dialog, "claude-code").startswith(
        "claude mcp add --transport http --scope user performance-hub ")
    assert "type: streamable_http" in snippet_text(dialog, "goose")
    # Add-to buttons only for clients with a config file.
    for cid, info in client_setup.CLIENTS.items():
        has_file = info.file_based or len(info.scopes) > 1
        assert (dialog.findChild(QPushButton, f"addTo_{cid}") is not None) is has_file
    assert not dialog.findChild(type(dialog.embed_check), "embedKeyCheck").isVisible()


def test_every_page_fits_the_minimum_size(make_dialog, qtbot) -> None:
    """At its minimum size the dialog still shows the whole list, and each page's buttons."""
    dialog = make_dialog(secret=generate_key())  # with a key at hand: the "Include my key" box shows
    dialog.resize(dialog.minimumSize())
    qtbot.waitUntil(lambda: dialog.size() == dialog.minimumSize())
    picker = dialog.client_list
    last = picker.visualItemRect(picker.item(picker.count() - 1))
    assert picker.viewport().rect().contains(last), "the client list needs scrolling at the minimum size"
    for cid in client_setup.CLIENTS:
        tab = dialog.select_client(cid)
        qtbot.waitUntil(tab.isVisible)
        for button in (tab.copy_button, tab.add_button, tab.link_button):
            if button is not None and button.isVisibleTo(tab):
                assert button.width() >= button.minimumSizeHint().width(), (cid, button.text())
                assert tab.rect().contains(button.geometry()), (cid, button.text())
        assert tab.text.height() >= 80, cid
        for label in (tab.where, tab.notes):  # nothing drawn over the snippet
            if label.isVisibleTo(tab) and label.text():
                assert not label.geometry().intersects(tab.text.geometry()), (cid, label.objectName())
                assert label.height() >= label.heightForWidth(label.width()), (cid, label.objectName())
    assert dialog.embed_check.width() >= dialog.embed_check.sizeHint().width()


def test_project_scope_targets_the_chosen_folder(make_dialog, qtbot, tmp_path: Path) -> None:
    dialog = make_dialog()
    project = tmp_path / "proj"
    project.mkdir()
    dialog.choose_folder = lambda _cid: project
    tab = dialog.select_client("claude-code")
    tab.scope.setCurrentIndex(tab.scope.findData(client_setup.PROJECT))
    assert json.loads(snippet_text(dialog, "claude-code"))["mcpServers"]["performance-hub"]["type"] == "http"
    assert str(project / ".mcp.json") in tab.where.text()
    with qtbot.waitSignal(dialog.installed):
        qtbot.mouseClick(dialog.findChild(QPushButton, "addTo_claude-code"), _left())
    entry = json.loads((project / ".mcp.json").read_text())["mcpServers"]["performance-hub"]
    assert entry["headers"] == {"Authorization": "Bearer ${PHHUB_MCP_KEY}"}
    # Back to the user scope: the shell command again, and no file to add to.
    tab.scope.setCurrentIndex(tab.scope.findData(client_setup.USER))
    assert snippet_text(dialog, "claude-code").startswith("claude mcp add")
    assert not dialog.findChild(QPushButton, "addTo_claude-code").isVisibleTo(tab)
    # Cancelling the folder question leaves the project scope without a file yet.
    dialog.choose_folder = lambda _cid: None
    gemini = dialog.select_client("gemini")
    gemini.scope.setCurrentIndex(gemini.scope.findData(client_setup.PROJECT))
    assert not dialog.findChild(QPushButton, "addTo_gemini").isEnabled()
    assert "Choose the project folder" in gemini.where.text()


def test_add_to_goose_yaml_keeps_comments_and_says_to_replace_the_placeholder(
    make_dialog, qtbot, home: Path
) -> None:
    path = home / ".config" / "goose" / "config.yaml"
    path.parent.mkdir(parents=True)
    path.write_text("# mine\nGOOSE_PROVIDER: openai\nextensions:\n  developer:\n    enabled: true\n")
    dialog = make_dialog()
    dialog.select_client("goose")
    qtbot.mouseClick(dialog.findChild(QPushButton, "addTo_goose"), _left())
    text = path.read_text()
    assert text.startswith("# mine\n") and "streamable_http" in text and "developer:" in text
    assert "Replace YOUR_MCP_KEY" in dialog.client_tabs["goose"].status.text()


def test_a_key_typed_into_test_a_key_can_be_included(make_dialog) -> None:
    """Issue 11: Claude Desktop's snippet shows the real key when the user has one at hand."""
    dialog = make_dialog()
    assert not dialog.embed_check.isVisible()
    key = generate_key()
    dialog.key_input.setText(key[:-1])  # not a whole key yet: nothing to include
    assert not dialog.embed_check.isVisible()
    dialog.key_input.setText(key)
    assert dialog.embed_check.isVisible()
    assert "YOUR_MCP_KEY" in snippet_text(dialog, "claude-desktop")
    dialog.embed_check.setChecked(True)
    entry = json.loads(snippet_text(dialog, "claude-desktop"))["mcpServers"]["performance-hub"]
    assert entry["env"] == {"AUTH_HEADER": f"Bearer {key}"}
    dialog.key_input.clear()
    assert not dialog.embed_check.isChecked() and key not in snippet_text(dialog, "claude-desktop")


def test_lmstudio_link_opens_without_the_key(make_dialog, qtbot) -> None:
    secret = generate_key()
    dialog = make_dialog(secret=secret)
    dialog.embed_check.setChecked(True)
    dialog.select_client("lmstudio")
    qtbot.mouseClick(dialog.findChild(QPushButton, "lmstudioInstallLink"), _left())
    assert len(dialog.opened) == 1 and dialog.opened[0].startswith("lmstudio://add_mcp?")
    assert secret not in dialog.opened[0]


def test_server_name_changes_every_snippet_and_bad_names_are_explained(make_dialog) -> None:
    dialog = make_dialog()
    dialog.name_input.setText("my-hub")
    assert "my-hub" in json.loads(snippet_text(dialog, "cursor"))["mcpServers"]
    assert "[mcp_servers.my-hub]" in snippet_text(dialog, "codex")
    dialog.name_input.setText("has space")
    assert dialog.problem.isVisible() and "server name" in dialog.problem.text()
    assert not dialog.findChild(QPushButton, "copySnippet_cursor").isEnabled()
    assert not dialog.findChild(QPushButton, "addTo_cursor").isEnabled()


def test_without_a_server_url_the_user_is_told_and_can_paste_one(make_dialog) -> None:
    dialog = make_dialog("")
    assert dialog.problem.isVisible() and "Server URL" in dialog.problem.text()
    field = dialog.findChild(QLineEdit, "setupServerUrl")
    assert not field.isReadOnly()
    field.setText("https://hub.example.org/mcp")
    assert not dialog.problem.isVisible()
    assert "https://hub.example.org/mcp" in snippet_text(dialog, "windsurf")


def test_the_key_is_embedded_only_when_the_user_opts_in(make_dialog) -> None:
    secret = generate_key()
    dialog = make_dialog(secret=secret)
    assert dialog.embed_check.isVisible() and not dialog.embed_check.isChecked()
    for cid in client_setup.CLIENTS:
        assert secret not in snippet_text(dialog, cid)
    dialog.embed_check.setChecked(True)
    assert f"Bearer {secret}" in snippet_text(dialog, "cursor")
    assert json.loads(snippet_text(dialog, "openai"))["authorization"] == secret
    assert secret not in dialog.snippet("cursor").extra["deeplink"]
    dialog.embed_check.setChecked(False)
    assert secret not in snippet_text(dialog, "cursor")


def test_copy_plain_and_secret(make_dialog, qtbot) -> None:
    secret = generate_key()
    dialog = make_dialog(secret=secret)
    qtbot.mouseClick(dialog.findChild(QPushButton, "copySnippet_windsurf"), _left())
    clipboard = QGuiApplication.clipboard()
    assert clipboard.text() == snippet_text(dialog, "windsurf")
    assert not clipboard.mimeData().hasFormat(KDE_HINT)
    dialog.embed_check.setChecked(True)
    qtbot.mouseClick(dialog.findChild(QPushButton, "copySnippet_vscode"), _left())
    assert secret in clipboard.text()
    assert clipboard.mimeData().hasFormat(KDE_HINT)  # password-manager hint on a secret copy
    assert dialog._clipboard.clear_pending
    dialog._clipboard.clear_if_ours()


def test_cursor_install_link_opens_without_the_key(make_dialog, qtbot) -> None:
    secret = generate_key()
    dialog = make_dialog(secret=secret)
    dialog.embed_check.setChecked(True)
    dialog.select_client("cursor")
    qtbot.mouseClick(dialog.findChild(QPushButton, "cursorInstallLink"), _left())
    assert len(dialog.opened) == 1
    link = dialog.opened[0]
    assert link.startswith("cursor://anysphere.cursor-deeplink/mcp/install?") and secret not in link
    name, entry = client_setup.decode_cursor_deeplink(QUrl(link).toString())
    assert name == "performance-hub" and entry["url"] == LOCAL_URL


def test_install_in_cursor_with_no_cursor_handler_says_so_with_the_link(make_dialog, qtbot) -> None:
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QMessageBox

    dialog = make_dialog()
    dialog.open_url = lambda url: False  # what QDesktopServices.openUrl answers with no cursor:// handler
    dialog.select_client("cursor")
    qtbot.mouseClick(dialog.findChild(QPushButton, "cursorInstallLink"), _left())
    box = dialog.findChild(QMessageBox, "linkFallbackBox")
    assert box is not None and box.isVisible()
    assert "cursor://" in box.text() and "is Cursor installed?" in box.text()
    assert "“Add to Cursor” writes Cursor's configuration file instead" in box.text()
    link = box.informativeText()
    assert link.startswith("cursor://anysphere.cursor-deeplink/mcp/install?")
    qtbot.mouseClick(box.findChild(QPushButton, "copyLinkButton"), _left())
    assert QGuiApplication.clipboard().text() == link


def _left() -> Any:
    from PySide6.QtCore import Qt

    return Qt.MouseButton.LeftButton


# ---------------------------------------------------------------- Add to <client>


def test_add_to_cursor_creates_then_reports_same_name(make_dialog, qtbot, home: Path) -> None:
    dialog = make_dialog()
    button = dialog.findChild(QPushButton, "addTo_cursor")
    with qtbot.waitSignal(dialog.installed) as signal:
        qtbot.mouseClick(button, _left())
    path = home / ".cursor" / "mcp.json"
    assert signal.args[1].action == "created" and signal.args[1].path == path
    assert json.loads(path.read_text())["mcpServers"]["performance-hub"]["url"] == LOCAL_URL
    status = dialog.client_tabs["cursor"].status
    assert status.isVisible() and "Created ~/.cursor/mcp.json" in status.text()

    # Same entry again: nothing to do, no question.
    qtbot.mouseClick(button, _left())
    assert "already has exactly this entry" in status.text() and dialog.asked == []

    # A different URL under the same name: asked first; "no" leaves the file alone.
    before = path.read_bytes()
    dialog.server_url_field.setReadOnly(False)
    dialog.server_url_field.setText("http://127.0.0.1:9999/mcp")
    dialog.answers.append(False)
    qtbot.mouseClick(button, _left())
    assert len(dialog.asked) == 1 and "performance-hub" in dialog.asked[0][1]
    assert path.read_bytes() == before and "unchanged" in status.text()
    # "yes" replaces, after a backup.
    dialog.answers.append(True)
    qtbot.mouseClick(button, _left())
    assert json.loads(path.read_text())["mcpServers"]["performance-hub"]["url"] == "http://127.0.0.1:9999/mcp"
    backups = list(path.parent.glob("mcp.json.phhub-backup-*"))
    assert len(backups) == 1 and backups[0].read_bytes() == before
    assert "Backup:" in status.text()


def test_add_to_vscode_keeps_comments(make_dialog, qtbot, home: Path) -> None:
    path = home / ".config" / "Code" / "User" / "mcp.json"
    path.parent.mkdir(parents=True)
    path.write_text('{\n  // mine\n  "servers": {"git": {"type": "stdio", "command": "uvx"},},\n}\n')
    dialog = make_dialog()
    qtbot.mouseClick(dialog.findChild(QPushButton, "addTo_vscode"), _left())
    text = path.read_text()
    assert "// mine" in text and '"git"' in text and '"performance-hub"' in text
    assert '"phhub-mcp-key"' in text


def test_add_to_refuses_an_unparseable_file(make_dialog, qtbot, home: Path) -> None:
    path = home / ".codex" / "config.toml"
    path.parent.mkdir(parents=True)
    path.write_text("[mcp_servers\nbroken")
    dialog = make_dialog()
    qtbot.mouseClick(dialog.findChild(QPushButton, "addTo_codex"), _left())
    status = dialog.client_tabs["codex"].status
    assert "left untouched" in status.text()
    assert path.read_text() == "[mcp_servers\nbroken"
    assert list(path.parent.glob("*.phhub-backup-*")) == []


def test_config_path_override(make_dialog, qtbot, tmp_path: Path) -> None:
    dialog = make_dialog()
    target = tmp_path / "elsewhere" / "claude.json"
    dialog.set_config_path("claude-desktop", target)
    assert str(target) in dialog.client_tabs["claude-desktop"].where.text()
    qtbot.mouseClick(dialog.findChild(QPushButton, "addTo_claude-desktop"), _left())
    assert json.loads(target.read_text())["mcpServers"]["performance-hub"]["command"] == "npx"
    assert "Replace YOUR_MCP_KEY" in dialog.client_tabs["claude-desktop"].status.text()


# ---------------------------------------------------------------- Test a key


@pytest.fixture
def server_url(signed_in_session) -> str:
    return signed_in_session.get(signed_in_session.api("/mcp/config"), timeout=10).json()["server_url"]


@pytest.fixture
def check_threads(monkeypatch: pytest.MonkeyPatch) -> list[threading.Thread]:
    """Record the thread every KeyCheck.run executes on."""
    seen: list[threading.Thread] = []
    original = keycheck.KeyCheck.run

    def run(self):  # type: ignore[no-untyped-def]
        seen.append(threading.current_thread())
        return original(self)

    monkeypatch.setattr(keycheck.KeyCheck, "run", run)
    return seen


def test_fresh_key_is_prefilled_and_works(make_dialog, qtbot, signed_in_session, server_url,
                                          check_threads) -> None:
    created = signed_in_session.create_key("Dialog key")
    dialog = make_dialog(server_url, created["secret"])
    key_input = dialog.findChild(QLineEdit, "testKeyInput")
    assert key_input.text() == created["secret"]
    assert key_input.echoMode() == QLineEdit.EchoMode.Password
    with qtbot.waitSignal(dialog.keyCheckFinished, timeout=20_000) as signal:
        qtbot.mouseClick(dialog.findChild(QPushButton, "testKeyButton"), _left())
        assert dialog.checking and dialog.findChild(QPushButton, "cancelTestButton").isEnabled()
        assert dialog.progress.isVisible()
    result = signal.args[0]
    assert result.ok and result.key_label == "Dialog key"
    text = dialog.findChild(type(dialog.result_label), "testKeyResult").text()
    assert signed_in_session.creds.email in text and "Dialog key" in text and created["secret"] not in text
    assert not dialog.checking and not dialog.progress.isVisible()
    # The MCP exchange ran on a worker, never on the GUI thread.
    assert check_threads and all(t is not threading.main_thread() for t in check_threads)


def test_bad_checksum_is_reported_instantly_and_offline(make_dialog, qtbot, check_threads) -> None:
    dialog = make_dialog("http://127.0.0.1:9/mcp")
    key = generate_key()
    dialog.key_input.setText(key[:-1] + ("A" if key[-1] != "A" else "B"))
    with qtbot.waitSignal(dialog.keyCheckFinished, timeout=1000) as signal:
        qtbot.mouseClick(dialog.findChild(QPushButton, "testKeyButton"), _left())
    assert signal.args[0].status is CheckStatus.BAD_FORMAT
    assert "checksum" in dialog.result_label.text()
    assert check_threads == [] and workers.active_jobs() == 0  # no thread, no network
    assert not dialog.checking


def test_unknown_key_is_rejected(make_dialog, qtbot, server_url) -> None:
    dialog = make_dialog(server_url)
    dialog.key_input.setText(generate_key())
    with qtbot.waitSignal(dialog.keyCheckFinished, timeout=20_000) as signal:
        dialog.start_key_check()
    assert signal.args[0].status is CheckStatus.REJECTED
    assert "rejected" in dialog.result_label.text()


def test_unreachable_hub(make_dialog, qtbot) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        dialog = make_dialog(f"http://127.0.0.1:{port}/mcp")
        dialog.key_input.setText(generate_key())
        with qtbot.waitSignal(dialog.keyCheckFinished, timeout=20_000) as signal:
            qtbot.keyClick(dialog.key_input, _enter())
    assert signal.args[0].status is CheckStatus.UNREACHABLE
    assert "reach" in dialog.result_label.text()


def _enter() -> Any:
    from PySide6.QtCore import Qt

    return Qt.Key.Key_Return


def test_cancel_a_hanging_check(make_dialog, qtbot) -> None:
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)  # accepts, never answers
    try:
        dialog = make_dialog(f"http://127.0.0.1:{srv.getsockname()[1]}/mcp")
        dialog.key_input.setText(generate_key())
        dialog.start_key_check()
        assert dialog.checking
        # The GUI stays responsive while the check hangs on the worker.
        qtbot.wait(200)
        with qtbot.waitSignal(dialog.keyCheckFinished, timeout=10_000) as signal:
            qtbot.mouseClick(dialog.findChild(QPushButton, "cancelTestButton"), _left())
        assert signal.args[0].status is CheckStatus.CANCELLED
        assert dialog.findChild(QPushButton, "testKeyButton").isEnabled()
    finally:
        srv.close()


def test_closing_drops_the_secret_from_every_widget(make_dialog) -> None:
    secret = generate_key()
    dialog = make_dialog(secret=secret)
    dialog.embed_check.setChecked(True)
    assert secret in snippet_text(dialog, "cursor")
    dialog.close()
    assert dialog.key_input.text() == ""
    for widget in dialog.findChildren(QPlainTextEdit) + dialog.findChildren(QLineEdit):
        text = widget.toPlainText() if isinstance(widget, QPlainTextEdit) else widget.text()
        assert secret not in text
    assert dialog._secret is None


def test_the_key_test_result_never_moves_the_row_above_it(make_dialog, qtbot, hub, signed_in_client) -> None:
    """A one-line hint, a long error and a result after the real MCP exchange: the row stays put."""
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtWidgets import QLineEdit

    dialog = make_dialog(server_url=f"{hub.url}/mcp")
    field = dialog.findChild(QLineEdit, "testKeyInput")
    where = lambda: field.mapTo(dialog, QPoint(0, 0))  # noqa: E731
    before = where()
    qtbot.keyClicks(field, "phk_not-a-key")
    qtbot.keyClick(field, Qt.Key.Key_Return)  # offline: the checksum fails at once
    assert dialog.result_label.text().startswith("✗") and where() == before
    field.clear()
    qtbot.keyClicks(field, generate_key())  # well-formed, unknown to the hub: rejected over MCP
    with qtbot.waitSignal(dialog.keyCheckFinished, timeout=30_000):
        qtbot.keyClick(field, Qt.Key.Key_Return)
        assert where() == before  # the busy line appeared without moving anything
    assert dialog.result_label.text().startswith("✗") and where() == before


def test_cursor_explains_add_to_versus_install_in(make_dialog) -> None:
    dialog = make_dialog()
    tab = dialog.select_client("cursor")
    assert tab.both_ways is not None and tab.both_ways.isVisibleTo(dialog)
    text = tab.both_ways.text()
    assert "“Add to Cursor”" in text and "“Install in Cursor”" in text and "either" in text
    assert dialog.select_client("claude-desktop").both_ways is None  # one way only: nothing to explain
