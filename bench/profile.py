"""Profile the ingest API under one benchmark load: `python -m bench.profile single|batch`.

Starts the harness's own servers and stack, runs py-spy (``pip install py-spy``) against
the ingest API process while the load runs, and prints the functions holding the most
samples, inclusive and self. Collapsed stacks are kept in bench/tmp/ for a flame graph.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from bench import ingestion
from bench.infra import TMP, infrastructure, stack
from bench.load import post_batches


def _top(collapsed: Path, n: int) -> str:
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack_text, _, count_text = line.rpartition(" ")
        if not stack_text:
            continue
        count = int(count_text)
        total += count
        frames = stack_text.split(";")
        for frame in set(frames):
            inclusive[frame] += count
        own[frames[-1]] += count
    out = [f"{total} samples", "", "inclusive:"]
    out += [f"  {100 * c / total:5.1f}%  {f}" for f, c in inclusive.most_common(n)]
    out += ["", "self:"]
    out += [f"  {100 * c / total:5.1f}%  {f}" for f, c in own.most_common(n)]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile")
    parser.add_argument("load", choices=("single", "batch"))
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rate", type=float, default=1000)
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args(argv)
    spy = shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))
    if spy is None:
        sys.stderr.write("py-spy is not installed: pip install py-spy\n")
        return 2
    out = TMP / f"profile-{args.load}-{time.strftime('%H%M%S')}.txt"
    with infrastructure() as infra, stack(infra, "bench_prof_") as running:
        pid = running.procs["ingest-api"].pid
        duration = int(args.seconds) + 3
        profiler = subprocess.Popen(
            [
                spy,
                "record",
                "--pid",
                str(pid),
                "--format",
                "raw",
                "--rate",
                "200",
                "--duration",
                str(duration),
                "--output",
                str(out),
                "--nonblocking",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(1)
        if args.load == "single":
            ingestion.single_post_latency(running, args.rate, args.seconds)
        else:
            bodies = ingestion.batch_bodies(int(20_000 * args.seconds), "p")
            asyncio.run(
                post_batches(
                    running.layout.url("ingest"),
                    "/api/customers/batch",
                    bodies,
                    headers=ingestion.internal_headers(running),
                    deadline_s=args.seconds,
                )
            )
        profiler.wait(timeout=duration + 30)
    sys.stdout.write(_top(out, args.top) + f"\n\ncollapsed stacks: {out}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
