"""Run the test suite on a loaded machine: busy-loop processes keep every core busy meanwhile.

CI runs on shared machines; this shows the suite passes there. Each run starts one busy-loop
process per core (by default), runs the suite (`make test` by default), stops the busy loops and
prints the runtime, the pytest counts and how busy the loops kept the cores:

    .venv/bin/python tools/busy_suite.py                   # 3 runs of `make test`, 1 busy loop per core
    .venv/bin/python tools/busy_suite.py --runs 1 --burners 4 -- .venv/bin/python -m pytest -q tests/test_cli.py

The busy loops are bounded: they end when the run ends (SIGKILL by pid), when this script dies
(each one watches its parent) and after --max-seconds at the latest. Logs of each run go to
--log-dir. Exit code 0 only when every run passed.
"""
from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# One busy loop: spins until its parent is gone or its time is up (checked every ~50 ms of spinning).
BURNER = r"""
import os, sys, time
parent, end = int(sys.argv[1]), time.monotonic() + float(sys.argv[2])
while os.getppid() == parent and time.monotonic() < end:
    for _ in range(1_000_000):
        pass
"""


def start_burners(n: int, max_seconds: float) -> list[subprocess.Popen]:
    return [
        subprocess.Popen([sys.executable, "-c", BURNER, str(os.getpid()), str(max_seconds)],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(n)
    ]


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a live process (Linux /proc), 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
    for p in procs:
        p.wait(timeout=30)


def counts(output: str) -> str:
    """pytest's final counts ("612 passed, 3 skipped in 401.2s"), or the last line."""
    lines = [ln for ln in output.splitlines() if re.search(r"\d+ (passed|failed|error)", ln)]
    if not lines:
        tail = output.strip().splitlines()
        return tail[-1] if tail else "(no output)"
    return re.sub(r"^=+ | =+$", "", lines[-1].strip())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3, help="runs in a row (default 3)")
    ap.add_argument("--burners", type=int, default=os.cpu_count() or 1,
                    help="busy-loop processes (default: one per core)")
    ap.add_argument("--max-seconds", type=float, default=3600, help="a busy loop's longest life")
    ap.add_argument("--log-dir", type=Path, default=Path("/tmp/bankmetrics-busy-suite"))
    ap.add_argument("cmd", nargs="*", help="the suite command (default: make test)")
    args = ap.parse_args(argv)
    cmd = args.cmd or ["make", "test"]
    args.log_dir.mkdir(parents=True, exist_ok=True)

    print(f"{args.runs} run(s) of `{' '.join(cmd)}` with {args.burners} busy loop(s) on {os.cpu_count()} cores; "
          f"logs in {args.log_dir}", flush=True)
    results = []
    for run in range(1, args.runs + 1):
        log = args.log_dir / f"run-{run}.log"
        burners = start_burners(args.burners, args.max_seconds)
        t0 = time.monotonic()
        load0 = os.getloadavg()[0]
        try:
            with open(log, "w", encoding="utf-8") as out:
                code = subprocess.run(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL).returncode
            secs = time.monotonic() - t0
            burned = sum(cpu_seconds(p.pid) for p in burners)
            alive = sum(p.poll() is None for p in burners)
        finally:
            stop(burners)
        text = log.read_text(encoding="utf-8", errors="replace")
        results.append((run, code, secs, counts(text), burned / secs if secs else 0.0, alive, load0,
                        os.getloadavg()[0]))
        print(f"run {run}: {'PASSED' if code == 0 else f'FAILED (exit {code})'} in {secs:.0f}s "
              f"({secs / 60:.1f} min): {counts(text)}; busy loops: {alive}/{args.burners} alive at the end, "
              f"{burned / secs:.2f} cores of CPU on average; load average {load0:.1f} -> {os.getloadavg()[0]:.1f}",
              flush=True)
    ok = all(code == 0 for _, code, *_ in results)
    print(f"{sum(code == 0 for _, code, *_ in results)}/{len(results)} runs passed; runtimes "
          + ", ".join(f"{secs:.0f}s" for _, _, secs, *_ in results))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
