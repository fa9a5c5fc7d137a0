"""Generalisation guard: six articles the extractor was not tuned on (tests/fixtures/HOLDOUT.md).

Other banks and years, Traditional script, a GBK news page with chrome, bullet summaries, a
multi-bank roundup and a page full of idioms and codes, labelled before the extractor ever ran
on them. The bar is lower than the seeds' and guards against regressions; `make eval` prints
the full score with every miss and false positive.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from flows.evaluate import format_score, load_gold, mention_row, score
from flows.normalise import extract_mentions
from tests.test_eval_seeds import seed_docs

FIXTURES = Path(__file__).resolve().parent / "fixtures"
BAR = {"recall": 0.93, "precision": 0.93}
FIELD_BAR = 0.80


@pytest.fixture(scope="module")
def result():
    docs = seed_docs(FIXTURES / "holdout")
    assert len(docs) == 6
    preds = {stem: [mention_row(m) for m in extract_mentions(text, ctx)] for stem, (text, ctx) in docs.items()}
    r = score(preds, load_gold(FIXTURES / "holdout_gold.jsonl"))
    print("\n" + format_score(r))
    return r


def test_holdout_recall_and_precision(result):
    assert result["total"] >= 100
    for key, bar in BAR.items():
        assert result[key] >= bar, format_score(result)


def test_holdout_field_accuracy(result):
    for field, acc in result["fields"].items():
        assert acc >= FIELD_BAR, (field, acc, format_score(result))
