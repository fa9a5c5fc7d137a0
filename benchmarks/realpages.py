"""Extraction speed on real pages, in a fresh process: the figure the synthetic corpus can hide.

    python benchmarks/realpages.py [--raw devset/raw] [--repeat 3]

`bench.py` builds its corpus from the two seed articles, so its pages repeat the same phrases and
the same mix of characters: a cost paid once per new kind of page (a pattern compiled for it, a
phrase converted) is paid there a handful of times and then never again. Real pages differ from
each other; this script reads them through the project's own ingest and clean stages and times
`extract_mentions` on them in this process, as a worker process of a run does:

  - first pass: each page met for the first time (after the warm-up a worker also does, so the
    rules are compiled already);
  - warm: the best of --repeat further passes over the same pages.

The pages are the dev set's (git-ignored; devset/README.md says how to rebuild them).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--raw", type=Path, default=ROOT / "devset" / "raw")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    import flows
    from flows.batch import doc_context
    from flows.clean import clean_document
    from flows.ingest import read_document, scan
    from flows.models import DocContext
    from flows.normalise import extract_mentions

    entries, _ = scan(args.raw)
    pages = []
    for e in entries:
        raw = read_document(args.raw, e)
        clean = clean_document(raw)
        pages.append((clean.text, doc_context(clean, raw)))
    if not pages:
        print(f"real pages: none in {args.raw} (devset/README.md says how to rebuild them)")
        return 0
    extract_mentions("截至6月末，工行个人客户数达7.55亿户。", DocContext())  # the workers' warm-up

    def one_pass() -> tuple[float, int]:
        t0 = time.process_time()
        n = sum(len(extract_mentions(text, ctx)) for text, ctx in pages)
        return time.process_time() - t0, n

    first, mentions = one_pass()
    warm = min(one_pass()[0] for _ in range(max(1, args.repeat)))
    chars = sum(len(t) for t, _ in pages) / len(pages)
    print(f"real pages ({args.raw}, {len(pages)} pages, {chars:,.0f} characters each on average, "
          f"{mentions:,} mentions; extraction: {flows.NATIVE}):")
    print(f"  first pass {first / len(pages) * 1e6:,.0f} µs/page ({len(pages) / first:,.0f} pages/s), "
          f"warm {warm / len(pages) * 1e6:,.0f} µs/page ({len(pages) / warm:,.0f} pages/s), CPU time of one process")
    return 0


if __name__ == "__main__":
    sys.exit(main())
