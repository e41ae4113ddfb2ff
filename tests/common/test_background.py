"""The background loop: passes on an interval, back to back while busy, past failures."""

from __future__ import annotations

import threading

import pytest

from libs.common.background import run_every

pytestmark = pytest.mark.unit


def test_a_busy_pass_is_followed_at_once_and_a_failure_does_not_end_the_loop() -> None:
    stop = threading.Event()
    results: list[object] = [3, 2, RuntimeError("db down"), 0, 1]
    calls: list[object] = []

    def work() -> object:
        result = results[len(calls)]
        calls.append(result)
        if len(calls) == len(results):
            stop.set()
        if isinstance(result, Exception):
            raise result
        return result

    waits: list[float] = []
    real_wait = stop.wait
    stop.wait = lambda timeout=None: waits.append(timeout) or real_wait(0)  # type: ignore[method-assign, func-returns-value]
    run_every(work, stop, 5.0, failure_event="test.failed", again_while_busy=True)
    assert calls == results
    # no wait after a busy pass (3, 2, 1); one after the failure and after the idle pass
    assert waits == [5.0, 5.0]


def test_without_again_while_busy_every_pass_waits_the_interval() -> None:
    stop = threading.Event()
    passes: list[int] = []

    def work() -> int:
        passes.append(1)
        if len(passes) == 3:
            stop.set()
        return 7

    waits: list[float] = []
    real_wait = stop.wait
    stop.wait = lambda timeout=None: waits.append(timeout) or real_wait(0)  # type: ignore[method-assign, func-returns-value]
    run_every(work, stop, 0.5, failure_event="test.failed")
    assert len(passes) == 3 and waits == [0.5, 0.5, 0.5]
