"""Score predicted mentions against gold labels, exactly as /work/shared/eval/score.py does.

The reference scorer reads a warehouse; this module takes predictions as plain dicts so tests
and the CLI can score without a database. Matching, precision, ignores and field accuracy follow
the reference line by line (GOLD_FORMAT.md, "Scoring").
"""
from __future__ import annotations

import json
import re
import unicodedata
from collections import defaultdict
from dataclasses import asdict
from pathlib import Path

from flows.models import Mention


def _norm(s: str | None) -> str:
    return unicodedata.normalize("NFKC", s or "")


_SUBJ_NOISE = re.compile(r"[\[\]【】\-—•·●▶►|]|^\d|\d\]")  # list, footnote and heading debris


def subject_ok(pred: str | None, gold: str | None) -> bool:
    """The gold subject, or it plus at most 4 characters with no list/footnote/heading debris
    (both compared in Simplified script)."""
    from flows.script import to_simplified  # local import: script pulls in OpenCC

    p, g = to_simplified(_norm(pred).strip()), to_simplified(_norm(gold).strip())
    return p == g or (g in p and len(p) - len(g) <= 4 and not _SUBJ_NOISE.search(p))


def load_gold(path: str | Path) -> list[dict]:
    """Gold rows (mentions and ignores) from a JSON-lines file; blank lines skipped."""
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def mention_row(m: Mention) -> dict:
    """A Mention as the dict the scorer expects (periods as ISO strings)."""
    d = asdict(m)
    return {
        "entity": d["entity"], "metric_key": d["metric_key"], "subject": d["subject"],
        "value": d["value"], "unit": d["unit"], "qualifier": d["qualifier"], "kind": d["kind"],
        "period_start": m.period_start.isoformat() if m.period_start else None,
        "period_end": m.period_end.isoformat() if m.period_end else None,
        "surface": d["surface"],
    }


def _close(a, b) -> bool:
    if a is None or b is None:
        return False
    a, b = abs(float(a)), abs(float(b))
    return abs(a - b) <= 1e-6 * max(a, b, 1e-9)


def _iso(v) -> str | None:
    return str(v)[:10] if v is not None else None


def score(pred_by_doc: dict[str, list[dict]], gold: list[dict], docs: set[str] | None = None) -> dict:
    """Recall, precision, strict recall and field accuracy of `pred_by_doc` against `gold`.

    `pred_by_doc` maps a doc stem to predicted rows (keys entity, metric_key, subject, value,
    unit, qualifier, kind, period_start, period_end, surface). Returns the reference's dict:
    total, found, recall, precision, fp, strict_recall, fields, misses, fps.
    """
    mentions: dict[str, list[dict]] = defaultdict(list)
    ignores: dict[str, list[dict]] = defaultdict(list)
    for g in gold:
        if docs and g["doc"] not in docs:
            continue
        (ignores if "ignore" in g else mentions)[g["doc"]].append(g)
    found = tp_pred = fp = strict = total = 0
    fields: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    misses: list[dict] = []
    fps: list[tuple] = []
    for doc in sorted(set(mentions) | set(ignores)):
        preds = [dict(p, period_start=_iso(p.get("period_start")), period_end=_iso(p.get("period_end")))
                 for p in pred_by_doc.get(doc, [])]
        used = [False] * len(preds)
        for g in mentions[doc]:
            total += 1
            cands = [i for i, p in enumerate(preds)
                     if not used[i] and p["unit"] == g["unit"] and _close(p["value"], g["value"])]
            cands.sort(key=lambda i: (_norm(preds[i]["surface"]) != _norm(g["surface"]),))
            if not cands:
                misses.append(g)
                continue
            i = cands[0]
            used[i] = True
            found += 1
            p = preds[i]
            ok_all = True

            def chk(name: str, ok: bool) -> None:
                nonlocal ok_all
                fields[name][1] += 1
                fields[name][0] += int(bool(ok))
                ok_all = ok_all and bool(ok)

            chk("qualifier", p["qualifier"] == g["qualifier"])
            chk("kind", p["kind"] == g["kind"])
            chk("sign", (float(p["value"]) < 0) == (g["value"] < 0))
            chk("entity", p["entity"] == g["entity"])
            if g.get("period_end"):
                chk("period_end", p["period_end"] == g["period_end"])
            if g.get("metric"):
                chk("metric", p["metric_key"] == g["metric"])
            strict += int(ok_all)
            fields["subject"][1] += 1  # not part of strict, as in the reference
            fields["subject"][0] += int(subject_ok(p["subject"], g["subject"]))
        ign_text = [_norm(x["ignore"]) for x in ignores[doc]]
        for i, p in enumerate(preds):
            if used[i]:
                tp_pred += 1
                continue
            s = _norm(p["surface"])
            if any(s and (s in t or t in s) for t in ign_text):
                continue
            fp += 1
            fps.append((doc, p["surface"], p["subject"], p["value"], p["unit"]))
    return dict(
        total=total, found=found,
        recall=found / total if total else 0.0,
        precision=tp_pred / (tp_pred + fp) if (tp_pred + fp) else 0.0,
        fp=fp,
        strict_recall=strict / total if total else 0.0,
        fields={k: v[0] / v[1] for k, v in fields.items() if v[1]},
        misses=misses, fps=fps,
    )


def format_score(result: dict) -> str:
    """MISS and FP lines, then the one summary line, formatted like the reference scorer."""
    lines = [f"MISS {g['doc']} {g['surface']} {g['subject']} {g['value']} {g['unit']}"
             for g in result["misses"]]
    lines += ["FP   " + " ".join(str(x) for x in f) for f in result["fps"]]
    fa = " ".join(f"{k}={v:.2f}" for k, v in sorted(result["fields"].items()))
    lines.append(
        f"recall={result['recall']:.3f} ({result['found']}/{result['total']}) "
        f"precision={result['precision']:.3f} fp={result['fp']} "
        f"strict={result['strict_recall']:.3f} {fa}"
    )
    return "\n".join(lines)
