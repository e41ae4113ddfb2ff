"""`python -m bench.run --full|--smoke`: the benchmark suite (see docs/performance.md).

Starts its own redis-server and nx-27017 under bench/tmp/ and its own stack of
services on free ports, measures every figure, prints a table (figure, value, target,
method) and writes the results file with the machine description. Benchmarks never
fail on a time: the exit code is non-zero only when the harness could not measure.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis

from bench import (
    campaign,
    cluster,
    floor,
    ingestion,
    journeys,
    machine,
    memory,
    pause,
    preview,
    raw,
)
from bench.infra import CAMPAIGN_DB_DIR, TMP, Infra, infrastructure, stack
from bench.report import RESULTS, Figure, print_table, write_results
from libs.common.logging import configure_logging, get_logger
from libs.common.testing.servers import free_port, local_mongo

log = get_logger("bench")


@dataclass(frozen=True)
class Sizes:
    xadd_records: int
    upsert_records: int
    comm_messages: int
    accept_records: int
    accept_gateway_records: int
    e2e_records: int
    post_rate: float
    post_seconds: float
    preview_customers: int
    preview_queries: int
    campaign_size: int
    single_campaign_size: int
    journey_rate: float = 500
    journey_seconds: float = 30
    journey_waiting: int = 1_000_000
    journey_floor: int = 200_000


SMOKE = Sizes(
    xadd_records=100_000,
    upsert_records=5_000,
    comm_messages=5_000,
    accept_records=20_000,
    accept_gateway_records=10_000,
    e2e_records=5_000,
    post_rate=1000,
    post_seconds=3,
    preview_customers=20_000,
    preview_queries=200,
    campaign_size=5_000,
    single_campaign_size=1_000,
    journey_rate=100,
    journey_seconds=5,
    journey_waiting=5_000,
    journey_floor=5_000,
)
FULL = Sizes(
    xadd_records=1_000_000,
    upsert_records=100_000,
    comm_messages=1_000_000,  # as many rows as the campaign writes, into as large a table
    accept_records=1_000_000,
    accept_gateway_records=200_000,
    e2e_records=100_000,
    post_rate=1000,
    post_seconds=10,
    preview_customers=1_000_000,
    preview_queries=300,
    campaign_size=1_000_000,
    single_campaign_size=100_000,
)
PHASES = ("raw", "ingest", "audience", "cluster", "journeys")


class Run:
    """Collects figures; a phase that raises is reported and the run goes on."""

    def __init__(self) -> None:
        self.figures: list[Figure] = []
        self.broken: list[str] = []

    def add(self, *figures: Figure) -> None:
        for figure in figures:
            log.info("bench.figure", key=figure.key, value=figure.value, unit=figure.unit)
            self.figures.append(figure)

    def phase(self, name: str, fn: Callable[[], None]) -> None:
        log.info("bench.phase_started", phase=name)
        started = time.perf_counter()
        try:
            fn()
        except Exception as exc:
            self.broken.append(f"{name}: {exc!r}")
            log.error("bench.phase_failed", phase=name, error=repr(exc))
            sys.stderr.write(traceback.format_exc())
        log.info("bench.phase_done", phase=name, seconds=round(time.perf_counter() - started, 1))

    def value(self, key: str) -> float | None:
        for figure in self.figures:
            if figure.key == key:
                return figure.value
        return None

    def ratio(self, key: str, num: str, den: str, target: str = "") -> None:
        a, b = self.value(num), self.value(den)
        if a is not None and b:
            self.add(Figure(key, a / b, "ratio", f"{num} / {den}, same run", target))


def raw_phase(run: Run, infra: Infra, sizes: Sizes) -> None:
    run.add(raw.redis_raw_xadd(infra.redis_url, sizes.xadd_records))
    run.add(raw.db_raw_upsert(infra.mongo_uri, "bench_raw_upsert", sizes.upsert_records))
    # on the server delivery writes its rows to
    run.add(raw.db_raw_comm_rows(infra.delivery_mongo_uri, "bench_raw_comm", sizes.comm_messages))


def ingest_phase(run: Run, infra: Infra, sizes: Sizes) -> None:
    with stack(infra, "bench_ing_") as running:
        deadline = 120 + sizes.e2e_records / 200
        run.phase(
            "ingest_e2e",
            lambda: run.add(
                ingestion.end_to_end(running, infra.mongo_uri, sizes.e2e_records, deadline)
            ),
        )
        run.phase(
            "single_post",
            lambda: run.add(
                *ingestion.single_post_latency(
                    running, sizes.post_rate, sizes.post_seconds, server_pids(infra)
                )
            ),
        )
        # The same with the ingest path alone: the AI worker also consumes `ingest` and
        # writes its own read model to the same single-process database server.
        running.kill("ai-worker")
        run.phase(
            "ingest_e2e_without_ai",
            lambda: run.add(
                ingestion.end_to_end(
                    running,
                    infra.mongo_uri,
                    sizes.e2e_records,
                    deadline,
                    prefix="i",
                    key="ingest_e2e_without_ai_records_per_s",
                    setup="ai-worker stopped (the ingest path alone on the database): ",
                )
            ),
        )
        # Acceptance alone: the ingest stream's consumers stop, so the API has the cores.
        for name in ingestion.INGEST_CONSUMERS:
            running.kill(name)
        run.phase(
            "ingest_accept",
            lambda: run.add(
                *ingestion.accept(running, infra.redis_url, sizes.accept_records, via_gateway=False)
            ),
        )
        # The same with Redis fsyncing before each reply: what a 202 costs when it must
        # survive a crash of Redis or of its machine (docs/operations.md).
        run.phase(
            "ingest_accept_durable",
            lambda: run.add(
                *ingestion.accept(
                    running, infra.redis_url, sizes.accept_records, via_gateway=False, durable=True
                )
            ),
        )
        run.phase(
            "ingest_accept_gateway",
            lambda: run.add(
                *ingestion.accept(
                    running, infra.redis_url, sizes.accept_gateway_records, via_gateway=True
                )
            ),
        )


def audience_phase(run: Run, infra: Infra, sizes: Sizes) -> None:
    # redis-server and nx-27017 served the earlier phases too (a million-record stream,
    # their scratch databases): their peak should be this phase's, at N customers
    for pid in server_pids(infra).values():
        memory.reset_peak(pid)
    with stack(infra, "bench_aud_") as running:
        db_name = running.env["DB_PREFIX"] + "ingest"
        n = sizes.preview_customers
        run.add(preview.load_customers(infra.mongo_uri, db_name, n))
        run.phase(
            "preview",
            lambda: run.add(
                *preview.measure(running, n, sizes.preview_queries, warm_timeout_s=600)
            ),
        )
        # the customers were written straight into the database: the segment worker's
        # own audience model (the resolver's) never heard of them. Restarted, it
        # restores the snapshot the ingest API just wrote (as after a deploy).
        running.kill("segment-worker")
        running.start("segment-worker")
        time.sleep(10)  # the restore takes seconds; until then the resolver walks the db
        size = min(sizes.campaign_size, n)
        run.phase(
            "campaign",
            lambda: run.add(
                *campaign.throughput(
                    running, size, deadline_s=180 + size / 50, servers=server_pids(infra)
                )
            ),
        )
        run.phase("campaign_pause", lambda: run.add(pause.settle(running, n)))
        single = min(sizes.single_campaign_size, n)
        run.phase(
            "campaign_single",
            lambda: run.add(
                campaign.single_message_requests(running, single, deadline_s=120 + single / 50)
            ),
        )
        run.phase("memory", lambda: run.add(*memory_figures(running, infra, n)))


def journeys_phase(run: Run, infra: Infra, sizes: Sizes) -> None:
    # The campaign service's collections on a server of their own (CAMPAIGN_MONGODB_URI),
    # as delivery's are: a journey's state writes would otherwise queue behind the
    # ingest and AI workers' on one interpreter (docs/performance.md, design choice 4).
    port = free_port()
    with local_mongo(infra.workdir / CAMPAIGN_DB_DIR, port) as campaign_uri:
        run.phase("journey_db_floor", lambda: run.add(db_floor(infra, campaign_uri, port, sizes)))
        with stack(infra, "bench_jrn_", {"CAMPAIGN_MONGODB_URI": campaign_uri}) as running:
            journeys_on_stack(run, infra, sizes, running, campaign_uri, port)


def db_floor(infra: Infra, campaign_uri: str, port: int, sizes: Sizes) -> Figure:
    """The timer messages' database work alone (bench/floor.py), before the stack is up."""
    servers = {
        **named_server("nx-27017-campaign", port),
        **named_server("nx-27017-delivery", infra.delivery_mongo_port),
    }
    return floor.journey_db_floor(
        campaign_uri, infra.delivery_mongo_uri, sizes.journey_floor, servers
    )


