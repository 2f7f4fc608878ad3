"""The names of things the user meets in more than one place (window, tray, README), written once.

Why: the same command was "Set Up an AI Client…" in the tray, "Set up a client…" in
the window and "Set up client…" on the new key's panel; one name per thing.
"""

from __future__ import annotations

SET_UP_CLIENT = "Set up a client…"
REVIEW_CSV = "Review CSV files…"
OPENAI_CLIENT = "OpenAI Agent Builder"  # the list name of the "openai" setup (Responses API / Agent Builder)
