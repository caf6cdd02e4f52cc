"""``python build.py preview``: the review edition in the browser, rebuilt on every save and reloaded in place.

One running process, like ``watch`` (papergen.commands.watch: the same loop,
file events, one-line errors and restart on a change of papergen itself),
with the preview's server (papergen.commands.server) on 127.0.0.1. Each build
writes the review edition first and hands it to the server, which tells every
open page to reload (server-sent events; the page keeps its scroll position and
open number card); DOCX, PDF, checklist and change report follow in the same
build and manuscript/ is swapped in whole when they are done (the page's top
bar says "updating", then "DOCX and PDF up to date"). A failed build keeps the
last good page and shows the error in it; numbers whose printed text changed
since the preview started are marked, old -> new in their card.
"""
from __future__ import annotations

import argparse
import functools
import webbrowser

from papergen.commands import build
from papergen.commands.server import PreviewState, Server, listen_socket
from papergen.commands.terminal import run_command
from papergen.commands.watch import rebuild_on_change
from papergen.errors import PapergenError, RevisionError
from papergen.study import Study, StudyPaths
from papergen.trace.diff import Version, changed_texts, compare, load_version


#: seconds without a new file event that end one save (an editor's write, rename and touch come within a few ms)
STEP = 0.02


def run(paths: StudyPaths, argv: list[str]) -> int:
    """The preview command: serve, open the browser, build now and after every save, until Ctrl-C."""
    parser = argparse.ArgumentParser(prog="python build.py preview",
                                     description="Show the review edition in the browser, rebuilt on every save.")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--no-browser", action="store_true", help="do not open the default browser")
    args = parser.parse_args(argv)
    state = PreviewState(paths.root, paths.manuscript, Study(paths).outputs().review.name)
    sock = listen_socket(args.port)
    port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/"
    server = Server(state, sock)
    server.start()
    print(f"papergen preview: {url} (rebuilt on every save; Ctrl-C stops)", flush=True)
    if not args.no_browser:
        webbrowser.open(url)
    numbers = Baseline(paths.manuscript / "numbers.json")

    def on_page(out) -> None:
        state.new_page(out.review.read_bytes(), numbers.changed(out.ledger))

    def once() -> int:
        failure: list[str] = []
        state.started()
        code = run_command("build", functools.partial(_recorded, failure, on_page), paths, [])
        state.finished(failure[0] if code and failure else ("the build failed" if code else None))
        if code != 130:  # interrupted: the loop stops
            print(f"previewing: {'built' if code == 0 else 'build failed'}; waiting for a change", flush=True)
        return code

    try:
        rebuild_on_change(paths, once, step=STEP, restart_argv=["--port", str(port), "--no-browser"])
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    print("stopped the preview", flush=True)
    return 0


def _recorded(failure: list[str], on_page, paths: StudyPaths, argv: list[str]) -> int:
    """The build command, keeping its one-line error for the page (papergen.commands.terminal prints it)."""
    try:
        return build.run(paths, argv, on_page=on_page)
    except PapergenError as exc:
        failure.append(str(exc))
        raise
    except Exception as exc:
        failure.append(f"internal error: {type(exc).__name__}: {exc} (traceback in .papergen/build.log)")
        raise


class Baseline:
    """The numbers as the preview found them (manuscript/numbers.json, else the first page's), to mark those that
    changed since (papergen.trace.diff)."""

    def __init__(self, ledger) -> None:
        self.version: Version | None = None
        try:
            self.version = load_version(ledger, "when the preview started") if ledger.is_file() else None
        except RevisionError:
            pass

    def changed(self, ledger) -> dict:
        new = load_version(ledger, "now")
        if self.version is None:
            self.version = new
        return changed_texts(compare(self.version, new))
