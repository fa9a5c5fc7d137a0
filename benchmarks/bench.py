"""Throughput benchmark of the real flow on a synthetic corpus made from the seed articles.

    python benchmarks/bench.py --n 20000 [--repeat 3] [--runner processes --workers 2]

Generates N articles from the seeds in raw/ (paragraphs shuffled and dropped, numbers perturbed,
HTML or plain text, UTF-8 / UTF-8 BOM / UTF-16 / GB18030, sidecars with varied dates), then
measures with the real Prefect flow:
  1. fixed start-up: a flow run on an empty folder, in a fresh process, for Prefect's ephemeral
     mode and against a running Prefect server;
  2. the full load (median of --repeat runs on a fresh warehouse): docs/s, mentions/s, seconds
     per stage, peak RSS of the flow process and of its worker processes, warehouse size;
  3. the no-op rerun on the unchanged folder;
  4. a rerun after changing 1% of the files.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import flows
from flows.config import DEFAULT_BATCH_SIZE

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "raw"
ENCODINGS = ("utf-8", "utf-8", "utf-8-sig", "utf-16", "gb18030")
_DIGITS = re.compile(r"\d+(?:\.\d+)?")


def seed_articles() -> list[tuple[str, list[str]]]:
    """(title, paragraphs) of each seed article, through the project's own ingest and clean."""
    from flows.clean import clean_document
    from flows.ingest import read_document, scan

    entries, _ = scan(SEEDS)
    out = []
    for e in entries:
        doc = clean_document(read_document(SEEDS, e))
        out.append((doc.title, list(doc.paragraphs)))
    return out


def perturb(text: str, rng: random.Random) -> str:
    def repl(m: re.Match) -> str:
        s = m.group(0)
        if len(s) == 4 and s.startswith(("19", "20")):
            return s  # keep years plausible
        return "".join(str(rng.randint(1 if i == 0 else 0, 9)) if ch.isdigit() else ch for i, ch in enumerate(s))

    return _DIGITS.sub(repl, text)


def render(title: str, paragraphs: list[str], as_html: bool) -> str:
    if as_html:
        body = "".join(f"<p>{p}</p>" for p in paragraphs)
        return (
            f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title} - 财经</title></head>"
            f"<body><nav>首页 &gt; 财经</nav><h1>{title}</h1><div class='content'>{body}</div>"
            "<div class='share-bar'>分享到</div><footer>版权所有</footer></body></html>"
        )
    return title + "\n\n" + "\n\n".join(paragraphs) + "\n"


def generate(out: Path, n: int, seed: int = 7) -> float:
    """Write n articles and their sidecars under out/ (100 per subfolder). Returns seconds."""
    t0 = time.perf_counter()
    rng = random.Random(seed)
    seeds = seed_articles()
    out.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        title, paras = seeds[i % len(seeds)]
        paras = [p for p in paras if rng.random() > 0.2] or paras[:1]
        rng.shuffle(paras)
        text = render(perturb(title, rng), [perturb(p, rng) for p in paras], rng.random() < 0.5)
        encoding = ENCODINGS[i % len(ENCODINGS)]
        sub = out / f"{i // 100:05d}"
        sub.mkdir(exist_ok=True)
        name = f"a{i:07d}." + rng.choice(("txt", "html", "htm", "dat"))
        (sub / name).write_bytes(text.encode(encoding))
        year = rng.choice((2020, 2021, 2022, 2023, 2024))
        published = rng.choice((f"{year}", f"{year}-{rng.randint(1, 12):02d}", f"{year}-{rng.randint(1, 12):02d}-15"))
        meta = {"published_at": published, "source": "bench"}
        (sub / (Path(name).stem + ".meta.json")).write_text(json.dumps(meta), encoding="utf-8")
    return time.perf_counter() - t0


def change_files(raw: Path, fraction: float, seed: int = 11) -> int:
    rng = random.Random(seed)
    files = sorted(p for p in raw.rglob("*") if p.is_file() and not p.name.endswith(".meta.json"))
    picked = rng.sample(files, max(1, int(len(files) * fraction)))
    from flows.ingest import decode_bytes

    for p in picked:
        text, encoding = decode_bytes(p.read_bytes())  # re-encode as it was written
        p.write_bytes((text + "\n截至6月末，某银行个人客户数达1.23亿户。\n").encode(encoding))
    return len(picked)


def rss_mb() -> tuple[float, float]:
    """Peak RSS of this process and of its largest waited-for child, in MB."""
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return me, kids


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def startup_seconds(env: dict, tmp: Path) -> float:
    """Wall time of a flow run on an empty folder in a fresh process (import + Prefect + flow)."""
    empty = tmp / "empty"
    empty.mkdir(exist_ok=True)
    db = tmp / f"startup-{time.time_ns()}.duckdb"
    t0 = time.perf_counter()
    subprocess.run(
        [str(Path(sys.executable).parent / "bankmetrics"), "run", "--raw-dir", str(empty), "--db", str(db), "--no-export"],
        env=env, check=True, capture_output=True, timeout=300,
    )
    return time.perf_counter() - t0


