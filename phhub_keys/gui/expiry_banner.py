"""The ``expiryBanner``: "2 keys expire within 7 days" above the list, with a Show button.

Why a banner and not only colours: a key expiring next week is easy to miss in a
long list, and when it lapses every AI client using it stops working. Show
filters the list to those keys (filter word ``expiring`` or ``expired``).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QPushButton, QWidget

from ..core.wording import days_text
from .keys_model import EXPIRING_SOON_DAYS, FILTER_EXPIRED, FILTER_EXPIRING
from .plain_label import PlainLabel
from .resources import icon
from .theme import accents


def summary_text(expiring: int, expired: int, days: int = EXPIRING_SOON_DAYS) -> str:
    """"2 keys expire within 7 days", "1 key has expired", both joined, or ''."""
    parts = []
    if expiring:
        parts.append(f"{expiring} key{'s' if expiring != 1 else ''} expire{'s' if expiring == 1 else ''} "
                     f"within {days_text(days)}")
    if expired:
        parts.append(f"{expired} key{'s have' if expired != 1 else ' has'} expired")
    return "; ".join(parts)


class ExpiryBanner(QFrame):
    """Hidden when nothing expires soon; ``showRequested(filter_word)`` from its button."""

    showRequested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("expiryBanner")
        self.setAccessibleName("Expiring keys")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 8, 6)
        layout.setSpacing(10)
        self._icon = PlainLabel(self)
        layout.addWidget(self._icon, 0, Qt.AlignmentFlag.AlignVCenter)
        self.message = PlainLabel(self)
        self.message.setObjectName("expiryBannerText")
        self.message.setWordWrap(True)
        layout.addWidget(self.message, 1)
        self.show_button = QPushButton("Show", self)
        self.show_button.setObjectName("showExpiringButton")
        self.show_button.setAccessibleName("Show these keys")
        self.show_button.setToolTip("Filter the list to these keys; rotate them from their row")
        self._word: str = FILTER_EXPIRING
        self.show_button.clicked.connect(lambda: self.showRequested.emit(self._word))
        layout.addWidget(self.show_button, 0, Qt.AlignmentFlag.AlignVCenter)
        self._restyle()
        self.hide()

    def set_counts(self, expiring: int, expired: int) -> None:
        text = summary_text(expiring, expired)
        self._word = FILTER_EXPIRING if expiring else FILTER_EXPIRED
        self.message.setText(text)
        self.setAccessibleDescription(text)
        self.setVisible(bool(text))

    def text(self) -> str:
        return self.message.text() if self.isVisible() else ""

    def _restyle(self) -> None:
        colours = accents()
        sheet = (f"QFrame#expiryBanner {{ background-color: {colours.warning_bg.name()};"
                 f" border: 1px solid {colours.notice_border.name()}; border-radius: 6px; }}")
        if self.styleSheet() != sheet:
            self.setStyleSheet(sheet)
        self._icon.setPixmap(icon("warning", colours.warning_fg).pixmap(18, 18))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self._restyle()
        super().changeEvent(event)
