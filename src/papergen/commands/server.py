"""The preview's web server: the review edition, its live state as server-sent events, and manuscript/'s files.

Built from starlette (routing, static files, the Host check) and served by
uvicorn on 127.0.0.1 only. What it serves: the last good review edition (held
in memory, so a failed build leaves it as it was), the preview's own script
(/__papergen/preview.js, a same-origin file, so the page's Content-Security-Policy
needs only ``script-src 'self'`` and ``connect-src 'self'``), the state stream
(/__papergen/events), the lines around the current error, and the files of
the manuscript folder (starlette's StaticFiles: no path outside it, no
directory listing). A request whose Host is not localhost or 127.0.0.1 is
refused (a web page elsewhere cannot reach the server through DNS rebinding).
"""
from __future__ import annotations

import asyncio
import hashlib
import html
import json
import re
import secrets
import socket
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from papergen.errors import PortInUseError

RESOURCES = Path(__file__).resolve().parents[1] / "resources"
HOSTS = ["localhost", "127.0.0.1"]
CLIENT = "/__papergen/preview.js"
#: loaded before the review edition's own script: notes its listeners, so a page patched in place can run it again
FIRST = "/__papergen/preview-first.js"
STYLE = "/__papergen/preview.css"
NO_STORE = {"Cache-Control": "no-store"}
#: "templates/discussion.md.j2:13:28: ..." -> file, line, column (papergen's one-line errors start so)
_WHERE = re.compile(r"^(?P<file>[\w.\-/]+\.[A-Za-z0-9]+):(?P<line>\d+)(?::(?P<column>\d+))?:")
CONTEXT_LINES = 5
#: the review edition's policy: <meta http-equiv="Content-Security-Policy" content="...">
_CSP_META = re.compile(r'(<meta\s+http-equiv=["\']?Content-Security-Policy["\']?\s+content=")([^"]*)(")', re.I)


@dataclass
class Snapshot:
    """What the page shows besides the manuscript: which page, the exports' state, the error, changed numbers."""

    version: int = 0
    session: str = ""          # this server's run: a page from another run (before a restart) reloads
    status: str = "updating"   # updating (a build runs; DOCX and PDF follow) | ready | failed
    error: dict | None = None  # {"message", "file", "line", "column"}
    changed: dict = field(default_factory=dict)  # key -> {"old": text, "new": text}
    parts: dict | None = None  # the page's parts' hashes (page_parts): the open page fetches the changed ones

    def as_json(self) -> dict:
        return {"version": self.version, "session": self.session, "status": self.status, "error": self.error,
                "changed": self.changed, "parts": self.parts}


