"""References complete by rule (papergen.publish.references) on small .bib files and on the study's."""
from __future__ import annotations

from conftest import ROOT
from papergen.publish import references

BIB = """@article{full,
  author = {A, B and C, D}, title = {T}, journal = {Journal of X}, shortjournal = {J X},
  year = {2020}, volume = {1}, pages = {1--2}, doi = {10.1/x}, pmid = {123}
}
@article{gaps,
  author = {E, F and others}, title = {T}, journal = {Journal of Y}, year = {2020}, doi = {10.1/y}
}
@article{explained,
  author = {G, H}, title = {T}, journal = {Journal of Z}, shortjournal = {J Z}, year = {2020}, pmid = {456},
  doi_reason = {a 1958 article without a DOI}
}
"""


def test_each_entry_lacking_a_field_without_a_reason_is_named(tmp_path):
    bib = tmp_path / "r.bib"
    bib.write_text(BIB, encoding="utf-8")
    assert references.gaps(bib, ["doi", "pmid", "all_authors", "nlm_abbreviation"]) == {
        "gaps": ["PMID", "all authors", "NLM journal abbreviation"]}
    assert references.reasons(bib)["explained"] == {"doi": "a 1958 article without a DOI"}


def test_the_study_bibliography_is_complete_or_explained():
    bib = ROOT / "study" / "references.bib"
    assert references.gaps(bib, list(references.CHECKS)) == {}
    stated = references.reasons(bib)
    assert set(stated["dasari2017"]) == {"pmid", "doi"} and set(stated["taner2013"]) == {"all_authors"}


def test_the_bibliography_kept_between_builds_follows_its_content(tmp_path):
    """entries() with a folder of the build cache: pandoc's reading is kept by the file's content, so an edit of
    the .bib is read again and a kept reading is what pandoc gives."""
    bib, kept = tmp_path / "r.bib", tmp_path / "kept"
    kept.mkdir()
    bib.write_text(BIB, encoding="utf-8")
    first = references.entries(bib, kept)
    assert first == references.entries(bib) and len(list(kept.iterdir())) == 1
    references._csl_json.cache_clear()  # a new process: the kept file is read, not pandoc's output
    assert references.entries(bib, kept) == first
    bib.write_text(BIB.replace("pmid = {123}", "pmid = {789}"), encoding="utf-8")
    assert [e.get("PMID") for e in references.entries(bib, kept)][0] == "789"
    assert len(list(kept.iterdir())) == 2
