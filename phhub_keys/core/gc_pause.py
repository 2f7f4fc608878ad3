"""Pausing the interpreter's cyclic garbage collector around a big CSV read + review.

The pause is interpreter-wide, so it is the decision of the code that owns the thread and the
process (the review window's loader, ``phhub-keys review``, a benchmark), not of the parser:
``core.csvio`` and ``core.review`` stay free of it.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic GC while building many long-lived objects that form no cycles.

    Every collection walks all young objects: while 100,000 rows are built that
    is half the parse time. And once built, the rows (tuples holding a
    KeyStatus stay tracked) would be walked again by the next young collection
    and the next middle one, ~0.1 s each, though they live as long as the file
    is open. So on the way out everything tracked is moved straight to the old
    generation (``gc.freeze`` + ``gc.unfreeze``: two list splices, no walk),
    where only the rare full collections look at it. Nothing is lost: a young
    cycle promoted with them is freed by the next full collection, and
    reference counting frees the rows whenever the document is dropped.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.freeze()
            gc.unfreeze()
            gc.enable()