class PreviewState:
    """The state the build thread publishes and every open page follows (thread-safe)."""

    def __init__(self, root: Path, manuscript: Path, page_name: str) -> None:
        self.root, self.manuscript, self.page_name = Path(root), Path(manuscript), page_name
        self.session = secrets.token_hex(8)
        self.snapshot = Snapshot(session=self.session)
        self.page: bytes | None = None
        self._parts: dict[str, str] | None = None  # the page's parts (page_parts), the frame's as its hash
        self._hashes: dict[str, str] | None = None
        self._lock = threading.Lock()
        self._listeners: set[tuple[asyncio.AbstractEventLoop, asyncio.Queue]] = set()

    # -- the build thread --------------------------------------------------------------
    def started(self) -> None:
        """A build began: DOCX and PDF are about to change."""
        with self._lock:
            self.snapshot = replace(self.snapshot, status="updating")
            self._publish()

    def new_page(self, page: bytes, changed: dict) -> None:
        """A new review edition: the error (if any) is cleared; DOCX and PDF are still being written."""
        parts = page_parts(page)
        with self._lock:
            self.page, self._parts, self._hashes = page, parts, part_hashes(parts)
            self.snapshot = replace(self.snapshot, version=self.snapshot.version + 1, status="updating", error=None,
                                    changed=changed, parts=self._hashes)
            self._publish()

    def finished(self, error: str | None) -> None:
        """A build ended: all outputs written (``error`` None) or failed with the one-line ``error``."""
        with self._lock:
            self.snapshot = replace(self.snapshot, status="failed" if error else "ready",
                                    error=located(error) if error else None)
            self._publish()

    def close(self) -> None:
        """Ends every open event stream (the server is stopping)."""
        with self._lock:
            self._send(None)

    def _publish(self) -> None:
        """The snapshot to every open page; called holding the lock, so pages get the states in order."""
        self._send(json.dumps(self.snapshot.as_json()))

    def _send(self, message: str | None) -> None:
        for loop, queue in list(self._listeners):
            try:
                loop.call_soon_threadsafe(queue.put_nowait, message)
            except RuntimeError:  # that page's server loop has ended
                self._listeners.discard((loop, queue))

    # -- the server ----------------------------------------------------------------------
    def served_page(self) -> bytes | None:
        """The page with the preview's script; the last good one, or manuscript/'s from an earlier build."""
        with self._lock:
            page, version, hashes = self.page, self.snapshot.version, self._hashes
        if page is None:
            kept = self.manuscript / self.page_name
            if not kept.is_file():
                return None
            page = kept.read_bytes()
            hashes = part_hashes(page_parts(page))
        return with_client(page, version, self.session, hashes)

    def changed_parts(self, have: dict[str, str]) -> dict:
        """What a page showing the parts hashed ``have`` needs to show the current page: the parts whose hash
        differs, or ``reload`` when the rest of the page (its frame) differs or the page cannot be cut."""
        with self._lock:
            parts, hashes, version = self._parts, self._hashes, self.snapshot.version
        if parts is None or hashes is None or have.get("frame") != hashes["frame"]:
            return {"reload": True, "version": version}
        return {"reload": False, "version": version, "hashes": hashes,
                "parts": {name: text for name, text in parts.items()
                          if name != "frame" and have.get(name) != hashes[name]}}

    def listen(self) -> asyncio.Queue:
        queue: asyncio.Queue = asyncio.Queue()
        with self._lock:  # no state published between the first message and the first push
            queue.put_nowait(json.dumps(self.snapshot.as_json()))
            self._listeners.add((asyncio.get_running_loop(), queue))
        return queue

    def forget(self, queue: asyncio.Queue) -> None:
        with self._lock:
            self._listeners = {(loop, q) for loop, q in self._listeners if q is not queue}


def located(message: str) -> dict:
    """The first line of a one-line error, and the file, line and column it names (if it names them)."""
    first = message.strip().splitlines()[0] if message.strip() else "the build failed"
    m = _WHERE.match(first)
    out = {"message": first, "file": None, "line": None, "column": None}
    if m:
        out.update(file=m.group("file"), line=int(m.group("line")),
                   column=int(m.group("column")) if m.group("column") else None)
    return out


#: the parts of the review edition (as papergen.trace.review.page writes it) an open page replaces in place:
#: name -> (text before the part, text after it); the part is the text between
PARTS = {
    "banner": ('<header class="pg-banner" role="banner">\n', "\n</header>\n"),
    "paper": ('<main id="pg-paper">\n', '\n</main>\n<aside id="pg-index"'),
    "index": ('<aside id="pg-index" aria-label="Index of generated numbers">\n', "\n</aside>\n</div>\n"),
    "ledger": ('<script type="application/json" id="pg-ledger">', "</script>\n"),
    "cards": ('<script type="application/json" id="pg-cards">', "</script>\n"),
}


