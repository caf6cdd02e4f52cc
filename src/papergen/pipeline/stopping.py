"""A build stopped from outside: Ctrl-C, SIGTERM, SIGHUP (a closed terminal), and the end of --timeout.

Each becomes papergen.errors.Stopped in the main thread, so build_manuscript's
clean-up runs (staging folder removed) and the terminal prints one line. First
every descendant process is ended (the figure helper, pandoc, anything a plan
started): a signal sent to the build alone left them running, reparented to
PID 1. Descendants are found in /proc, by parent PID (hand-written: psutil is
not a dependency, and a process group would not hold a plan's own
subprocesses that start their own); elsewhere there is no /proc and only the
build itself stops.
"""
from __future__ import annotations

import os
import signal
import threading
import time
from contextlib import contextmanager

from papergen.errors import Stopped

#: the signals that stop a build, as the terminal names them (Windows has no SIGHUP)
STOP_SIGNALS = {getattr(signal, name): shown for name, shown in
                (("SIGINT", "Ctrl-C"), ("SIGTERM", "SIGTERM"), ("SIGHUP", "SIGHUP")) if hasattr(signal, name)}

_state = {"deferred": False, "installed": False, "raised": None}


@contextmanager
def stop_on_signals():
    """While this runs, Ctrl-C, SIGTERM and SIGHUP end the descendants and raise Stopped (exit 128 + signal).

    Outside the main thread signals cannot be caught: then this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = {sig: signal.signal(sig, _on_signal) for sig in STOP_SIGNALS}
    _state["installed"] = True
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
        _state["installed"] = False


@contextmanager
def deferred():
    """A build's clean-up: a stop signal meanwhile ends the descendants but raises nothing, so the clean-up
    finishes (the build is ending anyway)."""
    before, _state["deferred"] = _state["deferred"], True
    try:
        yield
    finally:
        _state["deferred"] = before


@contextmanager
def signals_held():
    """Stop signals wait until this block ends: a fork (the figure helper starting) runs at-fork callbacks,
    where an exception raised by a signal handler would be printed and lost."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "pthread_sigmask"):
        yield
        return
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)


def stop(message: str, exit_code: int) -> None:
    """End every descendant process, then raise Stopped(message), unless a clean-up is running."""
    end_descendants()
    if not _state["deferred"]:
        _state["raised"] = Stopped(message, exit_code)
        raise _state["raised"]


def raised() -> Stopped | None:
    """The stop raised during this build, even if code it passed through swallowed it (a library's
    ``except BaseException``): a failure after it is reported as the stop it follows from."""
    return _state["raised"]


def new_build() -> None:
    """A build starts (``watch`` runs many): no stop so far."""
    _state["raised"] = None


def _on_signal(signum, frame) -> None:
    stop(f"stopped by {STOP_SIGNALS[signum]}", 128 + signum)


def _child_defaults() -> None:
    """A forked helper (the figure drawer) does not run the build's handlers: SIGTERM and SIGHUP end it;
    Ctrl-C, which a terminal sends to the whole process group, is left to the build, which ends it."""
    if _state["installed"]:
        _state["installed"] = False
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGHUP, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)  # held while the build forked it


if hasattr(os, "register_at_fork"):  # not on Windows, which does not fork
    os.register_at_fork(after_in_child=_child_defaults)


def descendants(pid: int | None = None) -> list[int]:
    """PIDs of the live processes below ``pid`` (default: this one), children first; [] without /proc."""
    children: dict[int, list[int]] = {}
    try:
        entries = [e.name for e in os.scandir("/proc") if e.name.isdigit()]
    except OSError:
        return []
    for name in entries:
        parent, state = _parent_and_state(int(name))
        if parent is not None and state != "Z":  # a zombie has ended; its parent reaps it
            children.setdefault(parent, []).append(int(name))
    out, todo = [], [os.getpid() if pid is None else pid]
    while todo:
        for child in children.get(todo.pop(0), []):
            out.append(child)
            todo.append(child)
    return out


def end_descendants(grace: float = 2.0) -> None:
    """SIGTERM every descendant, and SIGKILL those still running after ``grace`` seconds."""
    pids = descendants()
    for pid in pids:
        _kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while pids and time.monotonic() < deadline:
        pids = [p for p in pids if _parent_and_state(p)[1] not in (None, "Z")]
        if pids:
            time.sleep(0.02)
    for pid in pids:
        _kill(pid, signal.SIGKILL)


def _parent_and_state(pid: int) -> tuple[int | None, str | None]:
    """(parent PID, state letter) from /proc/PID/stat; (None, None) when the process is gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as fh:
            stat = fh.read()
    except OSError:
        return None, None
    fields = stat[stat.rindex(")") + 2:].split()  # the command name, in parentheses, may hold spaces
    return int(fields[1]), fields[0]


def _kill(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass
