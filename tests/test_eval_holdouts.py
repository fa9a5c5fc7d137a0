"""Generalisation guards: the two holdout sets, scored like the seeds (GOLD_FORMAT.md).

holdout (tests/fixtures/HOLDOUT.md): six articles, other banks and years, Traditional script, a
GBK news page with chrome, bullet summaries, a multi-bank roundup, a page of idioms and codes.
Blind score: recall 0.974, precision 0.974, strict 0.816.

holdout2 (tests/fixtures/HOLDOUT2.md): five articles written and labelled blind (nothing under
flows/ read, labels frozen by sha256 before the first run): Taiwan-style Traditional with 兆,
UTF-16 and GB18030 bytes, a WeChat page, a markdown briefing of `名称：值（同比±x%）` lists under
dated headings, an interview full of non-quantities. Blind score (2026-11-25 21:52 UTC):

    recall=0.953 (82/86) precision=0.988 fp=1 strict=0.570 entity=0.96 kind=0.93 metric=0.46
    period_end=0.77 qualifier=0.98 sign=1.00

Both sets have since been used to find missing general rules, so they no longer measure
generalisation independently: the bars only guard against regressions, under what the tuned
extractor reaches. `make eval` prints the full scores with every miss and false positive.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from flows.evaluate import format_score, load_gold, mention_row, score
from flows.normalise import extract_mentions
from tests.test_eval_seeds import seed_docs

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@dataclass(frozen=True)
class Holdout:
    folder: str
    n_docs: int
    min_total: int
    bars: dict
    field_bar: float


HOLDOUTS = {
    "holdout": Holdout("holdout", 6, 100, {"recall": 0.93, "precision": 0.93}, 0.80),
    "holdout2": Holdout("holdout2", 5, 80, {"recall": 0.97, "precision": 0.97, "strict_recall": 0.93}, 0.93),
}
# subject (scored since score.py gained it, not part of strict): a guard at what the rules reach now
SUBJECT_BARS = {"holdout": 0.88, "holdout2": 0.81}


@pytest.fixture(scope="module", params=sorted(HOLDOUTS))
def scored(request) -> tuple[Holdout, dict]:
    h = HOLDOUTS[request.param]
    docs = seed_docs(FIXTURES / h.folder)
    assert len(docs) == h.n_docs
    preds = {stem: [mention_row(m) for m in extract_mentions(text, ctx)] for stem, (text, ctx) in docs.items()}
    r = score(preds, load_gold(FIXTURES / f"{h.folder}_gold.jsonl"))
    print("\n" + format_score(r))
    return h, r


def test_recall_and_precision(scored):
    h, result = scored
    assert result["total"] >= h.min_total
    for key, bar in h.bars.items():
        assert result[key] >= bar, format_score(result)


def test_field_accuracy(scored):
    h, result = scored
    for field, acc in result["fields"].items():
        bar = SUBJECT_BARS[h.folder] if field == "subject" else h.field_bar
        assert acc >= bar, (field, acc, format_score(result))