def journeys_on_stack(
    run: Run, infra: Infra, sizes: Sizes, running: Any, campaign_uri: str, port: int
) -> None:
    servers = {**server_pids(infra), **named_server("nx-27017-campaign", port)}
    run.phase(
        "journey_trigger",
        lambda: run.add(
            journeys.trigger_to_send(
                running,
                infra.delivery_mongo_uri,
                sizes.journey_rate,
                sizes.journey_seconds,
                deadline_s=120 + sizes.journey_seconds,
                servers=servers,
            )
        ),
    )
    n = sizes.journey_waiting
    run.phase(
        "journey_timers",
        lambda: run.add(
            journeys.timers_due(
                running,
                campaign_uri,
                infra.delivery_mongo_uri,
                n,
                deadline_s=120 + n / 200,
                servers=servers,
            )
        ),
    )


def named_server(name: str, port: int) -> dict[str, int]:
    pid = memory.server_pid("nx-27017", port)
    return {} if pid is None else {name: pid}


def server_pids(infra: Infra) -> dict[str, int]:
    """The harness's redis-server and database servers, by the names the figures use."""
    ports = {"redis-server": infra.redis_port, **infra.database_servers()}
    pids = {}
    for name, port in ports.items():
        pid = memory.server_pid("redis-server" if name == "redis-server" else "nx-27017", port)
        if pid is not None:
            pids[name] = pid
    return pids


