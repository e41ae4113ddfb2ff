"""Hold the cyclic garbage collector off while a request builds and drops its records.

A 1,000-record batch allocates a few thousand dicts and lists that all die together when
the request is done with them. With the collector on, its young collections (one every
700 allocations) find them alive, scan them and promote them; the promotions then set
off full collections, which scan every object the process holds: a cost that grows with
the process's heap (the ingest API's read model), paid several times per request.
Paused, the records are freed by reference counting before the collector runs again,
and it never sees them.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """No automatic collection inside the block; the collector's previous state after it.

    For synchronous code only (no ``await`` inside): the pause is process-wide. Drop the
    block's large temporaries before it ends, or the next collection meets them.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
