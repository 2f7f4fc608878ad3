"""Test-wide setup: offscreen Qt, a test keyring, no real user dirs, shared fixtures.

Fixture modules live beside this file (fixtures_*.py) and are imported here so
every test module sees them.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# Qt must never try to reach a display, and the app must never touch the
# machine's real keyring or the user's real config/data dirs.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
_TEST_HOME = Path(os.environ.get("PHHUB_TEST_HOME", "/tmp/phhub-keys-tests-home"))
os.environ["XDG_CONFIG_HOME"] = str(_TEST_HOME / "config")
os.environ["XDG_DATA_HOME"] = str(_TEST_HOME / "data")
os.environ["XDG_CACHE_HOME"] = str(_TEST_HOME / "cache")
os.environ["XDG_STATE_HOME"] = str(_TEST_HOME / "state")

sys.path.insert(0, str(Path(__file__).parent))

from fixtures_app import *  # noqa: E402, F403
from fixtures_gui import *  # noqa: E402, F403
from fixtures_hub import *  # noqa: E402, F403
