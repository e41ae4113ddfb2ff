"""The one loop of a worker's background thread (scheduler, timers, releases, sweeps)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from libs.common.logging import get_logger

log = get_logger(__name__)


def run_every(
    work: Callable[[], object],
    stop: threading.Event,
    interval_s: float,
    *,
    failure_event: str,
    again_while_busy: bool = False,
) -> None:
    """Call ``work`` until ``stop``, waiting ``interval_s`` after each pass. With
    ``again_while_busy`` a pass whose result is truthy (it found work) is followed by
    the next at once. An exception is logged as ``failure_event`` and the loop goes on:
    it outlives a database or Redis hiccup."""
    while not stop.is_set():
        try:
            busy = work()
        except Exception:  # noqa: BLE001 - see the docstring
            log.exception(failure_event)
            busy = None
        if not (again_while_busy and busy):
            stop.wait(interval_s)
