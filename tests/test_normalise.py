"""extract_mentions against the cases in tests/cases/extract_cases.toml, plus contract checks."""
from __future__ import annotations

import tomllib
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from flows.lexicon import UNITS, load_lexicon
from flows.models import DocContext, Mention
from flows.normalise import extract_mentions

CASES = tomllib.loads((Path(__file__).parent / "cases" / "extract_cases.toml").read_text(encoding="utf-8"))["case"]


def _ctx(case: dict) -> DocContext:
    raw = case.get("published_at")
    pub = None
    if raw:
        parts = [int(x) for x in raw.split("-")]
        pub = date(parts[0], *(parts[1:] + [1] * (3 - len(parts))))
    return DocContext(published_at=pub, published_precision=case.get("precision"),
                      entity=case.get("entity"), title=case["text"].split("\n")[0],
                      source=case.get("source"), url=case.get("url"))


def _find(mentions: list[Mention], exp: dict) -> Mention | None:
    for m in mentions:
        if "surface" in exp and m.surface != exp["surface"]:
            continue
        if "surface" not in exp and (m.value != Decimal(exp["value"]) or m.unit != exp["unit"]):
            continue
        return m
    return None


def _iso(d: date | None) -> str:
    return d.isoformat() if d else ""


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_case(case):
    text = case["text"]
    mentions = extract_mentions(text, _ctx(case))
    got = [(m.surface, str(m.value), m.unit) for m in mentions]
    for m in mentions:
        assert text[m.char_start:m.char_end] == m.surface
        assert text[m.sentence_start:m.sentence_start + len(m.sentence)] == m.sentence
    for exp in case.get("expect", []):
        m = _find(mentions, exp)
        assert m is not None, f"not found {exp} in {got}"
        checks = {
            "value": lambda: m.value == Decimal(exp["value"]),
            "unit": lambda: m.unit == exp["unit"],
            "qualifier": lambda: m.qualifier == exp["qualifier"],
            "kind": lambda: m.kind == exp["kind"],
            "period_start": lambda: _iso(m.period_start) == exp["period_start"],
            "period_end": lambda: _iso(m.period_end) == exp["period_end"],
            "metric": lambda: (m.metric_key or "") == exp["metric"],
            "entity": lambda: (m.entity or "") == exp["entity"],
            "measure_word": lambda: m.measure_word == exp["measure_word"],
            "subject": lambda: (m.subject or "") == exp["subject"],
        }
        for field, ok in checks.items():
            if field in exp:
                assert ok(), f"{exp.get('surface')}: {field} expected {exp[field]!r}, got {m}"
    for bad in case.get("not_found", []):
        assert not any(bad in m.surface or m.surface in bad for m in mentions), f"found {bad!r} in {got}"
    if "exact_count" in case:
        assert len(mentions) == case["exact_count"], got


def test_empty_and_numberless_text():
    assert extract_mentions("", DocContext()) == []
    assert extract_mentions("标题\n没有数字的一段话。", DocContext()) == []


def test_values_are_exact_decimals():
    (m,) = extract_mentions("t\n工行个人客户数达7.55亿户。", DocContext())
    assert m.value == Decimal(755000000) and isinstance(m.value, Decimal)
    assert m.scale_word == "亿" and m.measure_word == "户"


def test_percentage_points_never_become_percent():
    ms = extract_mentions("t\n净息差同比下降0.5个百分点，拨备覆盖率下降5%。", DocContext())
    assert [(m.unit, m.value) for m in ms] == [("pp", Decimal("-0.5")), ("percent", Decimal("-5"))]


def test_deterministic_and_independent_of_call_order():
    text = "t\n截至6月末，工行个人客户数达7.55亿户，较年初增加超1400万户。"
    ctx = DocContext(published_at=date(2024, 7, 1), published_precision="month")
    a = extract_mentions(text, ctx)
    extract_mentions("t\n建行总资产38万亿元。", DocContext())
    assert extract_mentions(text, ctx) == a


def test_title_inherits_lead_as_of_date():
    text = "工行个人客户金融资产较年初增长近万亿\n截至今年6月末，工行个人客户金融资产规模突破15.5万亿元。"
    ms = extract_mentions(text, DocContext(published_at=date(2020, 7, 1), published_precision="month"))
    title = ms[0]
    assert title.surface == "万亿" and title.unit == "CNY" and title.is_implied_unit
    assert title.period_end == date(2020, 6, 30) and title.period_start == date(2020, 1, 1)


