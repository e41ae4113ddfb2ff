"""The collector pause around a request's allocation burst."""

from __future__ import annotations

import gc

import pytest

from libs.common.gc_pause import cyclic_gc_paused

pytestmark = pytest.mark.unit


def test_no_collection_runs_inside_and_the_collector_is_back_after() -> None:
    assert gc.isenabled()
    collections_before = gc.get_stats()[0]["collections"]
    with cyclic_gc_paused():
        assert not gc.isenabled()
        keep = [{"i": i, "tags": [str(i)]} for i in range(50_000)]  # 100k tracked objects
        assert gc.get_stats()[0]["collections"] == collections_before
    assert gc.isenabled() and len(keep) == 50_000


def test_an_error_inside_still_restores_the_collector() -> None:
    with pytest.raises(RuntimeError), cyclic_gc_paused():
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_a_collector_switched_off_by_the_caller_stays_off() -> None:
    gc.disable()
    try:
        with cyclic_gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
