"""flows.script: the Simplified copy keeps every offset, and skipping OpenCC for a text that is
Simplified already changes nothing."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from flows import script

# Han characters both scripts share, Traditional ones t2s changes, ASCII, digits, punctuation,
# full-width forms and characters beyond the BMP
_ALPHABET = st.sampled_from(list("工商银行资产净利润客户亿元万截至末年月日增长") + list("銀資產淨潤戶億萬較於乾著台後")
                            + list("abc XYZ0123456789.,%") + list("，。、；：（）【】％０１２") + ["𠀀", "\U0002a6a5"])


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=_ALPHABET, max_size=60))
def test_simplified_copy_is_opencc_wherever_it_keeps_the_length(text):
    conv = script._converter().convert(text)
    got = script._converted(text)
    assert len(got) == len(text)
    if len(conv) == len(text):
        assert got == conv


def test_a_simplified_text_is_returned_as_it_is_without_converting(monkeypatch):
    calls = []
    real = script._converter()

    class Spy:
        def convert(self, text):
            calls.append(text)
            return real.convert(text)

    script._changed_chars()  # built with the real converter
    monkeypatch.setattr(script, "_converter", lambda: Spy())
    text = "截至2025年6月末，工商银行个人客户数达7.55亿户，较年初增加超1400万户。"
    assert script._converted(text) == text
    assert calls == []
    assert script._converted("工商銀行") == "工商银行"  # a Traditional character: converted
    assert calls == ["工商銀行"]
    assert script._converted("客户𠀀") == "客户𠀀"  # beyond the BMP: handed to OpenCC
    assert calls[-1] == "客户𠀀"


def test_every_character_t2s_changes_is_in_the_class():
    # the blocks cover the changes: sample the whole BMP outside them
    outside = [chr(i) for i in range(0x80, 0xD800)
               if not any(a <= i <= b for a, b in script._CONVERTIBLE_BLOCKS)]
    out = script._converter().convert("\n".join(outside)).split("\n")
    assert [a for a, b in zip(outside, out) if a != b] == []
