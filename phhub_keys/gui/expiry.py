"""The Expiry choice of the create form (and of "Change expiry…"): 30 / 90 / 180 / 365 days,
a date, or "No expiry" when the hub's policy allows it; the default comes from the policy.

The widget only builds the request (``request()`` -> keyword arguments for the hub
call); the hub checks it again and its 422 ``invalid_expiry`` message is shown
inline by the form (``show_error``). Dates are picked in local time and sent as
a UTC instant; "in N days" is sent as days, so the hub's clock decides.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import shiboken6
from PySide6.QtCore import QDate, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QVBoxLayout,
    QWidget,
)

from ..api.errors import AuthenticationError, HubError
from ..core.expiry import KeyPolicy, expiry_text
from ..core.models import McpKey
from ..core.wording import days_text
from .plain_label import PlainLabel
from .theme import accents
from .workers import run_in_pool

PRESET_DAYS = (30, 90, 180, 365)
DATE_CHOICE = "date"
NEVER_CHOICE = "never"


class ExpiryChooser(QWidget):
    """A combo box of lifetimes plus a date field shown for "On a date…"; ``changed`` on any edit."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("expiryChooser")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        self.combo = QComboBox(self)
        self.combo.setObjectName("expiryCombo")
        self.combo.setAccessibleName("Expiry")
        self.combo.setToolTip("When the key stops working; you can rotate or extend it before then")
        self.combo.view().setAccessibleName("Expiry choices")  # its popup list, for screen readers
        layout.addWidget(self.combo)
        self.date_edit = QDateEdit(self)
        self.date_edit.setObjectName("expiryDateEdit")
        self.date_edit.setAccessibleName("Expiry date")
        self.date_edit.setCalendarPopup(True)
        self.date_edit.setDisplayFormat("yyyy-MM-dd")
        self.date_edit.setToolTip("The key stops working at the start of this day (your local time)")
        self.date_edit.hide()
        layout.addWidget(self.date_edit)
        self.combo.currentIndexChanged.connect(self._on_choice)
        self.date_edit.dateChanged.connect(lambda _d: self.changed.emit())
        self.policy = KeyPolicy()
        # Today's date by the hub's clock, in local time (the window sets it): the dates offered are
        # the ones the hub accepts, even when this computer's clock is days off.
        self.today: Callable[[], date] = date.today
        self._date_picked = False
        self.date_edit.editingFinished.connect(lambda: setattr(self, "_date_picked", True))
        self.set_policy(None)

    # -- building ----------------------------------------------------------------------------------
    def set_policy(self, policy: KeyPolicy | None, today: date | None = None) -> None:
        """Offer what ``policy`` allows (None: the contract's defaults) and select its default."""
        self.policy = policy or KeyPolicy()
        today = today or self.today()
        previous = self.combo.currentData()
        self.combo.blockSignals(True)
        self.combo.clear()
        limit = self.policy.max_days
        default_days = self.policy.default_lifetime_days
        choices = sorted({d for d in PRESET_DAYS if d <= limit}
                         | ({default_days} if default_days else set())
                         | ({limit} if self.policy.max_lifetime_days and limit not in PRESET_DAYS else set()))
        for days in choices:
            self.combo.addItem(days_text(days), days)
        self.combo.addItem("On a date…", DATE_CHOICE)
        if self.policy.allows_no_expiry:
            self.combo.addItem("No expiry", NEVER_CHOICE)
        default = self.policy.default_lifetime_days or (NEVER_CHOICE if self.policy.allows_no_expiry
                                                        else choices[-1])
        keep = previous if previous is not None and self.combo.findData(previous) >= 0 else default
        self.combo.setCurrentIndex(max(0, self.combo.findData(keep)))
        self.combo.blockSignals(False)
        self.date_edit.setMinimumDate(_qdate(today + timedelta(days=1)))
        self.date_edit.setMaximumDate(_qdate(today + timedelta(days=limit)))
        if not self._date_picked:
            self.date_edit.setDate(_qdate(today + timedelta(days=min(limit, self.policy.default_lifetime_days
                                                                      or 90))))
        self._on_choice()

    def reset(self) -> None:
        """Back to the policy's default."""
        self._date_picked = False
        self.combo.setCurrentIndex(-1)
        self.set_policy(self.policy)

    # -- reading -----------------------------------------------------------------------------------
    def choice(self) -> object:
        return self.combo.currentData()

    def select(self, choice: object) -> bool:
        """Select a preset by its data (days, "date" or "never"); False when not offered."""
        index = self.combo.findData(choice)
        if index < 0:
            return False
        self.combo.setCurrentIndex(index)
        return True

    def set_date(self, day: date) -> None:
        self.select(DATE_CHOICE)
        self._date_picked = True
        self.date_edit.setDate(_qdate(day))

    def request(self) -> dict[str, Any]:
        """Keyword arguments for the hub call: ``expires_in_days``, ``expires_at`` or ``no_expiry``."""
        choice = self.combo.currentData()
        if choice == NEVER_CHOICE:
            return {"no_expiry": True}
        if choice == DATE_CHOICE:
            picked: date = self.date_edit.date().toPython()  # type: ignore[assignment]  # toPython() -> object in the stubs
            local_midnight = datetime.combine(picked, time(0, 0)).astimezone()
            return {"expires_at": local_midnight.astimezone(UTC)}
        return {"expires_in_days": int(choice)}

    def summary(self) -> str:
        """``expires in 90 days`` / ``expires on 2027-03-01`` / ``never expires``, for confirmations."""
        choice = self.combo.currentData()
        if choice == NEVER_CHOICE:
            return "never expires"
        if choice == DATE_CHOICE:
            return f"expires on {self.date_edit.date().toString('yyyy-MM-dd')}"
        return f"expires in {days_text(int(choice))}"

    def _on_choice(self, *_args: object) -> None:
        self.date_edit.setVisible(self.combo.currentData() == DATE_CHOICE)
        self.changed.emit()


