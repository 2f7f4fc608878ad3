"""phhub-keys: manage Performance Hub MCP keys from the desktop."""

__version__ = "0.1.0"
APP_NAME = "phhub-keys"
