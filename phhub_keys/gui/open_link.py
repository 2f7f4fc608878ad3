"""Opening a link in the browser or another app, and saying so when nothing opened it.

Why: ``QDesktopServices.openUrl`` returns False when the desktop has no browser
or no handler for a scheme such as ``cursor://`` (Cursor not installed), and
the only trace was a line on stderr, so the button seemed to do nothing. Here a
failed open shows a small non-blocking box naming what went wrong, with the link
selectable and a Copy Link button, so the user can open it by hand.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, QUrl
from PySide6.QtWidgets import QMessageBox, QWidget

from .clipboard import copy_text

FALLBACK_NAME = "linkFallbackBox"
REFUSED_NAME = "linkRefusedBox"
NO_BROWSER = "no web browser is set up to open links on this computer."


def refuse_link(parent: QWidget, url: str, what: str) -> None:
    """Say (non-modal) that a link supplied by the hub was not opened because it is not
    http(s): a ``file:``, ``smb:`` or ``javascript:`` link must never reach the desktop's
    opener. The link is shown as text, so the user can see what the hub sent."""
    box = QMessageBox(QMessageBox.Icon.Warning, "Link not opened",
                      f"{what} was not opened: the hub gave a link that is not a web address "
                      "(only http:// and https:// links are opened). Tell the hub's administrator.",
                      parent=parent)
    box.setObjectName(REFUSED_NAME)
    box.setInformativeText(url[:300])
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    box.addButton(QMessageBox.StandardButton.Close)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
    box.open()


def open_link(parent: QWidget, opener: Callable[[QUrl], bool], url: str, what: str, why: str = NO_BROWSER,
              hint: str = "") -> bool:
    """``opener(url)``; when it fails, tell the user (non-modal) and offer the link to copy.

    ``what`` names the target ("The MCP documentation"), ``why`` the likely cause,
    ``hint`` another way to the same goal. Returns whether the link opened.
    """
    if opener(QUrl(url)):
        return True
    text = f"{what} did not open: {why}"
    if hint:
        text += f"\n\n{hint}"
    text += "\n\nCopy the link and open it yourself:"
    box = QMessageBox(QMessageBox.Icon.Information, "Could not open the link", text, parent=parent)
    box.setObjectName(FALLBACK_NAME)
    box.setInformativeText(url)
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    copy = box.addButton("Copy Link", QMessageBox.ButtonRole.AcceptRole)
    copy.setObjectName("copyLinkButton")
    copy.setAccessibleName(f"Copy the link {url}")
    box.addButton(QMessageBox.StandardButton.Close)
    box.setDefaultButton(copy)
    copy.clicked.connect(lambda: copy_text(url))
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
    box.open()  # not exec(): the window (and any waiting test) keeps running
    return False
