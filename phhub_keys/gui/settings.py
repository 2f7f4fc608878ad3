"""The window's own settings (geometry, one-time hints) in QSettings, and the account state it shares.

Why two stores: what identifies the account (hub URL, email, plain-http
choice, last Server URL) is shared with the CLI, so it lives in the Qt-free
JSON file of ``core.account``; QSettings keeps only what is the window's own
(geometry and view preferences). ``AppSettings`` fronts both, so the rest of
the GUI asks one object.

Every value passes one guard that refuses anything shaped like an MCP key or
a session token, so a secret can never end up on disk by mistake. Secrets
belong in the OS keyring (api.credentials) or in memory only.

Settings are kept per *profile*: ``remote`` (a real hub) and ``local`` (the
embedded hub of ``--local``), so trying the local hub never overwrites the
account and cached server URL of the real one.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

from ..core import paths
from ..core.account import LOCAL, PROFILES, REMOTE, Account, AccountState, SecretInSettings, refuse_secret

__all__ = ["LOCAL", "REMOTE", "AppSettings", "SecretInSettings", "default_settings_path",
           "read_legacy_account"]

# Account values older versions kept in settings.ini (moved to account.json once).
_LEGACY_ACCOUNT_KEYS = ("hub_url", "email", "allow_insecure_http", "server_url", "server_url_hub")


def default_settings_path() -> Path:
    """``<user config dir>/phhub-keys/settings.ini``."""
    return paths.settings_path()


def account_path_for(settings_path: Path) -> Path:
    """The account file beside a settings file (``account.json`` for the default name)."""
    if settings_path.name == paths.SETTINGS_FILE:
        return settings_path.with_name(paths.ACCOUNT_FILE)
    return settings_path.with_suffix(".account.json")


def read_legacy_account(path: Path) -> Mapping[str, Any]:
    """Account values an older version wrote to the QSettings file (decoded by Qt itself)."""
    qs = QSettings(str(path), QSettings.Format.IniFormat)
    result: dict[str, dict[str, Any]] = {}
    for profile in PROFILES:
        section: dict[str, Any] = {}
        for name in _LEGACY_ACCOUNT_KEYS:
            value = qs.value(f"{profile}/{name}")
            if name == "allow_insecure_http":
                section[name] = value is True or (isinstance(value, str) and value.lower() in ("true", "1"))
            elif isinstance(value, str):
                section[name] = value
        result[profile] = section
    return result


class AppSettings:
    """The app's settings for one profile (``remote`` or ``local``)."""

    def __init__(self, path: Path | str | None = None, profile: str = REMOTE,
                 account_path: Path | str | None = None) -> None:
        if profile not in PROFILES:
            raise ValueError(f"unknown settings profile {profile!r}")
        self.path = Path(path) if path is not None else default_settings_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.profile = profile
        self._qs = QSettings(str(self.path), QSettings.Format.IniFormat)
        self.account_path = Path(account_path) if account_path is not None else account_path_for(self.path)
        self._state = AccountState.load(self.account_path, legacy_ini=self.path,
                                        read_legacy_ini=read_legacy_account)
        if self.account_path.exists():
            self._drop_legacy_account_keys()

    def __repr__(self) -> str:
        return f"AppSettings({str(self.path)!r}, profile={self.profile!r})"

    # -- plumbing -------------------------------------------------------------

    def _drop_legacy_account_keys(self) -> None:
        changed = False
        for profile in PROFILES:
            for name in _LEGACY_ACCOUNT_KEYS:
                if self._qs.contains(f"{profile}/{name}"):
                    self._qs.remove(f"{profile}/{name}")
                    changed = True
        if changed:
            self._qs.sync()

    def _account(self) -> Account:
        """This profile's account as on disk now (the CLI may have changed it meanwhile)."""
        self._state = AccountState.load(self.account_path)
        return self._state.profiles[self.profile]

    def _set_account(self, **values: Any) -> None:
        self._state.update(self.profile, **values)

    def _key(self, name: str) -> str:
        return f"{self.profile}/{name}"

    def _set(self, name: str, value: object) -> None:
        refuse_secret(name, value)
        if value is None or value == "":
            self._qs.remove(self._key(name))
        else:
            self._qs.setValue(self._key(name), value)
        self._qs.sync()

    def _get_bool(self, name: str) -> bool:
        value = self._qs.value(self._key(name), False)
        if isinstance(value, str):
            return value.lower() in ("true", "1", "yes")
        return bool(value)

    # -- account (shared with the CLI) ----------------------------------------------

    @property
    def hub_url(self) -> str:
        """The hub last signed in to (normalised base URL), or ''."""
        return self._account().hub_url

    @hub_url.setter
    def hub_url(self, value: str) -> None:
        self._set_account(hub_url=value or "")

    @property
    def email(self) -> str:
        """The account last signed in as, or ''."""
        return self._account().email

    @email.setter
    def email(self, value: str) -> None:
        self._set_account(email=value or "")

    @property
    def allow_insecure_http(self) -> bool:
        """The user's explicit choice to allow plain http:// to ``hub_url``."""
        return self._account().allow_insecure_http

    @allow_insecure_http.setter
    def allow_insecure_http(self, value: bool) -> None:
        self._set_account(allow_insecure_http=bool(value))

    def remember_account(self, hub_url: str, email: str, allow_insecure_http: bool) -> None:
        """Hub, email and plain-http choice in one write (after a sign-in)."""
        self._set_account(hub_url=hub_url, email=email, allow_insecure_http=allow_insecure_http)

    # -- cached server URL ----------------------------------------------------------

    def cached_server_url(self, hub_url: str | None = None) -> str | None:
        """The MCP server URL last reported by the hub (works offline).

        With ``hub_url`` given, only a URL that came from that hub is returned,
        so switching hubs never copies the old hub's address.
        """
        return self._account().cached_server_url(hub_url)

    def set_cached_server_url(self, server_url: str, hub_url: str = "") -> None:
        self._set_account(server_url=server_url or "", server_url_hub=hub_url or "")

    # -- window and tray (QSettings) -------------------------------------------------

    def window_geometry(self) -> QByteArray | None:
        value = self._qs.value(self._key("window_geometry"))
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def set_window_geometry(self, geometry: QByteArray) -> None:
        self._qs.setValue(self._key("window_geometry"), geometry)
        self._qs.sync()

    @property
    def reminder_days(self) -> tuple[int, ...]:
        """Days before expiry at which the tray reminds (``reminder_days=30,7,1`` in the file)."""
        from .reminders import DEFAULT_THRESHOLDS_DAYS, parse_thresholds

        value = self._qs.value(self._key("reminder_days"), "")
        # A hand-edited ``reminder_days=60, 14, 2`` (no quotes) comes back from Qt as a list.
        if isinstance(value, list):
            value = ",".join(map(str, value))
        text = value if isinstance(value, str) else ""
        try:
            return parse_thresholds(text) if text else DEFAULT_THRESHOLDS_DAYS
        except ValueError:
            return DEFAULT_THRESHOLDS_DAYS

    @reminder_days.setter
    def reminder_days(self, days: tuple[int, ...]) -> None:
        self._set("reminder_days", ",".join(str(d) for d in days))

    @property
    def tray_hint_shown(self) -> bool:
        """Whether the "still running in the tray" message was shown once already."""
        return self._get_bool("tray_hint_shown")

    @tray_hint_shown.setter
    def tray_hint_shown(self, value: bool) -> None:
        self._set("tray_hint_shown", bool(value))
