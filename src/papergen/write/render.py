"""Render the manuscript templates into one pandoc Markdown document.

Templates run in Jinja's sandbox with strict undefined names. They may print
Values (and text from the study settings), never bare numbers. Each printed
Value is wrapped as ``[34.1]{.pg-value data-key="os.mean"}`` (plain text in
DOCX and PDF, a clickable number in the review edition) and the template file
and line where it was printed are recorded in the Value's places.
"""
from __future__ import annotations

import difflib
import re
import sys
from pathlib import Path

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from papergen.errors import PapergenError, TemplateError
from papergen.formatting.house import DEFAULT, HouseStyle
from papergen.study import inside_folder
from papergen.values import Printed, Value
from papergen.write import sourcemarks

MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#+|^~$@])")


class Block(str):
    """Markdown produced by the engine (a table, a figure) that is inserted as it is."""


def literal(text: str) -> str:
    """Mark text with digits that is not data (a marker name like Ki-67, an ICD code).

    Written in a template as ``{{ literal("Ki-67") }}`` so that a reader, and the
    hand-typed number lint, see at once that the digits are deliberate.
    """
    if not isinstance(text, str):
        raise TemplateError(f"literal() takes text in quotes, got {type(text).__name__}")
    return text


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _escape(text: str) -> str:
    return MD_SPECIAL.sub(r"\\\1", text)


class _MarkingEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox, with each template's literal text marked with its file and offset (sourcemarks)."""

    def _parse(self, source, name, filename):
        return sourcemarks.instrument(super()._parse(source, name, filename), source, name or "?")


class StudyLoader(jinja2.FileSystemLoader):
    """Jinja's file loader, refusing a template (or include) that resolves outside the study folder.

    Jinja refuses ``../`` in a template name but opens a symbolic link wherever it points.
    """

    def __init__(self, template_dir: Path, root: Path) -> None:
        super().__init__(str(template_dir))
        self.template_dir, self.root = Path(template_dir), Path(root)

    def get_source(self, environment, template):
        path = self.template_dir / template
        if path.exists():
            inside_folder(self.root, path, f"templates/{template}")
        return super().get_source(environment, template)


