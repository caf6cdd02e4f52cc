"""Sentences around printed values: splitting, block syntax, and the contexts stored in ledger places."""
from __future__ import annotations

from papergen.write.sentences import attach_contexts, occurrences, plain, sentences, unit_text


def span(text: str, key: str, at: int | None = None) -> str:
    extra = f' data-pg-at="{at}"' if at is not None else ""
    return f'[{text}]{{.pg-value data-key="{key}"{extra}}}'


def test_abbreviations_do_not_end_a_sentence_and_values_stay_whole():
    md = (f"As Zhang JZ et al. reported, the mean was {span('34.1 ± 3.7 months', 'os.mean')}. "
          f"Approval No. {span('2020PHB334-01', 'study.irb')} was given by {span('Zhang JZ et al. Ablation', 't')}. "
          "Done.")
    assert sentences(md) == (
        f"As Zhang JZ et al. reported, the mean was {span('34.1 ± 3.7 months', 'os.mean')}.",
        f"Approval No. {span('2020PHB334-01', 'study.irb')} was given by {span('Zhang JZ et al. Ablation', 't')}.",
        "Done.")


def test_block_syntax_is_removed_from_a_unit():
    assert unit_text(f"| Age, yr | {span('56 (38–72)', 'age')} |") == f"Age, yr: {span('56 (38–72)', 'age')}"
    assert unit_text("## Survival {#sec-survival}") == "Survival"
    assert unit_text(f"![{span('Figure 1', 'ref')} Curve.](figures/os.png){{width=100%}}") == f"{span('Figure 1', 'ref')} Curve."
    assert unit_text(f": {span('Table 1', 'ref')} Baseline") == f"{span('Table 1', 'ref')} Baseline"


def test_plain_text_drops_markup_and_citations():
    assert plain(r"earlier[@yao2008; @dasari2017]. \*x **bold** [a]{.smallcaps} [link](http://x)") == "earlier. *x bold a link"
    assert plain(span(r"a\*b \[c\]", "x")) == "a*b [c]"


def test_each_place_keeps_its_sentences_and_the_indexes_are_removed():
    places = [{"template": "r.j2", "line": 3, "section": "Results"}, {"template": "t", "line": 0, "section": "Table 1"}]
    doc = (f"# RESULTS\n\nIntro here. {span('Eleven patients', 'n', 0)} were treated. Then more. "
           f"Of {span('11', 'n', 0)}, all lived.\n\n"
           f"| Characteristic | {span('n = 11', 'n', 1)} |\n|:---|:---|\n| Age | 56 |\n")
    out = attach_contexts(doc, places)
    assert "data-pg-at" not in out and out == doc.replace(' data-pg-at="0"', "").replace(' data-pg-at="1"', "")
    assert places[0]["context"] == "Eleven patients were treated. Of 11, all lived."
    assert places[0]["context_md"] == f"{span('Eleven patients', 'n')} were treated. Of {span('11', 'n')}, all lived."
    assert places[1]["context"] == "Characteristic: n = 11"
    assert [(o.key, o.printed) for o in occurrences(out)] == [("n", "Eleven patients"), ("n", "11"), ("n", "n = 11")]


def test_pieces_are_the_segments_with_plain_characters_joined(built):
    """pieces() (the change report's words) shows what segments() shows, value by value, for every paragraph."""
    from itertools import groupby

    from papergen.write.sentences import pieces, segments

    text = built.outputs.markdown.read_text(encoding="utf-8")
    text += '\nA *b* [c](d) [e]{.x} \\* [@f] [g\\]]{.pg-value data-key="k" data-pg-at="3"} end'
    for paragraph in text.split("\n\n"):
        joined = [("".join(s.text for s in group), key, place) for (key, place), group
                  in groupby(segments(paragraph), key=lambda s: (s.key, s.place) if s.key else (None, None))]
        merged = []
        for piece in pieces(paragraph):
            if merged and piece[1] is None and merged[-1][1] is None:
                merged[-1] = (merged[-1][0] + piece[0], None, None)
            else:
                merged.append(piece)
        assert [p for p in merged if p != ("", None, None)] == [j for j in joined if j != ("", None, None)]