def startup_against_server(env: dict, tmp: Path) -> float | None:
    """Start a Prefect server on loopback, measure a run against it, stop the server."""
    port = free_port()
    senv = dict(env, PREFECT_HOME=str(tmp / "server-home"))
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=senv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        url = f"http://127.0.0.1:{port}/api"
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                urllib.request.urlopen(url + "/health", timeout=2).read()
                break
            except OSError:
                time.sleep(0.5)
        else:
            return None
        cenv = dict(senv, PREFECT_API_URL=url)
        startup_seconds(cenv, tmp)  # first contact creates the flow; measure the steady state
        return statistics.median(startup_seconds(cenv, tmp) for _ in range(2))
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--repeat", type=int, default=3, help="full loads on a fresh warehouse (median reported)")
    ap.add_argument("--runner", default="processes", help="threads | processes | dask")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)
    ap.add_argument("--out", type=Path, default=ROOT / "bench-out")
    ap.add_argument("--skip-startup", action="store_true", help="skip the fixed start-up measurements")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args()

    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    shutil.rmtree(args.out, ignore_errors=True)
    args.out.mkdir(parents=True)
    raw = args.out / "raw"
    figures: dict = {"n": args.n, "runner": args.runner, "workers": args.workers, "batch_size": args.batch_size}

    gen_s = generate(raw, args.n)
    figures["generate_seconds"] = round(gen_s, 2)
    figures["corpus_mb"] = round(sum(p.stat().st_size for p in raw.rglob("*") if p.is_file()) / 2**20, 1)
    print(f"generated {args.n} articles ({figures['corpus_mb']} MB) in {gen_s:.1f}s", flush=True)

    if not args.skip_startup:
        env = dict(os.environ)
        figures["startup_ephemeral_s"] = round(startup_seconds(env, args.out), 2)
        print(f"fixed start-up, ephemeral Prefect: {figures['startup_ephemeral_s']:.2f}s", flush=True)
        s = startup_against_server(env, args.out)
        figures["startup_server_s"] = round(s, 2) if s is not None else None
        print(f"fixed start-up, running Prefect server: {s:.2f}s" if s else "server start failed", flush=True)

    from flows.pipeline import run_etl
    from flows.runners import run_options

    def full_run(db: Path) -> tuple[float, dict]:
        t0 = time.perf_counter()
        summary = run_etl(
            **run_options(args.runner, args.workers),
            raw_dir=str(raw), db=str(db), batch_size=args.batch_size,
        )
        return time.perf_counter() - t0, summary

    # Warm Prefect's ephemeral server in this process so the loads below exclude start-up.
    empty = args.out / "empty"
    empty.mkdir(exist_ok=True)
    run_etl(raw_dir=str(empty), db=str(args.out / "warm.duckdb"))
    # What every run costs in this warm process whatever N is (a flow run, its tasks, opening and
    # closing the warehouse): an empty folder, median of 3. The net rate leaves it out.
    per_run = []
    for _ in range(3):
        t0 = time.perf_counter()
        run_etl(**run_options(args.runner, args.workers), raw_dir=str(empty), db=str(args.out / "warm.duckdb"))
        per_run.append(time.perf_counter() - t0)
    figures["per_run_fixed_s"] = round(statistics.median(per_run), 2)

    loads = []
    for i in range(args.repeat):
        db = args.out / f"w{i}.duckdb"
        secs, summary = full_run(db)
        loads.append((secs, summary, db))
        print(f"full load {i + 1}/{args.repeat}: {secs:.2f}s, {args.n / secs:,.0f} docs/s", flush=True)
    secs, summary, db = sorted(loads, key=lambda x: x[0])[len(loads) // 2]
    figures.update(
        full_load_s=round(secs, 2),
        docs_per_s=round(args.n / secs),
        docs_per_s_net=round(args.n / (secs - figures["per_run_fixed_s"])),
        mentions=summary["mentions_loaded"],
        mentions_per_s=round(summary["mentions_loaded"] / secs),
        quarantined=summary["files_quarantined"],
        stage_seconds=summary["stage_seconds"],
        warehouse_mb=round(db.stat().st_size / 2**20, 1),
    )
    noop_s, noop = full_run(db)
    figures["noop_rerun_s"] = round(noop_s, 2)
    figures["noop_rerun_work_s"] = noop["seconds"]
    figures["noop_unchanged"] = noop["docs_unchanged"]
    changed = change_files(raw, 0.01)
    ch_s, ch = full_run(db)
    figures.update(changed_files=changed, changed_rerun_s=round(ch_s, 2), changed_detected=ch["docs_changed"])
    me, kids = rss_mb()
    figures.update(peak_rss_flow_mb=round(me), peak_rss_worker_mb=round(kids))
    figures["extraction"] = flows.NATIVE

    print()
    print(f"N={args.n} runner={args.runner} workers={args.workers} batch={args.batch_size} "
          f"extraction: {flows.NATIVE}")
    print(f"full load (median of {args.repeat}): {figures['full_load_s']}s = {figures['docs_per_s']:,} docs/s, "
          f"{figures['mentions']:,} mentions = {figures['mentions_per_s']:,} mentions/s")
    print(f"per-run fixed cost in this warm process (an empty folder): {figures['per_run_fixed_s']}s; "
          f"net of it: {figures['docs_per_s_net']:,} docs/s")
    print("stage seconds (summed over workers): " + ", ".join(f"{k}={v:.2f}" for k, v in summary["stage_seconds"].items()))
    if not args.skip_startup:
        print(f"fixed start-up: ephemeral {figures['startup_ephemeral_s']}s, server {figures['startup_server_s']}s")
    print(f"no-op rerun: {figures['noop_rerun_s']}s wall, {figures['noop_rerun_work_s']}s of flow work, "
          f"{figures['noop_unchanged']} unchanged")
    print(f"1% changed ({changed} files): {figures['changed_rerun_s']}s, {figures['changed_detected']} changed")
    print(f"peak RSS: flow process {figures['peak_rss_flow_mb']} MB, largest worker {figures['peak_rss_worker_mb']} MB")
    print(f"warehouse: {figures['warehouse_mb']} MB, quarantined {figures['quarantined']}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
