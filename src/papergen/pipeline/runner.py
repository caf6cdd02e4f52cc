"""The runner of build stages: one progress line per stage, timed; a stage with a cache hit is skipped.

``Stages.together()`` runs independent stages at once (pandoc and Typst use both cores).
"""
from __future__ import annotations

import os
import threading
import time


class Stages:
    """Times each stage and prints one progress line per stage (or "skipped (unchanged)").

    ``cache=`` is a papergen.pipeline.cache.Step: on a hit the stage does not run and its
    cached result is returned; otherwise the result is handed to the cache.
    """

    def __init__(self, echo) -> None:
        self.timings: list[tuple[str, float]] = []
        self.skipped: list[str] = []
        self.echo = echo

    def run(self, name: str, fn, *args, cache=None, **kwargs):
        t0 = time.perf_counter()
        out, note = self._call(name, fn, args, kwargs, cache)
        self._done(name, time.perf_counter() - t0, note)
        return out

    @staticmethod
    def call(name: str, fn, *args, cache=None, **kwargs) -> tuple:
        """A stage to hand to together(): same arguments as run()."""
        return name, fn, args, kwargs, cache

    def together(self, *calls, background: bool = False) -> list:
        """Run independent stages (made by call()) at the same time; pandoc and Typst use both cores.

        ``background``: at a lower CPU priority (their threads and the tools they start), so that what was
        handed over before them (the preview's page, read by the browser) goes first.
        """
        from concurrent.futures import ThreadPoolExecutor

        def timed(call):
            name, fn, args, kwargs, cache = call
            if background:
                _lower_priority()
            t0 = time.perf_counter()
            try:
                return (*self._call(name, fn, args, kwargs, cache), time.perf_counter() - t0, None)
            except BaseException as exc:  # reported after every stage of the group has ended
                return None, "", time.perf_counter() - t0, exc

        with ThreadPoolExecutor(max_workers=len(calls)) as pool:
            results = list(pool.map(timed, calls))
        for call, (_, note, dt, exc) in zip(calls, results):
            if exc is not None:
                raise exc
            self._done(call[0], dt, note)
        return [r[0] for r in results]

    def _call(self, name, fn, args, kwargs, cache):
        if cache is not None and cache.hit:
            self.skipped.append(name)
            return cache.load(), "skipped (unchanged)"
        out = fn(*args, **kwargs)
        if cache is None:
            return out, ""
        out = cache.save(out)
        if cache.note.startswith("skipped"):
            self.skipped.append(name)
        return out, cache.note

    def _done(self, name: str, dt: float, note: str) -> None:
        self.timings.append((name, dt))
        self.echo(f"  {name:<28} {dt:6.2f} s  {note}".rstrip())


def _lower_priority(by: int = 10) -> None:
    """Raise this thread's nice value (Linux: per thread, inherited by the processes it starts); else nothing."""
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + by))
    except (AttributeError, OSError):
        pass