def test_period_set_earlier_in_sentence_does_not_reach_next_sentence():
    text = "t\n截至三季度末，工行个人客户数达7.55亿户。目前外卡收单商户超20万户。"
    ms = extract_mentions(text, DocContext(published_at=date(2024, 11, 1), published_precision="month"))
    assert ms[0].period_end == date(2024, 9, 30) and ms[1].period_end is None


def test_publication_early_in_year_resolves_to_previous_year():
    text = "t\n截至三季度末，工行个人客户数达7.55亿户。"
    (m,) = extract_mentions(text, DocContext(published_at=date(2025, 2, 1), published_precision="month"))
    assert m.period_end == date(2024, 9, 30)


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_PIECES = ["工行", "建行", "截至", "6月末", "三季度末", "前三季度", "上半年", "今年以来", "较年初", "同比",
           "增长", "下降", "近", "超", "约", "达", "余", "多", "以上", "左右", "7.55", "1,400", "１２", "一千四百",
           "两", "十", "万", "亿", "萬", "億", "元", "户", "人次", "%", "％", "个百分点", "个基点", "倍", "成",
           "个人客户数", "金融资产", "，", "。", "；", "\n", "“", "”", "-", "2024年", "每", "就有", "第", "百分之"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=40),
       st.sampled_from([None, date(2024, 11, 1), date(2020, 1, 15)]),
       st.sampled_from([None, "year", "month", "day"]))
def test_never_raises_and_keeps_invariants(pieces, pub, prec):
    text = "".join(pieces)
    for m in extract_mentions(text, DocContext(published_at=pub, published_precision=prec)):
        assert text[m.char_start:m.char_end] == m.surface
        assert text[m.sentence_start:m.sentence_start + len(m.sentence)] == m.sentence
        assert m.unit in UNITS
        assert m.qualifier in {"exact", "approx", "over", "under", "up_to"}
        assert m.kind in {"level", "flow", "change"}
        assert isinstance(m.value, Decimal)


_PERIOD_PIECES = ["上半年", "上升", "以上", "上年", "下半年", "2023", "年", "20", "19", "1", "3", "12", "月",
                  "末", "底", "季度", "第", "三", "前", "截至", "至", "到", "今年", "本年", "以来", "年初", "年中",
                  "报告期末", "目前", "近日", "个月", "-", "/", ".", " ", "，", "增长", "5", "%"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PERIOD_PIECES), max_size=30))
def test_period_gates_never_change_what_the_scan_finds(pieces):
    import re

    from flows.context import period_scans

    text = "".join(pieces)
    bare = re.compile("|".join(part for part, _ in period_scans().period_parts))
    got = [(x.span(), x.lastgroup, x.groupdict()) for x in period_scans().periods.finditer(text)]
    assert got == [(x.span(), x.lastgroup, x.groupdict()) for x in bare.finditer(text)]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PERIOD_PIECES), max_size=30))
def test_period_scan_from_its_start_places_finds_what_the_alternation_finds(pieces):
    import re

    from flows.context import _period_matches, period_scans

    text = "".join(pieces)
    bare = re.compile("|".join(part for part, _ in period_scans().period_parts))
    got = [(x.span(), x.lastgroup, {k: v for k, v in x.groupdict().items() if v is not None})
           for x in _period_matches(text)]
    assert got == [(x.span(), x.lastgroup, {k: v for k, v in x.groupdict().items() if v is not None})
                   for x in bare.finditer(text)]


def test_every_period_rule_opens_with_characters_the_scan_can_gate_on():
    """A rule that may open with anything (a lookbehind or a \\d first: write the guard after the
    first character, `[0123456789](?<![A-Za-z.][0123456789])`) turns the two-character gate off,
    and the whole alternation is then entered at every position of every page (x4 the
    extraction time when it happened)."""
    from flows.context import period_scans
    from flows.lexicon import first_pairs

    ungated = [r.name for r in load_lexicon().period_rules if first_pairs(r.pattern) is None]
    assert ungated == []
    assert period_scans().starts is not None


def test_period_scan_compiles_no_pattern_per_document(monkeypatch):
    """Pages differ in which rules can match them (季, 半, 月 ...); a pattern compiled for each
    page's subset cost 5-8 ms, most of a fresh process's extraction time on real pages."""
    import re

    from flows.context import _period_matches, period_scans

    period_scans()  # the rules are compiled once per process, before the first page
    compiled = []
    real = re.compile
    monkeypatch.setattr(re, "compile", lambda *a, **k: compiled.append(a) or real(*a, **k))
    pages = ["截至2023年6月末，贷款余额1万亿元。", "2024年三季度末不良率1.2%。", "上半年净利润增长5%。",
             "今年前三季度营收下降2%，较年初增加3亿元。", "截至2022年末，客户数达7亿户。"]
    found = [[(x.span(), x.lastgroup) for x in _period_matches(p)] for p in pages]
    assert compiled == []
    assert all(found), found  # each page has a period phrase the scan finds


