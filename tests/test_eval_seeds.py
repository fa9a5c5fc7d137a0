"""The accuracy bar on the two seed articles, scored exactly like /work/shared/eval/score.py.

Runs ingest -> clean -> extract_mentions without a database. When the clean stage cannot be
imported (it is written in parallel), a small bs4 stand-in builds the same text.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from flows.evaluate import format_score, load_gold, mention_row, score
from flows.models import DocContext
from flows.normalise import extract_mentions

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "raw"
GOLD = ROOT / "tests" / "fixtures" / "seed_gold.jsonl"

BAR = {"recall": 0.95, "precision": 0.95}
FIELD_BAR = 0.90
# subject is scored since score.py gained it (not part of strict): a regression guard at what the
# subject rules reach now (seeds 0.85, holdout 0.84), below the 0.90 target
SUBJECT_BAR = {"seeds": 0.90, "holdout": 0.88}


def _fallback_docs() -> dict[str, tuple[str, DocContext]]:
    import json
    from datetime import date

    from bs4 import BeautifulSoup

    out = {}
    for path in sorted(RAW.glob("*.txt")):
        raw = path.read_text(encoding="utf-8")
        title, _, body = raw.partition("\n")
        if "<div" in body or "<p" in body:
            lines = [d.get_text() for d in BeautifulSoup(body, "lxml").find_all(["div", "p"])]
        else:
            lines = body.split("\n")
        lines = [" ".join(x.replace("\u3000", " ").replace("\xa0", " ").split()) for x in lines]
        text = "\n".join([title.strip(), *[x for x in lines if x]])
        meta = json.loads(path.with_name(path.stem + ".meta.json").read_text(encoding="utf-8"))
        y, mo = (int(x) for x in meta["published_at"].split("-")[:2])
        out[path.stem] = (text, DocContext(published_at=date(y, mo, 1), published_precision="month"))
    return out


def seed_docs(raw_dir: Path = RAW) -> dict[str, tuple[str, DocContext]]:
    """doc stem -> (clean text, DocContext) for every article in `raw_dir` (default raw/)."""
    try:
        from flows.clean import clean_document
        from flows.ingest import read_document, scan
    except ImportError:
        return _fallback_docs()
    entries, _ = scan(raw_dir)
    out = {}
    for entry in entries:
        raw = read_document(raw_dir, entry)
        clean = clean_document(raw)
        sc = raw.sidecar
        ctx = DocContext(published_at=sc.published_at, published_precision=sc.published_precision,
                         entity=sc.entity, title=clean.title, source=sc.source, url=sc.url)
        out[Path(entry.path).name.split(".")[0]] = (clean.text, ctx)
    return out


@pytest.fixture(scope="module")
def docs():
    return seed_docs()


@pytest.fixture(scope="module")
def result(docs):
    preds = {stem: [mention_row(m) for m in extract_mentions(text, ctx)]
             for stem, (text, ctx) in docs.items()}
    r = score(preds, load_gold(GOLD))
    print("\n" + format_score(r))
    return r


def test_evidence_offsets(docs):
    for text, ctx in docs.values():
        for m in extract_mentions(text, ctx):
            assert text[m.char_start:m.char_end] == m.surface
            assert text[m.sentence_start:m.sentence_start + len(m.sentence)] == m.sentence
            assert m.sentence_start <= m.char_start and m.char_end <= m.sentence_start + len(m.sentence)


def test_gold_quotes_are_in_clean_text(docs):
    for g in load_gold(GOLD):
        if "quote" in g:
            assert g["quote"] in docs[g["doc"]][0], g["quote"]


def test_recall_and_precision(result):
    assert result["recall"] >= BAR["recall"], format_score(result)
    assert result["precision"] >= BAR["precision"], format_score(result)


@pytest.mark.parametrize("field", ["qualifier", "kind", "sign", "entity", "period_end", "metric"])
def test_field_accuracy(result, field):
    assert result["fields"][field] >= FIELD_BAR, format_score(result)


def test_subject_accuracy(result):
    assert result["fields"]["subject"] >= SUBJECT_BAR["seeds"], format_score(result)


REFERENCE = Path("/work/shared/eval/score.py")


def _reference():
    import importlib.util

    if not REFERENCE.exists():
        pytest.skip("reference scorer not available")
    spec = importlib.util.spec_from_file_location("reference_score", REFERENCE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _perturbed(preds: dict[str, list[dict]]) -> dict[str, list[dict]]:
    """Drop some rows, break some fields, add false positives and ignorable rows."""
    out = {}
    for doc, rows in preds.items():
        rows = [dict(r) for r in rows[::2]]
        for i, r in enumerate(rows):
            if i % 3 == 0:
                r["qualifier"] = "approx"
            if i % 4 == 0:
                r["value"] = -float(r["value"])
            if i % 5 == 0:
                r["period_end"] = None
            if i % 7 == 0:
                r["metric_key"] = None
        rows.append(dict(rows[0], value=123456, surface="123456元", unit="CNY"))
        rows.append(dict(rows[0], value=300, surface="300元", unit="CNY"))
        out[doc] = rows
    return out


def test_score_matches_reference_scorer(docs):
    ref = _reference()
    gold = load_gold(GOLD)
    preds = {stem: [mention_row(m) for m in extract_mentions(text, ctx)] for stem, (text, ctx) in docs.items()}
    for variant in (preds, _perturbed(preds), {}):
        ours = score(variant, gold)
        theirs = ref.score(variant, gold)
        for key in ("total", "found", "recall", "precision", "fp", "strict_recall", "fields"):
            assert ours[key] == theirs[key], key
        assert [g["surface"] for g in ours["misses"]] == [g["surface"] for g in theirs["misses"]]
        assert [f[:2] for f in ours["fps"]] == [f[:2] for f in theirs["fps"]]


def test_format_score_summary_line():
    r = score({}, load_gold(GOLD))
    lines = format_score(r).splitlines()
    assert lines[-1].startswith("recall=0.000 (0/53) precision=0.000 fp=0 strict=0.000")
    assert all(x.startswith("MISS ") for x in lines[:-1])


HOLDOUT = ROOT / "tests" / "fixtures" / "holdout"


def test_holdout_bar():
    """The same bar on the held-out articles (other banks, years, Traditional, GBK, bullets)."""
    gold_path = next((p for p in (HOLDOUT.parent / "holdout_gold.jsonl", HOLDOUT / "holdout_gold.jsonl")
                      if p.exists()), None)
    if gold_path is None:
        pytest.skip("no holdout set")
    docs = seed_docs(HOLDOUT)
    preds = {stem: [mention_row(m) for m in extract_mentions(text, ctx)] for stem, (text, ctx) in docs.items()}
    r = score(preds, load_gold(gold_path))
    print("\nholdout: " + format_score(r).splitlines()[-1])
    assert r["recall"] >= BAR["recall"] and r["precision"] >= BAR["precision"], format_score(r)
    for field, acc in r["fields"].items():
        assert acc >= (SUBJECT_BAR["holdout"] if field == "subject" else FIELD_BAR), f"{field}: {format_score(r)}"
