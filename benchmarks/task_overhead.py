"""Why tasks work on batches: the cost of one Prefect task run, measured.

    python benchmarks/task_overhead.py [--tasks 200]

Runs a flow that submits N trivial tasks, then a flow that runs one task looping N times, and
prints the seconds of each and the overhead per task run.
"""
from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

from prefect import flow, task  # noqa: E402
from prefect.cache_policies import NO_CACHE  # noqa: E402


def work(i: int) -> int:
    return i * i


@task(cache_policy=NO_CACHE)
def one(i: int) -> int:
    return work(i)


@task(cache_policy=NO_CACHE)
def many(n: int) -> int:
    return sum(work(i) for i in range(n))


@flow
def per_item(n: int) -> int:
    return sum(f.result() for f in [one.submit(i) for i in range(n)])


@flow
def per_batch(n: int) -> int:
    return many(n)


def server_cpu_seconds() -> float:
    """CPU seconds used so far by this process's children (Prefect's ephemeral server)."""
    import psutil

    total = 0.0
    for child in psutil.Process().children(recursive=True):
        try:
            t = child.cpu_times()
            total += t.user + t.system
        except psutil.Error:
            pass
    return total


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", type=int, default=200)
    n = ap.parse_args().tasks
    per_batch(1)  # start the ephemeral server first: not part of either figure
    c0, t0 = server_cpu_seconds(), time.perf_counter()
    per_batch(n)
    c1, t1 = server_cpu_seconds(), time.perf_counter()
    per_item(n)
    time.sleep(5)  # let the server record the task runs' events
    c2, t2 = server_cpu_seconds(), time.perf_counter() - 5
    batch_s, item_s = t1 - t0, t2 - t1
    print(f"one task over {n} items: {batch_s:.2f}s flow, {c1 - c0:.2f}s server CPU; "
          f"{n} task runs: {item_s:.2f}s flow, {c2 - c1:.2f}s server CPU; "
          f"per task run: {(item_s - batch_s) / n * 1000:.1f} ms flow + {(c2 - c1 - (c1 - c0)) / n * 1000:.1f} ms server CPU")


if __name__ == "__main__":
    main()
