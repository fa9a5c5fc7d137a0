#!/usr/bin/env python3
"""Check the dev-set labels against the article files and the shared catalogues.

usage: python devset/check.py [devset/gold/*.jsonl ...]
Every mention line must locate its surface at its character offset in devset/raw/<doc>.<ext>
(the file's decoded text), use a unit, qualifier and kind from GOLD_FORMAT.md, a metric key from
metric_taxonomy.csv and an entity code from institutions.csv. Prints one line per problem, then a count.
"""
import csv, glob, json, os, re, sys

HERE = os.path.dirname(os.path.abspath(__file__))
EVAL = os.path.join(HERE, "..", "..", "shared", "eval")
UNITS = {"CNY", "HKD", "MOP", "TWD", "USD", "EUR", "JPY", "GBP", "count", "percent", "pp", "times"}
QUALIFIERS = {"exact", "approx", "over", "under", "up_to"}
KINDS = {"level", "flow", "change"}
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _codes(name, col):
    with open(os.path.join(EVAL, name), encoding="utf-8") as f:
        return {r[col] for r in csv.DictReader(f)}


def _text(doc):
    paths = [p for p in glob.glob(os.path.join(HERE, "raw", doc + ".*")) if not p.endswith(".meta.json")]
    if not paths:
        return None
    raw = open(paths[0], "rb").read()
    for enc in ("utf-8-sig", "utf-16", "gb18030"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    return None


def main(files):
    metrics, entities = _codes("metric_taxonomy.csv", "key"), _codes("institutions.csv", "code")
    problems = labels = 0
    for path in files or sorted(glob.glob(os.path.join(HERE, "gold", "*.jsonl"))):
        for n, line in enumerate(open(path, encoding="utf-8"), 1):
            if not line.strip():
                continue
            where = f"{os.path.basename(path)}:{n}"
            g = json.loads(line)
            if "ignore" in g:
                continue
            labels += 1
            errs = []
            text = _text(g["doc"])
            if text is None:
                errs.append(f"no readable file devset/raw/{g['doc']}.*")
            elif text[g["offset"]:g["offset"] + len(g["surface"])] != g["surface"]:
                errs.append(f"surface {g['surface']!r} not at offset {g['offset']}")
            if g["unit"] not in UNITS: errs.append(f"unit {g['unit']!r}")
            if g["qualifier"] not in QUALIFIERS: errs.append(f"qualifier {g['qualifier']!r}")
            if g["kind"] not in KINDS: errs.append(f"kind {g['kind']!r}")
            if g.get("metric") and g["metric"] not in metrics: errs.append(f"metric {g['metric']!r}")
            if g.get("entity") and g["entity"] not in entities: errs.append(f"entity {g['entity']!r}")
            for k in ("period_start", "period_end"):
                if g.get(k) and not DATE.match(g[k]): errs.append(f"{k} {g[k]!r}")
            if not isinstance(g.get("value"), (int, float)): errs.append("value is not a number")
            if "quote" in g: errs.append("quote must not be committed (web text)")
            for e in errs:
                problems += 1
                print(f"{where}: {e}")
    print(f"{labels} labels, {problems} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
