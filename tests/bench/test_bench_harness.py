"""The benchmark harness itself: its load generator, its statistics, its smallest run."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import orjson
import pytest

from bench import floor
from bench.cpu import PhaseCpu
from bench.load import open_loop
from bench.memory import server_pid
from bench.report import REQUIRED_KEYS, percentile
from libs.common.testing.servers import local_mongo

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.unit
def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50
    assert percentile(values, 99) == 99
    assert percentile(values, 100) == 100
    assert percentile([7.0], 99) == 7


async def _slow_server(delay_s: float) -> tuple[asyncio.AbstractServer, int, list[int]]:
    """A keep-alive HTTP server answering 202 after ``delay_s``; counts requests."""
    seen: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length")
                )
                await reader.readexactly(length)
                seen.append(length)
                await asyncio.sleep(delay_s)
                body = b'{"accepted":1}'
                head = b"HTTP/1.1 202 Accepted\r\nContent-Length: %d\r\n\r\n" % len(body)
                writer.write(head + body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1], seen


@pytest.mark.unit
def test_open_loop_sends_every_scheduled_request_and_bills_server_delay() -> None:
    async def scenario() -> tuple[int, list[float], int]:
        server, port, seen = await _slow_server(0.02)
        async with server:
            result = await open_loop(
                f"http://127.0.0.1:{port}",
                "/api/customers",
                lambda k: orjson.dumps({"k": k}),
                headers={"X-Internal-Token": "t"},
                rate=200,
                duration_s=1,
            )
        return result.completed, result.latencies_ms, len(seen)

    # Its own thread and loop: a session fixture (playwright) may hold this thread's loop.
    with ThreadPoolExecutor(1) as pool:
        completed, latencies, seen = pool.submit(asyncio.run, scenario()).result()
    assert completed == seen == 200
    assert min(latencies) >= 20  # the server's delay is in every latency
    assert percentile(latencies, 50) < 500


@pytest.mark.unit
def test_phase_cpu_names_the_process_that_used_the_cores() -> None:
    spinner = subprocess.Popen(
        [sys.executable, "-c", "import time\nend = time.time() + 5\nwhile time.time() < end: pass"]
    )
    try:
        time.sleep(0.2)  # the interpreter started; from here it only spins
        phase = PhaseCpu({"spinner": spinner.pid, "sleeper": os.getpid()})
        time.sleep(0.6)
        cores = phase.cores()
        text = phase.describe()
    finally:
        spinner.kill()
        spinner.wait()
    # On a loaded machine the spinner gets what the scheduler gives it, not a whole core:
    # the bounds compare it with the sleeper and the machine, not with a fixed share.
    assert next(iter(cores)) == "spinner"  # busiest first
    assert 0.05 < cores["spinner"] <= 1.1
    assert cores["sleeper"] < min(0.2, cores["spinner"] / 3)  # this process slept
    assert text.startswith("CPU during the phase, in cores: spinner ")
    busy = phase.machine_busy_cores()
    assert 0.9 * cores["spinner"] < busy <= (os.cpu_count() or 1) + 0.1


@pytest.mark.unit
def test_cpu_per_item_puts_the_named_servers_apart_from_the_rest() -> None:
    spinner = subprocess.Popen(
        [sys.executable, "-c", "import time\nend = time.time() + 5\nwhile time.time() < end: pass"]
    )
    try:
        time.sleep(0.2)
        phase = PhaseCpu({"nx-spinner": spinner.pid})
        time.sleep(0.6)
        spun = phase.cores()["nx-spinner"] * (time.perf_counter() - phase.started)
        text = phase.per_item_ms(100, prefix="nx-")
        machine = phase.machine_busy_cores() * (time.perf_counter() - phase.started)
    finally:
        spinner.kill()
        spinner.wait()
    servers, rest = (float(part.split()[-1]) for part in text.split(": ", 1)[1].split(", "))
    # 100 items: ms per item is the CPU seconds times 10
    assert servers == pytest.approx(spun * 10, rel=0.25)
    # the rest is the whole machine's busy time less the servers' (other work on a
    # shared machine included), never the servers counted twice
    assert servers + rest == pytest.approx(machine * 10, rel=0.25)


@pytest.mark.integration
def test_database_floor_runs_every_message_on_both_servers(tmp_path: Path) -> None:
    """bench/floor.py with the product's store calls, on two nx-27017 servers of its own:
    it asserts that each side handled every message (a store call that stopped moving
    states, or moved some twice, fails it)."""
    servers = {}
    with (
        local_mongo(tmp_path / "campaign") as campaign_uri,
        local_mongo(tmp_path / "delivery") as delivery_uri,
    ):
        for name, uri in (("nx-27017-campaign", campaign_uri), ("nx-27017-delivery", delivery_uri)):
            pid = server_pid("nx-27017", int(uri.rsplit(":", 1)[1]))
            assert pid is not None
            servers[name] = pid
        figure = floor.journey_db_floor(campaign_uri, delivery_uri, 1200, servers)
    assert figure.value is not None and figure.value > 0
    assert "campaign " in figure.method and "delivery " in figure.method
    assert "nx-27017-campaign 0." in figure.method  # its CPU was seen


@pytest.mark.integration
def test_smallest_run_writes_every_required_key(tmp_path: Path) -> None:
    """The raw phase alone (own redis-server and nx-27017): exit 0, numbers written."""
    out = tmp_path / "results.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.run",
            "--smoke",
            "--only",
            "raw",
            "--records",
            "20000",
            "--output",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    results = orjson.loads(out.read_bytes())
    assert set(REQUIRED_KEYS) <= set(results)
    for key in ("redis_raw_xadd_per_s", "db_raw_upsert_per_s", "db_raw_comm_rows_per_s"):
        assert results[key] > 0, key
    assert results["machine"]["nproc"] >= 1
    assert results["machine"]["db_server"]
    assert "redis_raw_xadd_per_s" in proc.stdout  # the printed table
