"""Traditional or Simplified script: detection and offset-preserving conversion.

Matching runs on a Simplified copy of the text while evidence offsets keep pointing into the
text as written, so the copy must have exactly the same length. OpenCC (the maintained
converter behind most Chinese NLP stacks) converts phrase by phrase and may change the length;
when it does, we convert character by character instead.
"""
from __future__ import annotations

import re
from functools import cache, lru_cache

import opencc

_HAN = re.compile(r"[\u4e00-\u9fff]")


@cache
def _converter() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


# Clean (script detection) and extract convert the same document text: convert it once.
@lru_cache(maxsize=8)
def to_simplified(text: str) -> str:
    """Simplified copy of `text` with the same length (offsets map one to one)."""
    conv = _converter().convert(text)
    if len(conv) == len(text):
        return conv
    convert = _converter().convert
    return "".join(c if len(c := convert(ch)) == 1 else ch for ch in text)


def detect_script(text: str) -> str:
    """'traditional' when a noticeable share of the Han characters change under t2s."""
    sample = text[:20000]
    conv = to_simplified(sample)
    if conv == sample:
        return "simplified"
    changed = sum(1 for a, b in zip(sample, conv) if a != b)
    han = len(_HAN.findall(sample))
    return "traditional" if han and changed >= max(3, 0.03 * han) else "simplified"
