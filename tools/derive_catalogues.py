#!/usr/bin/env python3
"""Derive the warehouse's catalogues in flows/rules/ from the shared taxonomy and bank registry.

usage: python tools/derive_catalogues.py [--shared ../shared/eval]

Writes flows/rules/metric_taxonomy.csv (key, unit, nature, name_zh, name_en) and
flows/rules/institutions.csv (code, name_zh, short_name_zh, kind), and adds to entities.csv every
registry name not yet an alias (full name, the names seen longer than two characters, their
Traditional forms). Existing
aliases and hand-added rows stay; rerun after the shared CSVs change. The short name is what an
analyst reads in a table: the first name seen that says 银行 (工商银行, 浦发银行), else the full name.
"""
from __future__ import annotations

import argparse
import csv
import io
from pathlib import Path

from opencc import OpenCC

RULES = Path(__file__).resolve().parent.parent / "flows" / "rules"
_TRADITIONAL = (OpenCC("s2t").convert, OpenCC("s2hk").convert, OpenCC("s2tw").convert)


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def short_name(name_zh: str, seen: list[str]) -> str:
    """工商银行 for 中国工商银行; 中国银行 stays whole (no name seen says 银行)."""
    for s in seen:
        if "银行" in s and len(s) < len(name_zh):
            return s
    for s in seen:  # 张家港行, 青农商行
        if s.endswith("行") and len(s) >= 4:
            return s
    return name_zh


def _aliases(name_zh: str, seen: list[str]) -> list[str]:
    """Full name and names seen in both scripts. Two-character abbreviations are left to a person:
    口行 stands inside 出口行业, so only the hand-checked ones (工行, 招行, ...) are in entities.csv."""
    out: list[str] = []
    for s in [name_zh, *(s for s in seen if len(s) > 2 or s.isascii())]:
        for form in (s, *(conv(s) for conv in _TRADITIONAL)):
            if form and form not in out:
                out.append(form)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "eval")
    args = ap.parse_args()

    taxonomy = _rows(args.shared / "metric_taxonomy.csv")
    _write(RULES / "metric_taxonomy.csv", ["key", "unit", "nature", "name_zh", "name_en"],
           [[r["key"], r["unit"], r["nature"], r["name_zh"], r["name_en"]] for r in taxonomy])

    registry = _rows(args.shared / "institutions.csv")
    inst_rows = []
    alias_rows = _rows(RULES / "entities.csv")
    taken = {r["alias"]: r["code"] for r in alias_rows}
    for r in registry:
        seen = [s for s in r["names_seen"].split("|") if s]
        inst_rows.append([r["code"], r["name_zh"], short_name(r["name_zh"], seen), r["kind"]])
        for alias in _aliases(r["name_zh"], seen):
            if alias not in taken:
                taken[alias] = r["code"]
                alias_rows.append({"code": r["code"], "alias": alias})
    _write(RULES / "institutions.csv", ["code", "name_zh", "short_name_zh", "kind"], inst_rows)
    order = {r["code"]: i for i, r in enumerate(registry)}
    alias_rows.sort(key=lambda a: order.get(a["code"], len(order)))  # stable: hand order kept per code
    _write(RULES / "entities.csv", ["code", "alias"], [[a["code"], a["alias"]] for a in alias_rows])
    print(f"{len(taxonomy)} metrics, {len(inst_rows)} institutions, {len(alias_rows)} aliases")


if __name__ == "__main__":
    main()
