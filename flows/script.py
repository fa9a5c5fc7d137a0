"""Traditional or Simplified script: detection and offset-preserving conversion.

Matching runs on a Simplified copy of the text while evidence offsets keep pointing into the
text as written, so the copy must have exactly the same length. OpenCC (the maintained
converter behind most Chinese NLP stacks) converts phrase by phrase and may change the length;
when it does, we convert character by character instead.
"""
from __future__ import annotations

import math
import re
from functools import cache, lru_cache

import opencc

# High bytes of the UTF-16 code units of U+4E00-U+9FFF (see `_han_count`).
_HAN_HIGH_BYTES = bytes(range(0x4E, 0xA0))


@cache
def _converter() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


# Clean (script detection) and extract convert the same document text: convert it once.
@lru_cache(maxsize=8)
def to_simplified(text: str) -> str:
    """Simplified copy of `text` with the same length (offsets map one to one)."""
    return _converted(text)


# Subjects recur across documents (净利润, 营业收入): each short phrase is converted once.
@lru_cache(maxsize=4096)
def phrase_to_simplified(phrase: str) -> str:
    """`to_simplified` for a short phrase (a subject as phrased), memoised apart from the
    documents so that these do not push each other out."""
    return _converted(phrase)


# The blocks whose characters t2s may change (CJK radicals and symbols, Han, compatibility
# ideographs, compatibility forms, full-width forms): every BMP character it changes lies in them.
_CONVERTIBLE_BLOCKS = ((0x2E80, 0x2FDF), (0x3000, 0x303F), (0x3400, 0x4DBF), (0x4E00, 0x9FFF),
                       (0xF900, 0xFAFF), (0xFE30, 0xFE4F), (0xFF00, 0xFFEF))


@cache
def _changed_chars() -> re.Pattern:
    """One character class of the BMP characters t2s changes on their own (about 4,200): a text
    without any (and without characters beyond the BMP) is already Simplified; a search for them
    costs a quarter of a conversion. Built with one conversion of all the blocks."""
    chars = [chr(i) for a, b in _CONVERTIBLE_BLOCKS for i in range(a, b + 1)]
    out = _converter().convert("\n".join(chars)).split("\n")
    if len(out) != len(chars):  # a converter that joins lines: never skip it
        return re.compile(r"[\s\S]")
    # ... and any character beyond the BMP (not looked at: converted as before)
    return re.compile("[" + "".join(re.escape(a) for a, b in zip(chars, out) if a != b) + "\U00010000-\U0010ffff]")


def _converted(text: str) -> str:
    if _changed_chars().search(text) is None:
        return text  # Simplified already (a phrase of characters that each stay is left as it is)
    conv = _converter().convert(text)
    if len(conv) == len(text):
        return conv
    convert = _converter().convert
    return "".join(c if len(c := convert(ch)) == 1 else ch for ch in text)


def _han_count(text: str) -> int:
    """How many characters of U+4E00-U+9FFF `text` holds, without listing them (40x faster than
    counting regex matches).

    In UTF-16 a character of U+4E00-U+9FFF is a single code unit whose high byte is 0x4E-0x9F;
    no other code unit has such a high byte (surrogates have 0xD8-0xDF).
    """
    high = text.encode("utf-16-le", "surrogatepass")[1::2]
    return len(high) - len(high.translate(None, _HAN_HIGH_BYTES))


def detect_script(text: str) -> str:
    """'traditional' when a noticeable share of the Han characters change under t2s."""
    sample = text[:20000]
    conv = to_simplified(sample)
    if conv == sample:
        return "simplified"
    han = _han_count(sample)
    if not han:
        return "simplified"
    # Count changed characters only up to the threshold: a Traditional text gets there early.
    needed = math.ceil(max(3, 0.03 * han))
    changed = 0
    for a, b in zip(sample, conv):
        if a != b:
            changed += 1
            if changed >= needed:
                return "traditional"
    return "simplified"
