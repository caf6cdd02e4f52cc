"""The runner of build stages: one progress line per stage, timed; a stage with a cache hit is skipped.

``Stages.together()`` runs independent stages at once (pandoc and Typst use both cores). A stage
that runs long says so every few seconds ("still running: analysis plan (10 s); Ctrl-C stops the
build"), and ``timeout`` stops the build (papergen.pipeline.stopping) naming the stages still running.
"""
from __future__ import annotations

import os
import signal
import threading
import time

from papergen.pipeline.stopping import new_build, raised, stop

#: seconds between two "still running" lines of one stage
STILL_RUNNING_EVERY = 5.0
#: the exit code of a build stopped by its --timeout (as coreutils' timeout)
TIMEOUT_EXIT = 124

#: held while the watcher prints; a fork (the figure helper) waits for it, so the helper never inherits
#: the stdout lock half-held, and may start while the watcher runs (its thread is ``fork_safe``)
_PRINTING = threading.Lock()
if hasattr(os, "register_at_fork"):  # not on Windows, which does not fork
    os.register_at_fork(before=_PRINTING.acquire, after_in_parent=_PRINTING.release,
                        after_in_child=_PRINTING.release)


class Stages:
    """Times each stage and prints one progress line per stage (or "skipped (unchanged)").

    ``cache=`` is a papergen.pipeline.cache.Step: on a hit the stage does not run and its
    cached result is returned; otherwise the result is handed to the cache.
    """

    def __init__(self, echo, timeout: float | None = None, every: float = STILL_RUNNING_EVERY) -> None:
        """``timeout``: seconds after which the build stops (Stopped, exit 124); only in the main thread,
        which receives the alarm. Call close() when the build ends."""
        self.timings: list[tuple[str, float]] = []
        self.skipped: list[str] = []
        self.echo, self.timeout, self.every = echo, timeout, every
        self._running: dict[str, float] = {}  # stage -> when it started (time.monotonic)
        self._lock, self._closed = threading.Lock(), threading.Event()
        self._old_alarm = None  # (handler,) while this runner's timeout is set
        new_build()  # no stop of an earlier build (watch) carries over
        if timeout is not None:
            if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
                raise ValueError("a build's timeout needs the main thread and SIGALRM (not on Windows)")
            self._old_alarm = (signal.signal(signal.SIGALRM, self._expired),)
            signal.setitimer(signal.ITIMER_REAL, timeout)
        watcher = threading.Thread(target=self._watch, name="papergen still running", daemon=True)
        watcher.fork_safe = True
        watcher.start()

    def close(self) -> None:
        """The build ended: no more "still running" lines, no timeout."""
        self._closed.set()
        if self._old_alarm is not None:
            signal.setitimer(signal.ITIMER_REAL, 0)
            old = self._old_alarm[0]  # None: set outside Python
            signal.signal(signal.SIGALRM, signal.SIG_DFL if old is None else old)
            self._old_alarm = None

    def run(self, name: str, fn, *args, cache=None, **kwargs):
        t0 = time.perf_counter()
        out, note = self._call(name, fn, args, kwargs, cache)
        self._done(name, time.perf_counter() - t0, note)
        return out

    @staticmethod
    def call(name: str, fn, *args, cache=None, after=None, **kwargs) -> tuple:
        """A stage to hand to together(): same arguments as run(). ``after``: a function the stage calls
        before its cache is looked at and before it runs (the figures it shows being drawn: FigureStore.finish),
        so that the stages of the group that do not need it start at once."""
        return name, fn, args, kwargs, cache, after

    def together(self, *calls, background: bool = False) -> list:
        """Run independent stages (made by call()) at the same time; pandoc and Typst use both cores.

        ``background``: at a lower CPU priority (their threads and the tools they start), so that what was
        handed over before them (the preview's page, read by the browser) goes first.
        """
        from concurrent.futures import ThreadPoolExecutor

        def timed(call):
            name, fn, args, kwargs, cache, after = call
            if background:
                _lower_priority()
            t0 = time.perf_counter()
            try:
                return (*self._call(name, fn, args, kwargs, cache, after), time.perf_counter() - t0, None)
            except BaseException as exc:  # reported after every stage of the group has ended
                return None, "", time.perf_counter() - t0, exc

        with ThreadPoolExecutor(max_workers=len(calls)) as pool:
            results = list(pool.map(timed, calls))
        for call, (_, note, dt, exc) in zip(calls, results):
            if exc is not None:
                raise exc
            self._done(call[0], dt, note)
        return [r[0] for r in results]

    def _call(self, name, fn, args, kwargs, cache, after=None):
        if raised() is not None:  # a stop that a stage before swallowed: no further stage runs
            raise raised()
        with self._lock:
            self._running[name] = time.monotonic()
        try:
            if after is not None:  # before the cache: its key may hash what ``after`` writes (the figures)
                after()
            return self._call_once(name, fn, args, kwargs, cache)
        finally:
            with self._lock:
                self._running.pop(name, None)

    def _call_once(self, name, fn, args, kwargs, cache):
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

    def _now_running(self) -> list[tuple[str, float]]:
        with self._lock:
            return list(self._running.items())

    def _watch(self) -> None:
        """Every ``every`` seconds of a stage, one line saying it still runs and how to stop it."""
        due: dict[tuple[str, float], float] = {}
        while not self._closed.wait(0.25):
            now = time.monotonic()
            for name, t0 in self._now_running():
                if now >= due.setdefault((name, t0), t0 + self.every):
                    due[(name, t0)] += self.every
                    with _PRINTING:
                        self.echo(f"  still running: {name} ({now - t0:.0f} s); Ctrl-C stops the build")

    def _expired(self, signum, frame) -> None:
        """SIGALRM: the timeout is over; stop the build naming what was running."""
        now = time.monotonic()
        running = [f"{name!r} ({now - t0:.0f} s)" for name, t0 in self._now_running()]
        what = (f"stage {running[0]} was still running" if len(running) == 1 else
                f"stages {', '.join(running)} were still running" if running else "no stage was running")
        stop(f"stopped: the build ran past --timeout {self.timeout:g} s; {what}", TIMEOUT_EXIT)


def _lower_priority(by: int = 10) -> None:
    """Raise this thread's nice value (Linux: per thread, inherited by the processes it starts); else nothing."""
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + by))
    except (AttributeError, OSError):
        pass
