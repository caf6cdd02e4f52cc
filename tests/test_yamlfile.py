"""papergen.yamlfile: aliases, merge keys and duplicate keys refused with file:line:column; key lines kept."""
from __future__ import annotations

import time

import pytest

from papergen.errors import CodebookError, PapergenError
from papergen.yamlfile import Mapping, line_of, read_yaml


def _read(tmp_path, text: str, error=PapergenError):
    path = tmp_path / "some.yaml"
    path.write_text(text, encoding="utf-8")
    return read_yaml(path, "data/some.yaml", error)


def test_mappings_keep_the_line_of_each_key(tmp_path):
    data = _read(tmp_path, "a: 1\nb:\n  c: [1, 2]\n  d: {e: f}\n")
    assert data == {"a": 1, "b": {"c": [1, 2], "d": {"e": "f"}}}
    assert isinstance(data, Mapping) and isinstance(data["b"]["d"], Mapping)
    assert (line_of(data, "a"), line_of(data, "b"), line_of(data["b"], "d"), line_of(data["b"])) == (1, 2, 4, 3)
    assert line_of(data, "missing") == 1 and line_of([1], "a") is None


def test_an_alias_bomb_is_refused_at_once_naming_the_alias(tmp_path):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(8))
    t0 = time.perf_counter()
    with pytest.raises(CodebookError) as exc:
        _read(tmp_path, bomb, CodebookError)
    assert time.perf_counter() - t0 < 1
    assert str(exc.value).startswith("data/some.yaml:2:8: YAML aliases (*a) and merge keys are not allowed")


@pytest.mark.parametrize("text, where", [
    ("base: &b {x: 1}\nother:\n  <<: *b\n  y: 2\n", "3:7"),   # a merge key brings an alias in
    ("a: &a [1, *a]\n", "1:11"),                               # a recursive alias
    ("a: &s text\nb: *s\n", "2:4"),                            # an alias of a plain value
])
def test_every_alias_is_refused(tmp_path, text, where):
    with pytest.raises(PapergenError, match=f"^data/some.yaml:{where}: YAML aliases"):
        _read(tmp_path, text)


def test_an_unused_anchor_is_harmless(tmp_path):
    assert _read(tmp_path, "a: &a [1, 2]\nb: 3\n") == {"a": [1, 2], "b": 3}


@pytest.mark.parametrize("text, message", [
    ("files:\n  p:\n    age: {min: 18}\n    sex: {}\n    age: {}\n",
     "data/some.yaml:5:5: not valid YAML: duplicate key 'age' (first at line 3)"),
    ("x: {a: 1, b: 2, a: 3}\n", "data/some.yaml:1:17: not valid YAML: duplicate key 'a' (first at line 1)"),
    ("a: [1, 2\nb: 3\n", "data/some.yaml:2:2: not valid YAML: did not find expected ',' or ']'"),
    ("d: 2015-13-01\n", "data/some.yaml:1:4: not valid YAML: an unquoted date is impossible"),
    ("a: !!python/object:os.system x\n", "data/some.yaml:1:4: not valid YAML: could not determine a constructor"),
    ("a: \x07\n", "data/some.yaml:1: not valid YAML: unacceptable character #x0007"),
])
def test_mistakes_are_one_line_with_line_and_column(tmp_path, text, message):
    with pytest.raises(PapergenError) as exc:
        _read(tmp_path, text)
    assert str(exc.value).startswith(message) and "\n" not in str(exc.value)
