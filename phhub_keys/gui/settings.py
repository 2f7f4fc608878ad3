"""Non-secret app settings (hub URL, email, cached server URL, window state) in QSettings.

Why a wrapper: every value passes one guard that refuses anything shaped like
an MCP key or a session token, so a secret can never end up in the settings
file by mistake. Secrets belong in the OS keyring (api.credentials) or in
memory only.

Settings are kept per *profile*: ``remote`` (a real hub) and ``local`` (the
embedded hub of ``--local``), so trying the local hub never overwrites the
account and cached server URL of the real one.
"""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

REMOTE = "remote"
LOCAL = "local"
_SECRET_SHAPE = re.compile(r"ph[ks]_[0-9A-Za-z_-]{8,}")


def default_settings_path() -> Path:
    """``<user config dir>/phhub-keys/settings.ini`` (platformdirs)."""
    import platformdirs

    return Path(platformdirs.user_config_dir("phhub-keys", appauthor=False)) / "settings.ini"


class SecretInSettings(ValueError):
    """Raised instead of writing something that looks like a key or token to disk."""


def _refuse_secret(name: str, value: object) -> None:
    if isinstance(value, str) and _SECRET_SHAPE.search(value):
        raise SecretInSettings(f"refusing to store a secret-shaped value in the setting {name!r}")


class AppSettings:
    """The app's settings file for one profile (``remote`` or ``local``)."""

    def __init__(self, path: Path | str | None = None, profile: str = REMOTE) -> None:
        if profile not in (REMOTE, LOCAL):
            raise ValueError(f"unknown settings profile {profile!r}")
        self.path = Path(path) if path is not None else default_settings_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.profile = profile
        self._qs = QSettings(str(self.path), QSettings.Format.IniFormat)

    def __repr__(self) -> str:
        return f"AppSettings({str(self.path)!r}, profile={self.profile!r})"

    # -- plumbing -------------------------------------------------------------

    def _key(self, name: str) -> str:
        return f"{self.profile}/{name}"

    def _get_str(self, name: str) -> str:
        value = self._qs.value(self._key(name), "")
        return value if isinstance(value, str) else ""

    def _set(self, name: str, value: object) -> None:
        _refuse_secret(name, value)
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

    # -- account ----------------------------------------------------------------

    @property
    def hub_url(self) -> str:
        """The hub last signed in to (normalised base URL), or ''."""
        return self._get_str("hub_url")

    @hub_url.setter
    def hub_url(self, value: str) -> None:
        self._set("hub_url", value)

    @property
    def email(self) -> str:
        """The account last signed in as, or ''."""
        return self._get_str("email")

    @email.setter
    def email(self, value: str) -> None:
        self._set("email", value)

    @property
    def allow_insecure_http(self) -> bool:
        """The user's explicit choice to allow plain http:// to ``hub_url``."""
        return self._get_bool("allow_insecure_http")

    @allow_insecure_http.setter
    def allow_insecure_http(self, value: bool) -> None:
        self._set("allow_insecure_http", bool(value))

    # -- cached server URL ----------------------------------------------------------

    def cached_server_url(self, hub_url: str | None = None) -> str | None:
        """The MCP server URL last reported by the hub (works offline).

        With ``hub_url`` given, only a URL that came from that hub is returned,
        so switching hubs never copies the old hub's address.
        """
        url = self._get_str("server_url")
        if not url:
            return None
        if hub_url is not None and self._get_str("server_url_hub") not in ("", hub_url):
            return None
        return url

    def set_cached_server_url(self, server_url: str, hub_url: str = "") -> None:
        self._set("server_url", server_url)
        self._set("server_url_hub", hub_url)

    # -- window and tray -------------------------------------------------------------

    def window_geometry(self) -> QByteArray | None:
        value = self._qs.value(self._key("window_geometry"))
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def set_window_geometry(self, geometry: QByteArray) -> None:
        self._qs.setValue(self._key("window_geometry"), geometry)
        self._qs.sync()

    @property
    def tray_hint_shown(self) -> bool:
        """Whether the "still running in the tray" message was shown once already."""
        return self._get_bool("tray_hint_shown")

    @tray_hint_shown.setter
    def tray_hint_shown(self, value: bool) -> None:
        self._set("tray_hint_shown", bool(value))
