"""Every YAML file a study gives papergen, read one safe way: no aliases, no duplicate keys, key lines kept.

study.yaml, codebook.yaml, journal.yaml and the bundled checklists all go
through ``read_yaml``. YAML's aliases (``*name``) can make a few lines expand
to gigabytes (an "alias bomb"), and a key written twice silently keeps only the
last (a column's range check vanished that way), so both are refused with one
line naming the file and line. Each mapping is a ``Mapping``: a dict that also
knows the line of each key, so later checks (a codebook's ``min`` above its
``max``) can name the line too. The C parser of libyaml is used when PyYAML has
it (ten times faster); only the construction of Python objects is overridden.
"""
from __future__ import annotations

from pathlib import Path

import yaml
from yaml.constructor import ConstructorError

from papergen.errors import PapergenError, shown_value

_BASE = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MAP_TAG = "tag:yaml.org,2002:map"


class Mapping(dict):
    """A YAML mapping: a dict, plus ``line`` (where it starts) and ``lines`` (key -> line of the key), 1-based."""

    line: int | None = None
    lines: dict = {}

    def line_of(self, key=None) -> int | None:
        """The line of ``key`` (or of the mapping itself, when the key is absent or None)."""
        return self.lines.get(key, self.line) if key is not None else self.line


def line_of(mapping, key=None) -> int | None:
    """The line of ``key`` in a mapping read by read_yaml; None for any other object."""
    return mapping.line_of(key) if isinstance(mapping, Mapping) else None


class _Loader(_BASE):
    """SafeLoader that refuses aliases and duplicate keys and returns Mappings."""

    def construct_object(self, node, deep=False):
        if node in self.constructed_objects or node in self.recursive_objects:
            # the composer hands an alias over as the anchored node itself: a second use of a node is an alias
            raise _AliasUsed(node)
        return super().construct_object(node, deep=deep)

    def construct_mapping(self, node, deep=False):
        if not isinstance(node, yaml.MappingNode):
            raise ConstructorError(None, None, f"expected a mapping, found {node.id}", node.start_mark)
        out, lines = Mapping(), {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise _AliasUsed(value_node)  # "<<: *base" merges an alias in
            key = self.construct_object(key_node, deep=deep)
            try:
                hash(key)
            except TypeError:
                raise ConstructorError(None, None, "a mapping key must be a plain value", key_node.start_mark) from None
            line = key_node.start_mark.line + 1
            if key in lines:
                raise ConstructorError(
                    None, None, f"duplicate key {shown_value(key)} (first at line {lines[key]}); YAML keeps only the "
                    "last one, so the first would be lost: remove or rename one", key_node.start_mark)
            lines[key] = line
            out[key] = self.construct_object(value_node, deep=deep)
        out.lines, out.line = lines, node.start_mark.line + 1
        return out

    def construct_yaml_map(self, node):
        data = Mapping()
        yield data
        value = self.construct_mapping(node)
        data.update(value)
        data.lines, data.line = value.lines, value.line

    def construct_yaml_timestamp(self, node):
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError as exc:  # 2015-13-01 looks like a date to YAML, and fails
            raise ConstructorError(None, None, f"an unquoted date is impossible ({exc}); write dates in quotes, "
                                   "'YYYY-MM-DD'", node.start_mark) from None


_Loader.add_constructor(MAP_TAG, _Loader.construct_yaml_map)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)


class _AliasUsed(Exception):
    """A node used a second time: the file has an alias (``*name``) or a merge key (``<<``)."""

    def __init__(self, node):
        super().__init__("alias")
        self.node = node


def read_yaml(path: Path, shown: str | None = None, error: type[PapergenError] = PapergenError):
    """The YAML file at ``path`` as Python objects (mappings as ``Mapping``), or ``error`` in one line.

    The line is "SHOWN:LINE:COLUMN: problem" for a syntax error, an alias, a
    duplicate key or an impossible date; ``shown`` is the path as the author sees
    it (default: ``path``). A missing or unreadable file raises OSError as it is.
    """
    shown = shown or str(path)
    text = Path(path).read_text(encoding="utf-8")
    try:
        return yaml.load(text, Loader=_Loader)
    except _AliasUsed as exc:
        line, column, name = _first_alias(text, exc.node)
        raise error(f"{shown}:{line}:{column}: YAML aliases ({name}) and merge keys are not allowed (an alias can "
                    "expand a few lines into gigabytes); write the value out in full") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = " ".join(str(exc.problem or exc.context or "").split())
        if exc.context and exc.problem and exc.context not in problem:
            problem = f"{problem} ({' '.join(exc.context.split())})"
        where = f"{shown}:{mark.line + 1}:{mark.column + 1}" if mark else shown
        raise error(f"{where}: not valid YAML: {problem}") from None
    except yaml.YAMLError as exc:  # a character YAML does not allow (ReaderError): no mark, a position
        position = getattr(exc, "position", None)
        where = f"{shown}:{text.count(chr(10), 0, position) + 1}" if position is not None else shown
        raise error(f"{where}: not valid YAML: {' '.join(str(exc).split())[:200]}") from None


def _first_alias(text: str, node) -> tuple[int, int, str]:
    """Line, column and name of the file's first alias (or merge key); the anchored node's place if none.

    The C parser does not say where an alias stood, so the events are read again, in Python; only on this error.
    """
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent):
                return event.start_mark.line + 1, event.start_mark.column + 1, f"*{event.anchor}"
    except yaml.YAMLError:
        pass
    return node.start_mark.line + 1, node.start_mark.column + 1, "*"
