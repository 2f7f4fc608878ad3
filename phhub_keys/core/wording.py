"""Small wording rules shared by the window, the tray and the CLI (no Qt).

Why: "Saved 1 key(s)" reads like a form; one helper gives "1 key" / "2 keys"
everywhere instead of each message guessing.
"""

from __future__ import annotations

import re
import unicodedata

_NUMBER_RUN = re.compile(r"(\d+)")


def plural(count: int, word: str, many: str | None = None) -> str:
    """``"1 key"``, ``"2 keys"``, ``"1,024 rows"`` (``many`` for irregular plurals)."""
    return f"{count:,} {word if count == 1 else (many or word + 's')}"


def days_text(days: int) -> str:
    """``"1 day"``, ``"30 days"``: lifetimes, expiry and last-use ages (no thousands separator,
    unlike ``plural``: "36500 days" is how the hub's own policy messages write the cap)."""
    return "1 day" if days == 1 else f"{days} days"


def natural_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key that orders numbers by value: "machine 13" before "machine 104".

    Case- and accent-insensitive ("Été" sorts with "ete", not after "z"); digit
    runs compare as numbers, everything else as text.
    """
    folded = text.casefold()
    if not folded.isascii():
        folded = "".join(c for c in unicodedata.normalize("NFKD", folded) if not unicodedata.combining(c))
    parts = _NUMBER_RUN.split(folded)
    return tuple((1, int(part)) if index % 2 else (0, part) for index, part in enumerate(parts) if part)