def page_parts(page: bytes) -> dict[str, str] | None:
    """The review edition cut into PARTS (their text) and the rest, its ``frame`` (with the parts left out);
    None if a part is not where the page's writer puts it (the open page then reloads whole)."""
    text = page.decode("utf-8")
    out: dict[str, str] = {}
    frame: list[str] = []
    at = 0
    for name, (before, after) in PARTS.items():
        start = text.find(before, at)
        end = text.find(after, start + len(before)) if start >= 0 else -1
        if end < 0:
            return None
        start += len(before)
        frame.append(text[at:start])
        out[name] = text[start:end]
        at = end
    frame.append(text[at:])
    out["frame"] = "\x00".join(frame)
    return out


def part_hashes(parts: dict[str, str] | None) -> dict[str, str] | None:
    """Each part's sha256 (16 hex digits): what the page compares to know which parts changed."""
    if parts is None:
        return None
    return {name: hashlib.sha256(text.encode("utf-8")).hexdigest()[:16] for name, text in parts.items()}


def with_client(page: bytes, version: int, session: str = "", parts: dict | None = None) -> bytes:
    """The review edition with the preview's scripts, and its Content-Security-Policy widened to load them from
    this server and to follow /__papergen/events (``'self'`` added to script-src, style-src and connect-src).

    ``parts``: the page's parts' hashes (part_hashes), from which the client asks for the parts a build changed.
    """
    text = page.decode("utf-8")
    text = _CSP_META.sub(lambda m: m.group(1) + widened_csp(html.unescape(m.group(2))) + m.group(3), text, count=1)
    first = f'<script src="{FIRST}"></script>\n'
    head = text.find("</head>")
    text = text[:head] + first + text[head:] if head >= 0 else first + text
    hashes = html.escape(json.dumps(parts), quote=True) if parts else ""
    tag = (f'<script src="{CLIENT}" data-version="{version}" data-session="{session}"'
           f'{f" data-parts={chr(34)}{hashes}{chr(34)}" if hashes else ""}></script>\n')
    at = text.rfind("</body>")
    text = text[:at] + tag + text[at:] if at >= 0 else text + tag
    return text.encode("utf-8")


def widened_csp(policy: str) -> str:
    """``policy`` with 'self' allowed for scripts, styles and connections (each directive kept otherwise)."""
    directives = [d.strip() for d in policy.split(";") if d.strip()]
    names = [d.split()[0].lower() for d in directives]
    for name in ("script-src", "style-src", "connect-src"):
        if name in names:
            i = names.index(name)
            if "'self'" not in directives[i].split():
                directives[i] += " 'self'"
        else:
            directives.append(f"{name} 'self'")
            names.append(name)
    return html.escape("; ".join(directives), quote=False).replace('"', "&quot;")


class ManuscriptFiles(StaticFiles):
    """The manuscript folder's files; the review edition comes from the preview's state (the last good one)."""

    def __init__(self, state: PreviewState) -> None:
        super().__init__(directory=state.manuscript, html=False, check_dir=False)
        self.state = state

    async def get_response(self, path: str, scope) -> Response:
        if path == self.state.page_name:
            page = self.state.served_page()
            if page is not None:
                return Response(page, media_type="text/html; charset=utf-8", headers=NO_STORE)
            return HTMLResponse(waiting_page(self.state.session), headers=NO_STORE)
        return await super().get_response(path, scope)


def waiting_page(session: str = "") -> str:
    """Shown until the first build has made a review edition: the preview's script shows its state."""
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>papergen preview</title></head>'
            f'<body><main id="pg-paper"><p>Building the review edition ...</p></main>'
            f'<script src="{CLIENT}" data-version="0" data-session="{session}"></script></body></html>')


