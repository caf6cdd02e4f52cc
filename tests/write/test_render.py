"""Rendering: values are marked and their places recorded; bare numbers and unsafe access refused."""
from __future__ import annotations

import pytest

from papergen.errors import TemplateError
from papergen.write.render import Renderer
from papergen.values import Registry, Value


@pytest.fixture
def setup(tmp_path):
    r = Registry()
    r.add(Value(key="os.mean", text="34.1 ± 3.7", exact={"mean": 34.1}, parts={"se": "3.7"}))
    r.add(Value(key="n_patients", text="11", exact={"n": 11, "of": 11}, count=11))
    tree = r.tree()
    ctx = {name: getattr(tree, name) for name in dir(tree)}
    return tmp_path, Renderer(tmp_path, {"results.md.j2": "Results"}), ctx, r


def render(setup, text):
    tmp, renderer, ctx, _ = setup
    (tmp / "results.md.j2").write_text(text, encoding="utf-8")
    return renderer.render("results.md.j2", ctx)


def test_value_is_marked_and_its_place_recorded(setup):
    out = render(setup, "Intro.\n\nMean was {{ os.mean }}; SE {{ os.mean.part('se') }}.\n")
    assert out == ('Intro.\n\nMean was [34.1 ± 3.7]{.pg-value data-key="os.mean"}; '
                   'SE [3.7]{.pg-value data-key="os.mean"}.\n')
    assert setup[3]["os.mean"].places == [  # one place per text printed on the line
        {"template": "results.md.j2", "line": 3, "section": "Results", "printed": "34.1 ± 3.7"},
        {"template": "results.md.j2", "line": 3, "section": "Results", "printed": "3.7"}]


def test_sentence_start_words(setup):
    assert render(setup, "{{ n_patients.phrase('patient', start=True) }} were treated.").startswith(
        "[Eleven patients]{.pg-value")


def test_bare_number_is_refused_with_template_line(setup):
    with pytest.raises(TemplateError, match=r"results.md.j2:2: template prints a bare number \(34.1\)"):
        render(setup, "ok\n{{ 34.1 }}\n")


def test_undefined_name_names_line_and_closest(setup):
    with pytest.raises(TemplateError, match=r"results.md.j2:1: no value or name 'maen'; closest known names: mean"):
        render(setup, "{{ os.maen }}")


def test_python_internals_are_refused(setup):
    with pytest.raises(TemplateError):
        render(setup, "{{ os.mean.__class__.__mro__ }}")


def test_markdown_specials_in_values_are_escaped(tmp_path):
    r = Registry()
    r.add(Value(key="x", text="a*b [c]", exact={}))
    ren = Renderer(tmp_path, {})
    (tmp_path / "t.j2").write_text("{{ x }}")
    assert ren.render("t.j2", {"x": r["x"]}) == '[a\\*b \\[c\\]]{.pg-value data-key="x"}'


def test_pandoc_identifiers_are_not_jinja_comments(setup):
    assert render(setup, "::: {#refs}\n:::\n{## a comment ##}") == "::: {#refs}\n:::\n"


def test_a_house_style_with_italic_p_sets_the_label_in_italics(tmp_path):
    from papergen.formatting import house

    (tmp_path / "results.md.j2").write_text("Compared ({{ p }}; {{ q }}).\n", encoding="utf-8")
    values = {"p": Value(key="p", text="P < 0.001", exact={"p": 0.0001}),
              "q": Value(key="q", text="HR 0.7; P = 0.02", exact={"p": 0.02})}
    plain = Renderer(tmp_path, {"results.md.j2": "Results"}).render("results.md.j2", values)
    assert "*P*" not in plain
    italic = Renderer(tmp_path, {"results.md.j2": "Results"}, house=house.shipped("jama")).render("results.md.j2", values)
    assert italic == ('Compared ([*P* \\< 0.001]{.pg-value data-key="p"}; '
                      '[HR 0.7; *P* = 0.02]{.pg-value data-key="q"}).\n')
    assert values["q"].text == "HR 0.7; P = 0.02"  # the ledger keeps the plain text
