"""Where phhub-keys keeps its files: the app name and every platformdirs call, in one place.

Why one module: the app, the CLI and the hub each used to ask platformdirs on
their own, and one of them left out ``appauthor=False`` (on Windows that puts
the data one folder deeper). Everything that needs a per-user folder asks here.
Qt-free, so the CLI and the hub can use it without importing Qt.
"""

from __future__ import annotations

from pathlib import Path

APP_NAME = "phhub-keys"
ACCOUNT_FILE = "account.json"
SETTINGS_FILE = "settings.ini"
LEGACY_CLI_FILE = "cli.json"  # the CLI's own state before account.json (migrated once)


def config_dir() -> Path:
    """``<user config dir>/phhub-keys`` (e.g. ``~/.config/phhub-keys``)."""
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def data_dir() -> Path:
    """``<user data dir>/phhub-keys`` (databases of the local and reference hubs)."""
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def cache_dir() -> Path:
    """``<user cache dir>/phhub-keys`` (what can be recomputed, e.g. the Qt library check)."""
    import platformdirs

    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def state_dir() -> Path:
    """``<user state dir>/phhub-keys`` (the journal of in-flight private writes)."""
    import platformdirs

    return Path(platformdirs.user_state_dir(APP_NAME, appauthor=False))


def runtime_dir() -> Path:
    """``<user runtime dir>/phhub-keys`` (the single-instance socket; gone at logout)."""
    import platformdirs

    return Path(platformdirs.user_runtime_dir(APP_NAME, appauthor=False))


def account_state_path() -> Path:
    """The one non-secret account state file shared by the window and the CLI."""
    return config_dir() / ACCOUNT_FILE


def settings_path() -> Path:
    """The window's QSettings file (geometry and view preferences only)."""
    return config_dir() / SETTINGS_FILE


def hub_db_path() -> Path:
    """Default database of ``phhub-keys hub serve``."""
    return data_dir() / "hub.db"


def local_hub_db_path() -> Path:
    """Database of the app's embedded hub (``--local``)."""
    return data_dir() / "local-hub.sqlite3"
