"""Character-offset opcodes of two texts, paragraphs then words then characters."""
from __future__ import annotations

from papergen.trace.textdiff import opcodes


def _apply(a: str, b: str, ops) -> str:
    """Rebuild ``b`` from ``a`` and the opcodes: they must cover both texts, in order."""
    out, ai, bi = [], 0, 0
    for op, a1, a2, b1, b2 in ops:
        assert (a1, b1) == (ai, bi)
        out.append(a[a1:a2] if op == "equal" else b[b1:b2])
        ai, bi = a2, b2
    assert (ai, bi) == (len(a), len(b))
    return "".join(out)


def test_opcodes_cover_both_texts_and_rebuild_the_second():
    a = "First paragraph stays.\nThe mean was 34.1 months.\nA deleted paragraph.\nLast one."
    b = "First paragraph stays.\nThe mean was 35.0 months here.\nLast one.\nAn added one."
    for chars in (0, 40):
        assert _apply(a, b, opcodes(a, b, chars=chars)) == b


def test_words_differ_inside_a_paragraph_and_characters_when_asked():
    a, b = "The mean was 34.1 months.", "The mean was 35.1 months."
    words = [o for o in opcodes(a, b) if o[0] != "equal"]
    assert [(a[o[1]:o[2]], b[o[3]:o[4]]) for o in words] == [("34", "35")]
    chars = [o for o in opcodes(a, b, chars=40) if o[0] != "equal"]
    assert [(a[o[1]:o[2]], b[o[3]:o[4]]) for o in chars] == [("4", "5")]


def test_kept_paragraph_alignments_give_the_same_opcodes():
    """With a memo (what a build keeps for the next), the opcodes are those computed afresh, at any offsets, and
    only the paragraphs that differ in a new way are added to it."""
    a = "Intro stays.\nThe mean was 34.1 months [1].\nMiddle.\nThe median was 8 months.\nEnd."
    b = "Intro stays.\nThe mean was 34.1 months 1.\nMiddle.\nThe median was 9 (2 to 51) months.\nEnd.\nRefs."
    memo: dict = {}
    for chars in (0, 40):
        assert opcodes(a, b, chars=chars, memo=memo) == opcodes(a, b, chars=chars)
    assert len(memo) == 4  # two stretches that differ, at two character settings
    edited_a, edited_b = "A new first paragraph.\n" + a, "A new first paragraph, in Word.\n" + b
    fresh = opcodes(edited_a, edited_b, chars=40)
    assert opcodes(edited_a, edited_b, chars=40, memo=memo) == fresh  # the kept stretches, shifted
    assert _apply(edited_a, edited_b, fresh) == edited_b
    assert len(memo) == 5
    assert opcodes(a, b, chars=40, memo={k: [["equal", 0, 1, 0, 1]] for k in memo}) != opcodes(a, b, chars=40)
