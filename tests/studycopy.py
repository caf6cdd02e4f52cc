"""Test helpers: a throw-away copy of the study, edits to its data files, and the real CLI run on it.

Tests never touch the repository: they copy data/, study/, templates/ and
build.py to a temporary folder, make one mistake there, and run
``python build.py`` in it as the author would.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STUDY_PARTS = ("data", "study", "templates")


def copy_study(dest: Path, manuscript: Path | None = None) -> Path:
    """Copy the study (and optionally a good manuscript/ folder) to ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    for part in STUDY_PARTS:
        shutil.copytree(ROOT / part, dest / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(ROOT / "build.py", dest / "build.py")
    if manuscript is not None:
        shutil.copytree(manuscript, dest / "manuscript")
    return dest


def tree_hash(folder: Path) -> dict[str, str]:
    """sha256 of every file under ``folder``, by relative path (empty if the folder does not exist)."""
    folder = Path(folder)
    if not folder.exists():
        return {}
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


class Running:
    """A command running in ``study`` as a child process (``python build.py watch``, ``preview``), whose
    output is read line by line."""

    def __init__(self, study: Path, *args: str) -> None:
        self.proc = subprocess.Popen([sys.executable, "build.py", *args], cwd=study, text=True, encoding="utf-8",
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.lines: list[str] = []

    def until(self, text: str, timeout: float = 120) -> list[str]:
        """Lines printed up to and including the next one containing ``text``."""
        start, seen = time.monotonic(), len(self.lines)
        while time.monotonic() - start < timeout:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.lines.append(line.rstrip("\n"))
            if text in line:
                return self.lines[seen:]
        raise AssertionError(f"no {text!r} within {timeout} s; printed:\n" + "\n".join(self.lines))

    def stop(self, sig: int = signal.SIGINT) -> int:
        """Send ``sig`` (Ctrl-C by default), read the rest of the output, return the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        rest, _ = self.proc.communicate(timeout=60)
        self.lines += rest.splitlines()
        return self.proc.returncode


def run_build(study: Path, *args: str, timeout: float = 300, env: dict | None = None,
              umask: int = -1) -> subprocess.CompletedProcess:
    """``python build.py ARGS`` in ``study``, as a subprocess, with its UTF-8 output captured as text.

    SOURCE_DATE_EPOCH is removed from the environment (the build derives it); ``env`` adds variables;
    ``umask`` is the build's (-1: this process's).
    """
    env = {**{k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}, **(env or {})}
    return subprocess.run([sys.executable, "build.py", *args], cwd=study, capture_output=True, encoding="utf-8",
                          timeout=timeout, env=env, umask=umask)


# --- CSV edits (rows as the spreadsheet shows them: the header is row 1) ---------------

def read_rows(study: Path, file: str) -> list[list[str]]:
    with open(study / "data" / file, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def write_rows(study: Path, file: str, rows: list[list[str]]) -> None:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    (study / "data" / file).write_text(buf.getvalue(), encoding="utf-8")


def set_cell(study: Path, file: str, row: int, column: str, value: str) -> str:
    """Set one cell; returns the value it replaced."""
    rows = read_rows(study, file)
    i = rows[0].index(column)
    old, rows[row - 1][i] = rows[row - 1][i], value
    write_rows(study, file, rows)
    return old


def cell(study: Path, file: str, row: int, column: str) -> str:
    rows = read_rows(study, file)
    return rows[row - 1][rows[0].index(column)]


def drop_column(study: Path, file: str, column: str) -> None:
    rows = read_rows(study, file)
    i = rows[0].index(column)
    write_rows(study, file, [r[:i] + r[i + 1:] for r in rows])


def add_column(study: Path, file: str, column: str, values: list[str]) -> None:
    rows = read_rows(study, file)
    write_rows(study, file, [rows[0] + [column]] + [r + [v] for r, v in zip(rows[1:], values)])


def rename_column(study: Path, file: str, old: str, new: str) -> None:
    rows = read_rows(study, file)
    rows[0][rows[0].index(old)] = new
    write_rows(study, file, rows)


def append_row(study: Path, file: str, values: list[str]) -> int:
    """Append a data row; returns its spreadsheet row number."""
    rows = read_rows(study, file)
    write_rows(study, file, rows + [values])
    return len(rows) + 1


def delete_rows(study: Path, file: str, keep) -> None:
    rows = read_rows(study, file)
    write_rows(study, file, [rows[0]] + [r for r in rows[1:] if keep(dict(zip(rows[0], r)))])


def set_codebook_path(study: Path, name: str, new_path: str) -> None:
    """Point the codebook's entry for data file ``name`` at another file name."""
    book = study / "data" / "codebook.yaml"
    text = book.read_text(encoding="utf-8")
    old = f"    path: {name}.csv\n"
    assert text.count(old) == 1, f"codebook has no single {old.strip()!r}"
    book.write_text(text.replace(old, f"    path: {new_path}\n"), encoding="utf-8")


# --- Excel -----------------------------------------------------------------------------

def csv_to_xlsx(study: Path, name: str, typed: bool = True):
    """Convert data/<name>.csv to data/<name>.xlsx as an author's spreadsheet would hold it.

    With ``typed``, numbers are stored as numbers and dates as date cells (what
    Excel does when the author types them). The codebook is pointed at the
    .xlsx and the CSV removed. Returns the openpyxl workbook, saved; edit and
    save it again with ``save_xlsx`` to make a mistake.
    """
    import openpyxl

    rows = read_rows(study, f"{name}.csv")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = name
    for r, row in enumerate(rows, start=1):
        for c, text in enumerate(row, start=1):
            ws.cell(r, c, _excel_value(text) if typed and r > 1 else (text or None))
            if isinstance(ws.cell(r, c).value, dt.datetime):
                ws.cell(r, c).number_format = "yyyy-mm-dd"
    save_xlsx(study, name, wb)
    (study / "data" / f"{name}.csv").unlink()
    set_codebook_path(study, name, f"{name}.xlsx")
    return wb


def save_xlsx(study: Path, name: str, wb) -> Path:
    path = study / "data" / f"{name}.xlsx"
    wb.save(path)
    return path


def _excel_value(text: str):
    if text == "":
        return None
    try:
        return dt.datetime.strptime(text, "%Y-%m-%d")
    except ValueError:
        pass
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


# --- other formats, written by their own writers ------------------------------------------------

def csv_frame(study: Path, name: str):
    """data/<name>.csv as a typed pandas frame (dates as dates), as a statistics program would hold it."""
    import pandas as pd

    frame = pd.read_csv(study / "data" / f"{name}.csv", dtype=str, keep_default_na=False)
    out = {}
    for c in frame.columns:
        s = frame[c]
        if c.endswith("_date"):
            out[c] = [dt.date.fromisoformat(v) if v else None for v in s]
        elif all(v == "" or v.lstrip("-").replace(".", "", 1).isdigit() for v in s) and (s != "").any():
            out[c] = pd.to_numeric(s.replace("", None))
        else:
            out[c] = s
    return pd.DataFrame(out)


def csv_to_parquet(study: Path, name: str) -> Path:
    """Write data/<name>.csv as data/<name>.parquet with pyarrow (types in the schema) and point the codebook at it."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    frame = csv_frame(study, name)
    dest = study / "data" / f"{name}.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), dest)
    set_codebook_path(study, name, f"{name}.parquet")
    return dest


def csv_to_sav(study: Path, name: str, coded: dict[str, list[str]], labels: bool = True,
               missing: dict | None = None, suffix: str = ".sav") -> Path:
    """Write data/<name>.csv as an SPSS (.sav, .zsav) or Stata (.dta) file with pyreadstat: each column of ``coded`` stored
    as numeric codes 1, 2, ... with value labels (unless ``labels`` is False); the codebook is given the codes
    and labels. ``missing``: SPSS user-missing values per column (pyreadstat's missing_ranges)."""
    import pyreadstat

    frame = csv_frame(study, name)
    value_labels = {}
    for column, levels in coded.items():
        codes = {text: i for i, text in enumerate(levels, start=1)}
        frame[column] = [float(codes[v]) if v else None for v in frame[column]]
        value_labels[column] = {float(i): text for text, i in codes.items()}
    dest = study / "data" / f"{name}{suffix}"
    writer = pyreadstat.write_dta if suffix == ".dta" else pyreadstat.write_sav
    extra = {"missing_ranges": missing} if missing and suffix != ".dta" else {}
    if suffix == ".zsav":
        extra["compress"] = True  # SPSS's zlib-compressed .zsav
    writer(frame, str(dest), variable_value_labels=value_labels if labels else None, **extra)
    set_codebook_path(study, name, f"{name}{suffix}")
    book = study / "data" / "codebook.yaml"
    text = book.read_text(encoding="utf-8")
    for column, levels in coded.items():
        listed = ", ".join(levels)
        codes = ", ".join(str(i) for i in range(1, len(levels) + 1))
        pairs = ", ".join(f"{i}: {text_}" for i, text_ in enumerate(levels, start=1))
        old = f"{column}: {{type: category, values: [{listed}]"
        assert text.count(old) == 1, old
        text = text.replace(old, f"{column}: {{type: category, values: [{codes}], labels: {{{pairs}}}")
    book.write_text(text, encoding="utf-8")
    return dest


REDCAP_EXAMPLE = ROOT / "examples" / "redcap" / "data"


def add_redcap(study: Path) -> None:
    """Add the REDCap example's export, dictionary and its two codebook files (renamed rc_*) to the study."""
    import yaml

    for name in ("redcap_export.csv", "redcap_dictionary.csv"):
        shutil.copy2(REDCAP_EXAMPLE / name, study / "data" / name)
    theirs = yaml.safe_load((REDCAP_EXAMPLE / "codebook.yaml").read_text(encoding="utf-8"))
    files = {f"rc_{k}": v for k, v in theirs["files"].items()}
    files["rc_followup_visit"]["columns"]["patient_id"]["references"] = "rc_patients.patient_id"
    for spec in files.values():
        for col in spec["columns"].values():
            if col.get("max") == "cutoff_date":
                col["max"] = "2020-10-31"
    book = study / "data" / "codebook.yaml"
    text = book.read_text(encoding="utf-8").rstrip("\n") + "\n\n"
    text += "\n".join("  " + line for line in yaml.safe_dump(files, sort_keys=False).splitlines()) + "\n"
    book.write_text(text, encoding="utf-8")
