"""The review edition as a file: self-contained, every number marked and traced, the journal files clean.

(tests/trace/test_review_browser.py clicks through it in a real Chromium.)
"""
from __future__ import annotations

import base64
import html
import json
import zipfile

import pytest
from lxml import html as lhtml

from conftest import ROOT, pdf_text


@pytest.fixture(scope="module")
def page(built):
    text = built.outputs.review.read_text(encoding="utf-8")
    return text, lhtml.fromstring(text)


@pytest.fixture(scope="module")
def ledger(built):
    return json.loads(built.outputs.ledger.read_text(encoding="utf-8"))


def test_self_contained_and_offline(page, built):
    text, doc = page
    csp = doc.xpath('//meta[@http-equiv="Content-Security-Policy"]/@content')
    assert csp and "default-src 'none'" in csp[0]
    assert not doc.xpath("//link") and not doc.xpath("//script[@src]") and not doc.xpath("//iframe")
    assert "@import" not in text and "url(http" not in text
    images = doc.xpath("//img/@src")
    assert len(images) == 2 and all(src.startswith("data:image/png;base64,") for src in images)
    first = base64.b64decode(images[0].split(",", 1)[1])
    assert first == (built.outputs.figures / "os.png").read_bytes()


def test_every_printed_value_is_marked_with_its_printed_text(page, ledger):
    _, doc = page
    values = ledger["values"]
    spans = doc.xpath('//main//span[contains(concat(" ", @class, " "), " pg-value ")]')
    assert len(spans) > 100
    marked: dict[str, list[str]] = {}
    for s in spans:
        shown = s.text_content().replace("\u2019", "'")  # pandoc's smart apostrophe
        marked.setdefault(s.get("data-key"), []).append(" ".join(shown.split()))
    assert set(marked) <= set(values), set(marked) - set(values)
    for key, e in values.items():
        printed = {" ".join(html.unescape(p["printed"]).split()) for p in e["places"]}
        assert bool(marked.get(key)) == bool(e["places"]), key
        assert set(marked.get(key, [])) <= printed, (key, marked.get(key), printed)


def test_whole_manuscript_with_tables_legends_and_references(page):
    text, doc = page
    headings = [" ".join(h.text_content().split()) for h in doc.xpath("//main//h1")]
    for section in ("Abstract", "INTRODUCTION", "RESULTS", "DISCUSSION", "REFERENCES", "Figure legends"):
        assert section in headings, section
    assert len(doc.xpath("//main//table")) == 2
    caption = doc.xpath("//main//figcaption")[0]
    assert caption.get("aria-hidden") is None
    assert caption.xpath('.//span[@data-key="os.mean"]')
    assert len(doc.xpath('//div[@id="refs"]//div[contains(@class, "csl-entry")]')) >= 20
    at_risk = doc.xpath('//div[contains(@class, "pg-at-risk")]//span/@data-key')
    assert "figure.os.at_risk.overall_survival.m12" in at_risk


def test_index_card_and_ledger_are_embedded(page, ledger):
    _, doc = page
    embedded = json.loads(doc.xpath('//script[@id="pg-ledger"]')[0].text)
    assert embedded == ledger
    cards = json.loads(doc.xpath('//script[@id="pg-cards"]')[0].text)
    assert set(cards) == set(ledger["values"])
    assert "data/patients.csv" in cards["os.mean"] and "src/papergen/analysis/statistics.py:" in cards["os.mean"]
    items = doc.xpath('//aside[@id="pg-index"]//li/@data-key')
    assert sorted(items) == sorted(ledger["values"])
    assert doc.xpath('//input[@id="pg-search"]') and doc.xpath('//label[@for="pg-search"]')


def test_docx_and_pdf_stay_clean(built):
    with zipfile.ZipFile(built.outputs.docx) as z:
        xml = z.read("word/document.xml").decode("utf-8")
    for marker in ("pg-value", "data-key", "pg-at-risk"):
        assert marker not in xml
        assert marker not in pdf_text(built.outputs.pdf)


