"""phhub-keys: manage Performance Hub MCP keys from the desktop."""

__version__ = "0.1.0"
from .core.paths import APP_NAME  # noqa: F401  (one home: core.paths)