# ---------------------------------------------------------------- output equivalence guard
#
# Speed work on the extractor must not change what it extracts. tests/cases/equivalence.json.gz
# holds clean input texts (seeds, both holdouts, the cases above and 200 synthetic articles from
# benchmarks/bench.py, stored as text so the clean stage and the generator cannot move them)
# with a digest of extract_mentions' output for each. A deliberate rule change refreshes it:
#     .venv/bin/python -m tests.test_normalise --update-equivalence
# equivalence.stamp.json says which extractor recorded those digests (flows.lexicon's
# rules_fingerprint: the rule files and EXTRACTOR_VERSION) and hashes them. The refresh refuses to
# record other output under the same fingerprint, and a test fails when the digests differ from the
# stamp's: an extraction change without an EXTRACTOR_VERSION bump (or a rule edit) never passes,
# so loaded documents are always extracted again after one.

EQUIVALENCE = Path(__file__).parent / "cases" / "equivalence.json.gz"
STAMP = Path(__file__).parent / "cases" / "equivalence.stamp.json"


def _digest(mentions: list[Mention]) -> str:
    import dataclasses
    import hashlib
    import json

    rows = [dataclasses.asdict(m) for m in mentions]
    return hashlib.sha256(json.dumps(rows, default=str, ensure_ascii=False).encode()).hexdigest()


def _equivalence_ctx(doc: dict) -> DocContext:
    pub = date.fromisoformat(doc["published_at"]) if doc["published_at"] else None
    return DocContext(published_at=pub, published_precision=doc["precision"], entity=doc["entity"],
                      title=doc["title"], source=doc.get("source"), url=doc.get("url"))


def _equivalence_inputs() -> list[dict]:
    """Every input the guard covers, as plain dicts (for --update-equivalence)."""
    import sys
    import tempfile

    from tests.test_eval_seeds import seed_docs

    fixtures = Path(__file__).parent / "fixtures"
    sets = {"seed": seed_docs(), "holdout": seed_docs(fixtures / "holdout"),
            "holdout2": seed_docs(fixtures / "holdout2")}
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import bench

    with tempfile.TemporaryDirectory() as tmp:
        bench.generate(Path(tmp) / "raw", 200)
        sets["synthetic"] = seed_docs(Path(tmp) / "raw")
    sets["case"] = {f"{i:03d}_{c['name']}": (c["text"], _ctx(c)) for i, c in enumerate(CASES)}
    out = []
    for prefix, docs in sets.items():
        for stem, (text, ctx) in sorted(docs.items()):
            out.append({"name": f"{prefix}/{stem}", "text": text,
                        "published_at": ctx.published_at.isoformat() if ctx.published_at else None,
                        "precision": ctx.published_precision, "entity": ctx.entity, "title": ctx.title,
                        "source": ctx.source, "url": ctx.url})
    return out


def test_output_unchanged_on_frozen_inputs():
    import gzip
    import json

    docs = json.loads(gzip.decompress(EQUIVALENCE.read_bytes()).decode("utf-8"))
    assert len(docs) >= 250
    changed = [d["name"] for d in docs
               if _digest(extract_mentions(d["text"], _equivalence_ctx(d))) != d["digest"]]
    assert not changed, (f"extraction output changed on {len(changed)} of {len(docs)} frozen inputs "
                         f"(first: {changed[:5]}); if the change is meant, run "
                         f"`.venv/bin/python -m tests.test_normalise --update-equivalence` and bump "
                         f"flows.lexicon.EXTRACTOR_VERSION, so loaded documents are extracted again")


def outputs_hash(docs: list[dict]) -> str:
    """One hash of every frozen input's name, text and output digest."""
    import hashlib

    h = hashlib.sha256()
    for d in sorted(docs, key=lambda d: d["name"]):
        h.update("\0".join((d["name"], hashlib.sha256(d["text"].encode()).hexdigest(), d["digest"])).encode() + b"\n")
    return h.hexdigest()


def changed_outputs(old: list[dict], new: list[dict]) -> list[str]:
    """Names of the inputs `old` and `new` both hold, with the same text, whose digests differ."""
    before = {(d["name"], d["text"]): d["digest"] for d in old}
    return [d["name"] for d in new if before.get((d["name"], d["text"]), d["digest"]) != d["digest"]]


def _frozen() -> tuple[list[dict], dict]:
    import gzip
    import json

    return json.loads(gzip.decompress(EQUIVALENCE.read_bytes()).decode("utf-8")), json.loads(STAMP.read_text())