class Renderer:
    """One Jinja environment for a study's templates, recording where each Value is printed."""

    def __init__(self, template_dir: Path, sections: dict[str, str], track_places: bool = False,
                 compiled: Path | None = None, root: Path | None = None, house: HouseStyle | None = None,
                 source_map: bool = False):
        """``compiled``: a folder that keeps the templates compiled to Python between builds (Jinja's
        bytecode cache; an entry is used only for the same template source). ``root``: the study folder,
        which every template must resolve inside (default: the template folder). ``house``: the journal's
        house style, whose italic P is set here (a value's text stays plain in the ledger). ``source_map``:
        the output carries papergen.write.sourcemarks marks (strip them with sourcemarks.strip)."""
        self.house = house or DEFAULT
        self.source_map = source_map
        self.sections = sections  # template file name -> manuscript section title
        #: with track_places, span i carries data-pg-at="i" and printed[i] is its ledger place,
        #: until sentences.attach_contexts() stores each sentence in its place and drops the index
        self.printed: list[dict] | None = [] if track_places else None
        self.template_dir = template_dir
        # immutable: a template may not change a value's numbers (dict.update, list.append)
        self.env = (_MarkingEnvironment if source_map else ImmutableSandboxedEnvironment)(
            loader=StudyLoader(template_dir, root or template_dir),
            undefined=jinja2.StrictUndefined, autoescape=False,
            keep_trailing_newline=True, finalize=self._finalize,
            trim_blocks=True, lstrip_blocks=True,
            # pandoc uses {#id} for identifiers, so Jinja comments are {## ... ##}
            comment_start_string="{##", comment_end_string="##}",
            bytecode_cache=jinja2.FileSystemBytecodeCache(str(compiled)) if compiled else None,
        )
        self.env.globals["literal"] = literal

    # -- printing --------------------------------------------------------------
    def mark(self, value, text: str | None = None, where: tuple[str, int, str] | None = None,
             detail: dict | None = None) -> str:
        """A Value (or text Printed from one) as marked-up Markdown, recording where it was printed.

        The place holds the template, line, section and the text printed there;
        ``detail`` adds more (the table, row and column of a table cell).
        """
        if isinstance(value, Printed):
            value, text = value.value, str(value)
        template, line, section = where or self._where()
        shown = value.text if text is None else text
        place = {"template": template, "line": line, "section": section, "printed": shown, **(detail or {})}
        if place not in value.places:
            value.places.append(place)
        at = ""
        if self.printed is not None:
            at = f' data-pg-at="{len(self.printed)}"'
            self.printed.append(value.places[value.places.index(place)])
        return f'[{self._italic_p(_escape(shown))}]{{.pg-value data-key="{value.key}"{at}}}'

    def _italic_p(self, markdown: str) -> str:
        """ "P = 0.003" as "*P* = 0.003" when the house style sets P in italics."""
        if not self.house.p_italic:
            return markdown
        label = re.escape(self.house.p_label)
        return re.sub(rf"(?<![\w*]){label}(?= ?\\?[=<>])", f"*{self.house.p_label}*", markdown)

    def _finalize(self, obj):
        if isinstance(obj, jinja2.Undefined):
            str(obj)  # StrictUndefined raises UndefinedError, reported with template:line
        if isinstance(obj, Printed):
            return self.mark(obj.value, str(obj))
        if isinstance(obj, Value):
            return self.mark(obj)
        if isinstance(obj, Block):
            return sourcemarks.generated(obj) if self.source_map else obj
        if isinstance(obj, bool) or obj is None:
            raise TemplateError(f"{self._here()}: template prints {obj!r}; print a value or text")
        if isinstance(obj, (int, float)) or type(obj).__module__ == "numpy":
            raise TemplateError(f"{self._here()}: template prints a bare number ({obj!r}); "
                                "print a value from the analysis plan instead, e.g. {{ os.mean }}")
        if isinstance(obj, str):
            return sourcemarks.generated(obj) if self.source_map else obj
        raise TemplateError(f"{self._here()}: template prints a {type(obj).__name__}; print a value or text")

    def _where(self) -> tuple[str, int, str]:
        f = sys._getframe(1)
        while f is not None:
            tmpl = f.f_globals.get("__jinja_template__")
            if tmpl is not None:
                name = tmpl.name or "?"
                return name, tmpl.get_corresponding_lineno(f.f_lineno), self.sections.get(name, "")
            f = f.f_back
        return "?", 0, ""

    def _here(self) -> str:
        name, line, _ = self._where()
        return f"templates/{name}:{line}"

    # -- rendering -------------------------------------------------------------
    def render(self, template: str, context: dict) -> str:
        """Render one template; errors name template:line and the closest known names."""
        try:
            return self.env.get_template(template).render(context)
        except jinja2.TemplateSyntaxError as exc:
            name = exc.name if exc.name and not exc.name.startswith("/") else template
            raise TemplateError(f"templates/{name}:{exc.lineno}: {exc.message}") from None
        except jinja2.UndefinedError as exc:
            raise TemplateError(self._undefined_message(exc, template, context)) from None
        except SecurityError as exc:
            raise TemplateError(f"{self._tb_place(exc, template)}: refused: {exc}") from None
        except jinja2.TemplateNotFound as exc:
            raise TemplateError(f"templates/{exc.name}: template not found") from None
        except TemplateError:
            raise
        except (PapergenError, ArithmeticError, LookupError, TypeError, ValueError, AttributeError) as exc:
            # e.g. {{ os.mean.part("sd") }} or {{ range(10**9) }}: still one line naming template:line
            raise TemplateError(f"{self._tb_place(exc, template)}: {_one_line(exc)}") from exc

    def _tb_place(self, exc: BaseException, template: str) -> str:
        """templates/NAME:LINE of the innermost template frame in the traceback.

        Jinja rewrites tracebacks so that template frames carry the template's
        file name and line number.
        """
        files = {str((self.template_dir / n).resolve()): n for n in self.env.list_templates()}
        tb, place = exc.__traceback__, f"templates/{template}"
        while tb is not None:
            name = files.get(str(Path(tb.tb_frame.f_code.co_filename).resolve()))
            if name is not None:
                place = f"templates/{name}:{tb.tb_lineno}"
            tb = tb.tb_next
        return place

    def _undefined_message(self, exc, template: str, context: dict) -> str:
        msg = str(exc.message or exc)
        m = re.search(r"'([^']+)' is undefined|has no attribute '([^']+)'", msg)
        missing = next((g for g in m.groups() if g), "") if m else ""
        known = list(context)
        for v in context.values():
            if hasattr(v, "names"):
                known += [n.rsplit(".", 1)[-1] for n in v.names()]
        close = difflib.get_close_matches(missing, known, n=3)
        hint = f"; closest known names: {', '.join(close)}" if close else ""
        what = f"no value or name {missing!r}" if missing else msg
        return f"{self._tb_place(exc, template)}: {what}{hint}"