def test_html_kept_block_by_block_equals_pandoc_on_the_whole(built, tmp_path):
    """block_html (the build's way, with the cache) gives the bytes pandoc gives for the whole document, and after
    an edit of one paragraph converts that paragraph alone."""
    from papergen.publish.document import read_manuscript
    from papergen.study import Study
    from papergen.trace.review import block_html, to_html_fragment, with_at_risk_rows

    st = Study(ROOT)
    ast = read_manuscript(built.outputs.markdown, tmp_path / "ast.json", bibliography=st.paths.bibliography,
                          csl=st.citation_style)
    values = json.loads(built.outputs.ledger.read_text(encoding="utf-8"))["values"]
    ast = with_at_risk_rows(ast, values)
    out, kept = tmp_path / "x.review.html", tmp_path / "blocks"
    kept.mkdir()
    whole = to_html_fragment(ast, out, resource_path=built.outputs.dir)
    assert block_html(ast, out, resource_path=built.outputs.dir, kept=kept) == whole
    files = {p.name: p.stat().st_mtime_ns for p in kept.iterdir()}
    assert len(files) == len({json.dumps(b, sort_keys=True) for b in ast["blocks"]})
    i = next(i for i, b in enumerate(ast["blocks"]) if b["t"] == "Para")
    edited = {**ast, "blocks": [*ast["blocks"][:i], {"t": "Para", "c": [{"t": "Str", "c": "Edited."}]},
                                *ast["blocks"][i + 1:]]}
    again = block_html(edited, out, resource_path=built.outputs.dir, kept=kept)
    assert again == to_html_fragment(edited, out, resource_path=built.outputs.dir)
    now = {p.name: p.stat().st_mtime_ns for p in kept.iterdir()}
    assert len(set(now) - set(files)) == 1 and all(now[k] == files[k] for k in set(now) & set(files))
    noted = {**ast, "blocks": [{"t": "Para", "c": [{"t": "Str", "c": "A"},
                                                   {"t": "Note", "c": [{"t": "Para", "c": [{"t": "Str", "c": "n"}]}]}]},
                               *ast["blocks"][:3]]}
    assert block_html(noted, out, resource_path=built.outputs.dir, kept=kept) == \
        to_html_fragment(noted, out, resource_path=built.outputs.dir)


# --- issue 15 item 6: a template's markup cannot run in the page ------------------------------------

def test_only_papergens_script_may_run_by_its_hash(page):
    import hashlib
    import re

    text, doc = page
    csp = doc.xpath('//meta[@http-equiv="Content-Security-Policy"]/@content')[0]
    scripts = [s for s in doc.xpath("//script") if not s.get("type")]
    assert len(scripts) == 1
    digest = base64.b64encode(hashlib.sha256(scripts[0].text.encode("utf-8")).digest()).decode("ascii")
    assert re.search(r"script-src 'sha256-([^']+)'", csp)[1] == digest and "unsafe-inline'; base" not in csp
    assert "script-src 'unsafe" not in csp


def test_raw_html_handlers_and_script_links_are_made_harmless():
    from papergen.publish.pandoc import pandoc_path
    from papergen.trace.review import safe_ast
    import subprocess

    source = ('<script>alert(true)</script>\n\nA <b onclick="x()">tag</b>, <!-- note -->, '
              '[span]{#s onclick="x()" onmouseover="y()" data-key="k" .c}, [bad](javascript:x()), '
              '[odd]( JavaScript:x()), [good](https://example.org), [in page](#refs), '
              '![fig](figures/os.png){onerror="x()" width=50%}.\n')
    ast = json.loads(subprocess.run([str(pandoc_path()), "--from=markdown", "--to=json"], input=source.encode(),
                                    capture_output=True, check=True).stdout)
    safe = json.dumps(safe_ast(ast))
    assert '"RawBlock"' not in safe and '"RawInline"' not in safe and "note" not in safe
    assert '"Code", "c": [["", ["pg-raw"], []], "<b onclick=\\"x()\\">"]' in safe  # shown, not run
    assert "onclick" not in safe.replace('<b onclick=\\"x()\\">', "") and "onmouseover" not in safe
    assert "onerror" not in safe and '["data-key", "k"]' in safe and '["width", "50%"]' in safe
    assert "javascript" not in safe.lower() and "https://example.org" in safe and '"#refs"' in safe


def test_blocks_left_unwalked_are_those_the_walk_leaves_as_they_are(built):
    """safe_ast() skips the walk for a block whose JSON shows nothing it could change; with or without that
    shortcut, the study's manuscript and a block of each kind it must change come out the same."""
    from papergen.publish.pandoc import pandoc_path
    from papergen.trace.review import _safe, safe_ast
    import subprocess

    source = ('Plain [x]{.pg-value data-key="a"} text.\n\n<!-- a comment block -->\n\n'
              'A [link](https://e.org).\n\n[s]{ONLOAD="x()"}\n\n![f](f.png){src="y"}\n\n'
              '::: {.c onclick="x()"}\ninside\n:::\n\nThe words "t": "Link" and on in text.\n')
    read = lambda text: json.loads(subprocess.run([str(pandoc_path()), "--from=markdown", "--to=json"],  # noqa: E731
                                                  input=text.encode(), capture_output=True, check=True).stdout)
    ast = read(source)
    for doc in (ast, read(built.outputs.markdown.read_text(encoding="utf-8"))):
        assert safe_ast(doc) == {**doc, "blocks": _safe(doc["blocks"])}
    assert len(safe_ast(ast)["blocks"]) == len(ast["blocks"]) - 1  # the comment block dropped