def make_app(state: PreviewState) -> Starlette:
    async def home(request: Request) -> Response:
        return RedirectResponse(f"/{state.page_name}", status_code=307)

    async def client(request: Request) -> Response:
        return FileResponse(RESOURCES / "preview.js", media_type="text/javascript", headers=NO_STORE)

    async def first(request: Request) -> Response:
        return FileResponse(RESOURCES / "preview-first.js", media_type="text/javascript", headers=NO_STORE)

    async def parts(request: Request) -> Response:
        """?have=name:hash,name:hash -> the parts of the current page whose hash differs (changed_parts)."""
        have = dict(item.split(":", 1) for item in request.query_params.get("have", "").split(",") if ":" in item)
        return JSONResponse(state.changed_parts(have), headers=NO_STORE)

    async def style(request: Request) -> Response:
        return FileResponse(RESOURCES / "preview.css", media_type="text/css", headers=NO_STORE)

    async def snapshot(request: Request) -> Response:
        return JSONResponse(state.snapshot.as_json(), headers=NO_STORE)

    async def events(request: Request) -> Response:
        queue = state.listen()

        async def stream():
            try:
                while True:
                    try:
                        message = await asyncio.wait_for(queue.get(), timeout=15)
                    except TimeoutError:
                        yield ": still here\n\n"  # keeps proxies and the browser from closing an idle stream
                        continue
                    if message is None:
                        return
                    yield f"event: state\ndata: {message}\n\n"
            finally:
                state.forget(queue)

        return StreamingResponse(stream(), media_type="text/event-stream", headers=NO_STORE)

    async def source(request: Request) -> Response:
        return HTMLResponse(error_source(state), headers=NO_STORE)

    routes = [Route("/", home), Route(CLIENT, client), Route(FIRST, first), Route("/__papergen/parts", parts),
              Route(STYLE, style), Route("/__papergen/state", snapshot),
              Route("/__papergen/events", events), Route("/__papergen/source", source),
              Mount("/", app=ManuscriptFiles(state))]
    return Starlette(routes=routes, middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=HOSTS)])


def error_source(state: PreviewState) -> str:
    """The lines around the current error's line, numbered, that line marked: the banner's link.

    Only the file the current error names, and only if it is inside the study folder; the request names nothing.
    """
    err = state.snapshot.error
    if not err or not err.get("file") or not err.get("line"):
        return "<!DOCTYPE html><title>No error</title><p>No build error: nothing to show.</p>"
    path = (state.root / err["file"]).resolve()
    if not path.is_relative_to(state.root.resolve()) or not path.is_file():
        return f"<!DOCTYPE html><title>Error</title><p>{html.escape(err['message'])}</p>"
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    first, last = max(1, err["line"] - CONTEXT_LINES), min(len(lines), err["line"] + CONTEXT_LINES)
    rows = "".join(f'<tr{" class=at id=at" if n == err["line"] else ""}><th>{n}</th><td>{html.escape(lines[n - 1])}</td></tr>'
                   for n in range(first, last + 1))
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(err["file"])}:'
            f'{err["line"]}</title></head><body><h1>{html.escape(err["file"])}, line {err["line"]}</h1>'
            f'<p>{html.escape(err["message"])}</p><p>File: <code>{html.escape(str(path))}</code></p>'
            f'<table>{rows}</table></body></html>')


def listen_socket(port: int) -> socket.socket:
    """A listening socket on 127.0.0.1 (``port`` 0: a free one, chosen by the system)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError as exc:
        sock.close()
        raise PortInUseError(f"port {port} on 127.0.0.1: {exc.strerror or exc}; choose another with --port, "
                             "or leave --port out for a free one") from None
    sock.listen(64)
    return sock


class Server:
    """uvicorn serving ``make_app(state)`` on ``sock`` in a thread of its own; stop() ends it."""

    def __init__(self, state: PreviewState, sock: socket.socket) -> None:
        import uvicorn

        self.state, self.sock = state, sock
        config = uvicorn.Config(make_app(state), log_level="warning", access_log=False, lifespan="off",
                                timeout_graceful_shutdown=1)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]}, daemon=True,
                                       name="papergen-preview-server")

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.state.close()
        self.server.should_exit = True
        self.thread.join(timeout=5)
        self.sock.close()
