"""The folder a build writes (manuscript/ or --out), checked after a failure: what it holds, in words.

"manuscript/ was left as it was" is said only when it was checked: the folder
is the one that was there before the build (same inode: the swap had not
happened) and every file in it is as the last good build recorded it
(papergen.pipeline.cache), or, with no record (a copied folder, a cleared
cache), as it was hashed when this build started. Otherwise the words say
what is true: replaced, missing, changed files named, or not checked.
"""
from __future__ import annotations

import os
from pathlib import Path

from papergen.pipeline.cache import output_hashes, recorded_outputs
from papergen.pipeline.keys import file_hash


class Target:
    """The output folder as it was when the build started: its identity and the last build's record of it."""

    def __init__(self, paths, final: Path, marker: str = "numbers.json") -> None:
        """``marker``: a folder without it is not papergen's and is not hashed (it may be anything, even ~)."""
        self.paths, self.final = paths, Path(final)
        self.name = paths.rel(self.final) + "/"
        self._ident = _ident(self.final)
        self._recorded = recorded_outputs(paths, self.final) if self._ident else None
        self._since = "what the last build wrote"
        if self._recorded is None and self._ident:
            self._recorded, self._since = _contents(self.final, marker=marker), "what they were when the build started"

    def state(self) -> str:
        """What the folder holds now, checked; e.g. "manuscript/ was left as it was"."""
        now = _ident(self.final)
        if self._ident is None:
            return f"no {self.name} was written" if now is None else \
                f"{self.name} holds this build's outputs: they were swapped in before the failure"
        if now is None:
            return f"{self.name} is missing: it was removed during the build"
        if now != self._ident:
            return f"{self.name} was replaced by this build's outputs before the failure"
        if self._recorded is None:
            return f"{self.name} was not replaced (its files were not checked: papergen did not write them)"
        changed = _changes(self._recorded, _contents(self.final))
        if not changed:
            return f"{self.name} was left as it was"
        more = f" and {len(changed) - 3} more" if len(changed) > 3 else ""
        return (f"{self.name} was not replaced, but its files differ from {self._since} "
                f"({', '.join(changed[:3])}{more}); the next good build rewrites them")


def _changes(recorded: dict, now: dict) -> list[str]:
    """Each file that differs from the record: "manuscript.pdf removed", "x changed", "y added"."""
    out = [f"{rel} removed" for rel in recorded if rel not in now]
    out += [f"{rel} changed" for rel in recorded if rel in now and list(now[rel]) != list(recorded[rel])]
    return out + [f"{rel} added" for rel in now if rel not in recorded]


def _contents(final: Path, marker: str | None = None) -> dict | None:
    """{relative path: [size, sha256]} of a folder's files (a file: of itself); None for a folder without ``marker``."""
    if not final.is_dir():
        return {final.name: [final.stat().st_size, file_hash(final)]} if final.is_file() else None
    if marker and not (final / marker).is_file():
        return None
    return output_hashes(final)


def _ident(folder: Path) -> tuple[int, int] | None:
    """(device, inode) of a folder: the swap puts another folder in its place; None if there is none."""
    try:
        st = os.stat(folder)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)

