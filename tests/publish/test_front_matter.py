"""Title page statements (papergen.publish.front_matter) from the profile and study.yaml."""
from __future__ import annotations

import yaml

from conftest import copy_study
from papergen.publish import front_matter
from papergen.study import Study

PROFILE = {"title_page": {"required": [{"key": "orcid", "label": "ORCID number"},
                                       {"key": "funding", "label": "Supported by"},
                                       {"key": "biostatistics", "label": "Biostatistics statement"}]}}


def test_missing_unprinted_and_placeholder_statements(tmp_path):
    root = copy_study(tmp_path / "s")
    settings = root / "study" / "study.yaml"
    data = yaml.safe_load(settings.read_text(encoding="utf-8"))
    del data["statements"]["biostatistics"]
    settings.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    rows = front_matter.rows(Study(root), PROFILE, {"ORCID number"})
    assert rows[0] == ("title page", "3 statements",
                       "no Biostatistics statement in study.yaml statements; Supported by not printed", False, "error")
    assert rows[1][:4] == ("authors' statements", "written by the authors", "placeholder: ORCID number", False)
    assert rows[1][4] == "advisory"