def memory_figures(running: object, infra: Infra, customers: int) -> list[Figure]:
    servers = server_pids(infra)
    pids = {name: proc.pid for name, proc in running.procs.items()}  # type: ignore[attr-defined]
    peaks = memory.stack_peaks({**pids, **servers})
    total = sum(peaks.values())
    services = sum(v for k, v in peaks.items() if k not in servers)
    detail = ", ".join(f"{k} {v:.0f}" for k, v in sorted(peaks.items(), key=lambda kv: -kv[1]))
    return [
        Figure(
            "stack_peak_rss_mb",
            total,
            "MB",
            f"sum of VmHWM (/proc) of every stack process at {customers:,} customers: {detail}",
            "<= 2,048",
        ),
        Figure(
            "services_peak_rss_mb",
            services,
            "MB",
            "the same without redis-server and the database servers (the Python processes)",
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--full", action="store_true", help="the sizes of the issue (long)")
    mode.add_argument("--smoke", action="store_true", help="small sizes, about a minute")
    parser.add_argument("--campaign-size", type=int, help="recipients of the big campaign")
    parser.add_argument("--single-campaign-size", type=int, help="recipients, 1 msg/request")
    parser.add_argument("--preview-customers", type=int, help="customers loaded for preview")
    parser.add_argument("--records", type=int, help="records for acceptance and raw XADD")
    parser.add_argument("--journey-waiting", type=int, help="customers whose timers fall due")
    parser.add_argument("--journey-floor", type=int, help="timer messages, database work alone")
    parser.add_argument("--only", default=",".join(PHASES), help=f"phases: {','.join(PHASES)}")
    parser.add_argument("--output", type=Path, help="results file")
    args = parser.parse_args(argv)
    configure_logging("bench", "INFO")
    # Stop cleanly (servers and stack torn down) on SIGTERM, and on SIGINT even when
    # started in the background, where a shell ignores SIGINT.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGINT, signal.default_int_handler)

    sizes = FULL if args.full else SMOKE
    overrides = {
        "campaign_size": args.campaign_size,
        "comm_messages": args.campaign_size,  # the raw rows ceiling at the campaign's size
        "single_campaign_size": args.single_campaign_size,
        "preview_customers": args.preview_customers,
        "accept_records": args.records,
        "xadd_records": args.records,
        "journey_waiting": args.journey_waiting,
        "journey_floor": args.journey_floor,
    }
    sizes = Sizes(**{**sizes.__dict__, **{k: v for k, v in overrides.items() if v}})
    output = args.output or (RESULTS if args.full else TMP / "results-smoke.json")
    phases = [p.strip() for p in args.only.split(",") if p.strip()]
    label = "full" if args.full else "smoke"

    run = Run()
    started = time.perf_counter()
    with infrastructure() as infra:
        described = machine.describe(infra.redis_url, infra.mongo_uri)
        if "raw" in phases:
            run.phase("raw", lambda: raw_phase(run, infra, sizes))
        if "ingest" in phases:
            run.phase("ingest", lambda: ingest_phase(run, infra, sizes))
            scratch = redis.Redis.from_url(infra.redis_url)
            scratch.flushdb()
            scratch.memory_purge()  # give the freed pages back to the system
        if "audience" in phases:
            run.phase("audience", lambda: audience_phase(run, infra, sizes))
        if "cluster" in phases:  # the campaign again, on a Redis Cluster (bench/cluster.py)
            size = min(sizes.campaign_size, sizes.preview_customers)
            run.phase(
                "cluster",
                lambda: run.add(
                    *cluster.throughput(
                        infra, size, deadline_s=180 + size / 50, servers=server_pids(infra)
                    )
                ),
            )
        if "journeys" in phases:
            run.phase("journeys", lambda: journeys_phase(run, infra, sizes))
    run.ratio(
        "journey_timers_vs_raw_comm_rows",
        "journey_timers_due_per_s",
        "db_raw_comm_rows_per_s",
        ">= 0.8",
    )
    run.ratio(
        "journey_db_floor_vs_raw_comm_rows", "journey_db_floor_per_s", "db_raw_comm_rows_per_s"
    )
    run.ratio("ingest_accept_vs_raw_xadd", "ingest_accept_records_per_s", "redis_raw_xadd_per_s")
    run.ratio(
        "ingest_accept_durable_vs_default",
        "ingest_accept_durable_records_per_s",
        "ingest_accept_records_per_s",
    )
    run.ratio(
        "ingest_e2e_vs_raw_upsert", "ingest_e2e_records_per_s", "db_raw_upsert_per_s", ">= 0.8"
    )
    run.ratio(
        "ingest_e2e_without_ai_vs_raw_upsert",
        "ingest_e2e_without_ai_records_per_s",
        "db_raw_upsert_per_s",
    )
    run.ratio(
        "campaign_vs_raw_comm_rows",
        "campaign_1m_messages_per_s",
        "db_raw_comm_rows_per_s",
        ">= 0.8 (or 10k/s)",
    )
    run.ratio(
        "cluster_vs_single_campaign",
        cluster.KEY,
        "campaign_1m_messages_per_s",
        ">= 0.8",
    )
    described["mode"] = label
    described["sizes"] = sizes.__dict__
    described["harness_seconds"] = round(time.perf_counter() - started, 1)
    described["loadavg_at_end"] = list(os.getloadavg())
    output.parent.mkdir(parents=True, exist_ok=True)
    write_results(run.figures, described, label, output)
    print_table(run.figures)
    sys.stdout.write(
        f"\n{label} run on {described['nproc']} CPUs ({described['cpu_model']}), "
        f"{described['memory_mb']:,} MB, Python {described['python']}, "
        f"{described['db_server']}, {described['redis_server']}; "
        f"{described['harness_seconds']} s; results in {output}\n"
    )
    if run.broken:
        sys.stdout.write("\nphases that could not be measured:\n")
        for line in run.broken:
            sys.stdout.write(f"  {line}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