def _qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)


class ChangeExpiryDialog(QDialog):
    """"Change expiry…" for one key (``changeExpiryDialog``): the same choices as the create form,
    counted from the hub's time. Extending an expired key renews it (the hub logs that).
    ``changed(McpKey)`` with the hub's answer."""

    changed = Signal(object)
    authenticationRequired = Signal()

    def __init__(self, client: Any, key: McpKey, policy: KeyPolicy, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("changeExpiryDialog")
        self.setWindowTitle("Change expiry")
        self._client = client
        self.key = key
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 12)
        layout.setSpacing(8)
        now = client.hub_now()
        current = "never expires" if key.expires_at is None else (
            ("expired " if key.expires_at <= now else "expires ") + expiry_text(key.expires_at, now).lower())
        intro = PlainLabel(f"“{key.label}” ({key.redacted}) {current}.", self)
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.chooser = ExpiryChooser(self)
        # The combo box's buddy: on Linux its accessible name is its value, this says what it sets.
        prompt = PlainLabel("New expiry, from now:", self)
        prompt.setBuddy(self.chooser.combo)
        layout.addWidget(prompt)
        self.chooser.set_policy(policy, now.astimezone().date())
        layout.addWidget(self.chooser)
        self.error_label = PlainLabel(self)
        self.error_label.setObjectName("changeExpiryError")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(f"color: {accents().danger.name()};")
        self.error_label.hide()
        layout.addWidget(self.error_label)
        self.chooser.changed.connect(self.error_label.hide)
        buttons = QDialogButtonBox(self)
        self.save_button = buttons.addButton("Save", QDialogButtonBox.ButtonRole.AcceptRole)
        self.save_button.setObjectName("saveExpiryButton")
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self.save)
        buttons.addButton(QDialogButtonBox.StandardButton.Cancel).clicked.connect(self.close)
        layout.addWidget(buttons)

    def set_client(self, client: Any) -> None:
        self._client = client

    def expires_at(self) -> datetime | None:
        request = self.chooser.request()
        if "expires_in_days" in request:
            return self._client.hub_now() + timedelta(days=int(request["expires_in_days"]))
        return request.get("expires_at")

    def save(self) -> None:
        self.save_button.setEnabled(False)
        job = run_in_pool(self._client.set_expiry, self.key.id, self.expires_at(), name="set expiry")
        job.succeeded.connect(self._saved)
        job.failed.connect(self._failed)

    def _saved(self, key: McpKey) -> None:
        if shiboken6.isValid(self):
            self.changed.emit(key)
            self.close()

    def _failed(self, exc: BaseException) -> None:
        if not shiboken6.isValid(self):
            return
        self.save_button.setEnabled(True)
        if isinstance(exc, AuthenticationError):
            self.authenticationRequired.emit()
        self.error_label.setText(exc.message if isinstance(exc, HubError) else str(exc))
        self.error_label.show()