def test_frozen_outputs_change_only_with_the_extractor_version_or_the_rules():
    from flows.lexicon import EXTRACTOR_VERSION, rules_fingerprint

    docs, stamp = _frozen()
    refresh = "`.venv/bin/python -m tests.test_normalise --update-equivalence`"
    assert stamp["rules_fingerprint"] == rules_fingerprint(), (
        f"the frozen digests were recorded with EXTRACTOR_VERSION {stamp['extractor_version']} and other "
        f"rule files (fingerprint {stamp['rules_fingerprint']}, now {rules_fingerprint()}, version "
        f"{EXTRACTOR_VERSION}): run {refresh}")
    assert outputs_hash(docs) == stamp["outputs"], (
        f"{EQUIVALENCE.name} changed since {STAMP.name} was recorded, with the same rules and "
        f"EXTRACTOR_VERSION {EXTRACTOR_VERSION}: bump flows.lexicon.EXTRACTOR_VERSION (loaded documents are "
        f"then extracted again), then run {refresh}")


def test_the_guard_notices_a_changed_output():
    """The two checks above can fail: one changed digest changes the hash, and is named."""
    docs, _ = _frozen()
    edited = [dict(d) for d in docs]
    edited[7]["digest"] = "0" * 64
    assert outputs_hash(edited) != outputs_hash(docs)
    assert changed_outputs(docs, edited) == [docs[7]["name"]]
    added = docs + [{"name": "new/case", "text": "新", "digest": "1" * 64}]
    assert changed_outputs(docs, added) == [] and outputs_hash(added) != outputs_hash(docs)


def test_the_refresh_refuses_other_output_under_the_same_extractor(tmp_path, monkeypatch):
    import shutil

    import flows.lexicon
    import tests.test_normalise as me

    recorded = me._frozen()[1]
    for name in ("EQUIVALENCE", "STAMP"):
        copy = tmp_path / getattr(me, name).name
        shutil.copy(getattr(me, name), copy)
        monkeypatch.setattr(me, name, copy)
    real = me._digest
    monkeypatch.setattr(me, "_digest", lambda mentions: real(mentions[1:]))  # a code change: one mention fewer
    with pytest.raises(SystemExit, match="Bump flows.lexicon.EXTRACTOR_VERSION"):
        me.update_equivalence()
    assert me._frozen()[1] == recorded  # nothing written
    monkeypatch.setattr(flows.lexicon, "EXTRACTOR_VERSION", "bumped")
    monkeypatch.setattr(flows.lexicon, "rules_fingerprint", lambda: "fingerprint-after-the-bump")
    assert "bumped" in me.update_equivalence()
    docs, stamp = me._frozen()
    assert stamp["rules_fingerprint"] == "fingerprint-after-the-bump" and stamp["outputs"] == outputs_hash(docs)


def update_equivalence() -> str:
    """Record the frozen inputs' digests and the stamp; refuse to record other output under the
    stamp's own fingerprint (that needs an EXTRACTOR_VERSION bump first)."""
    import gzip
    import json

    from flows.lexicon import EXTRACTOR_VERSION, rules_fingerprint

    docs = _equivalence_inputs()
    for d in docs:
        d["digest"] = _digest(extract_mentions(d["text"], _equivalence_ctx(d)))
    if STAMP.exists() and EQUIVALENCE.exists():
        old, stamp = _frozen()
        changed = changed_outputs(old, docs)
        if stamp["rules_fingerprint"] == rules_fingerprint() and changed:
            raise SystemExit(
                f"extraction output changed on {len(changed)} frozen inputs (first: {changed[:3]}) while the "
                f"rule files and EXTRACTOR_VERSION ({EXTRACTOR_VERSION}) are the same: loaded documents would "
                "keep the old output. Bump flows.lexicon.EXTRACTOR_VERSION, then run this again.")
    EQUIVALENCE.write_bytes(gzip.compress(json.dumps(docs, ensure_ascii=False).encode("utf-8"), mtime=0))
    STAMP.write_text(json.dumps({"extractor_version": EXTRACTOR_VERSION, "rules_fingerprint": rules_fingerprint(),
                                 "outputs": outputs_hash(docs)}, indent=2) + "\n")
    return f"{len(docs)} inputs -> {EQUIVALENCE}, {STAMP.name} for {EXTRACTOR_VERSION} / {rules_fingerprint()}"


if __name__ == "__main__":
    import sys

    if sys.argv[1:] != ["--update-equivalence"]:
        sys.exit("usage: python -m tests.test_normalise --update-equivalence")
    print(update_equivalence())
