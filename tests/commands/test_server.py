"""The preview's server (papergen.commands.server), run for real on 127.0.0.1 over a small manuscript folder.

What the browser test (test_preview.py) sees end to end, here piece by piece: the
page with the client script under a strict Content-Security-Policy, the last good
page kept after a failed build, the error's lines, the state stream, and
refusals (paths outside the folder, folder listings, other Host headers).
"""
from __future__ import annotations

import base64
import hashlib
import html
import http.client
import json
import re
import socket

import pytest

from papergen.commands.server import (
    PreviewState,
    Server,
    listen_socket,
    located,
    page_parts,
    part_hashes,
    widened_csp,
    with_client,
)
from papergen.errors import PortInUseError

PAGE = ('<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="{csp}"></head>'
        '<body><main id="pg-paper">{text}</main></body></html>')
STRICT = "default-src 'none'; img-src data:; style-src 'sha256-AAA='; script-src 'sha256-BBB='"


@pytest.fixture
def served(tmp_path):
    root = tmp_path / "study"
    (root / "manuscript" / "figures").mkdir(parents=True)
    (root / "templates").mkdir()
    (root / "templates" / "methods.md.j2").write_text("".join(f"line {n}\n" for n in range(1, 21)), encoding="utf-8")
    (root / "manuscript" / "numbers.json").write_text('{"values": {}}', encoding="utf-8")
    (root / "manuscript" / "figures" / "km.png").write_bytes(b"png")
    (root / "secret.txt").write_text("not for the browser", encoding="utf-8")
    (tmp_path / "outside.txt").write_text("not for the browser", encoding="utf-8")
    state = PreviewState(root, root / "manuscript", "paper.review.html")
    server = Server(state, listen_socket(0))
    server.start()
    yield state, server.sock.getsockname()[1]
    server.stop()


def get(port: int, path: str, host: str = "127.0.0.1", read_all: bool = True) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.putrequest("GET", path, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", f"{host}:{port}")
        conn.endheaders()
        r = conn.getresponse()
        return r.status, (r.read() if read_all else r.read1(4096))
    finally:
        conn.close()


def test_the_csp_gains_self_and_keeps_its_hashes():
    out = widened_csp(STRICT)
    assert "script-src 'sha256-BBB=' 'self'" in out
    assert "style-src 'sha256-AAA=' 'self'" in out
    assert "connect-src 'self'" in out and "default-src 'none'" in out and "img-src data:" in out
    assert widened_csp(out.replace("&#x27;", "'")).count("'self'") == 3  # added once


def test_the_page_loads_the_client_from_this_origin():
    page = with_client(PAGE.format(csp=STRICT, text="Hello").encode(), 7, "abc").decode()
    assert page.count('<script src="/__papergen/preview.js" data-version="7" data-session="abc"></script>') == 1
    assert page.index("preview.js") > page.index("Hello")
    assert "connect-src 'self'" in page and "'sha256-BBB=' 'self'" in page


def test_the_review_edition_is_cut_into_its_parts_and_its_frame(built):
    page = built.outputs.review.read_bytes()
    parts = page_parts(page)
    assert set(parts) == {"banner", "paper", "index", "ledger", "cards", "frame"}
    assert json.loads(parts["ledger"]) == json.loads(built.outputs.ledger.read_text(encoding="utf-8"))
    assert len(json.loads(parts["cards"])) == len(json.loads(parts["ledger"])["values"])
    assert parts["paper"].startswith("<div") and "</main>" not in parts["paper"]
    assert parts["index"].startswith("<h2>Numbers</h2>") and "<script" not in parts["frame"].split("<body>")[0]
    edited = page.replace(b"Review edition.</strong>", b"Review edition!</strong>", 1)
    before, after = part_hashes(parts), part_hashes(page_parts(edited))
    assert [name for name in before if before[name] != after[name]] == ["banner"]
    assert page_parts(b"<html><body>no parts</body></html>") is None


def test_an_open_page_gets_only_the_parts_that_changed(served, built):
    state, port = served
    page = built.outputs.review.read_bytes()
    state.new_page(page, {})
    have = part_hashes(page_parts(page))
    query = ",".join(f"{k}:{v}" for k, v in have.items())
    got = json.loads(get(port, f"/__papergen/parts?have={query}")[1])
    assert got == {"reload": False, "version": 1, "hashes": have, "parts": {}}
    edited = page.replace(b"<main id=\"pg-paper\">\n", b"<main id=\"pg-paper\">\n<p>New.</p>\n", 1)
    state.new_page(edited, {})
    got = json.loads(get(port, f"/__papergen/parts?have={query}")[1])
    assert got["version"] == 2 and list(got["parts"]) == ["paper"] and got["parts"]["paper"].startswith("<p>New.</p>")
    assert state.snapshot.parts == got["hashes"] != have
    state.new_page(edited.replace(b"<title>", b"<title>Other ", 1), {})  # the frame changed: reload whole
    assert json.loads(get(port, f"/__papergen/parts?have={query}")[1]) == {"reload": True, "version": 3}
    served_page = get(port, "/paper.review.html")[1]
    assert b'<script src="/__papergen/preview-first.js"></script>\n</head>' in served_page
    assert html.unescape(re.search(rb'data-parts="([^"]+)"', served_page).group(1).decode()) == \
        json.dumps(state.snapshot.parts)


def test_an_error_line_names_file_line_and_column():
    e = located("templates/discussion.md.j2:13:28: typed number '0': print a value\nsecond line")
    assert e == {"message": "templates/discussion.md.j2:13:28: typed number '0': print a value",
                 "file": "templates/discussion.md.j2", "line": 13, "column": 28}
    assert located("data/patients.csv, row 3, column age: value 'x': not a number")["file"] is None


def test_the_last_good_page_stays_through_a_failure_and_the_error_shows_its_lines(served):
    state, port = served
    status, body = get(port, "/paper.review.html")
    assert status == 200 and b"Building the review edition" in body  # no page yet
    state.new_page(PAGE.format(csp=STRICT, text="Good page").encode(), {})
    state.finished("templates/methods.md.j2:12: unknown name 'x'")
    status, body = get(port, "/paper.review.html")
    assert status == 200 and b"Good page" in body and b'data-version="1"' in body
    state_json = json.loads(get(port, "/__papergen/state")[1])
    assert state_json["status"] == "failed" and state_json["error"]["line"] == 12
    status, body = get(port, "/__papergen/source")
    assert status == 200
    assert b"<tr class=at id=at><th>12</th><td>line 12</td></tr>" in body
    assert b"<th>7</th>" in body and b"<th>17</th>" in body and b"<th>6</th>" not in body and b"<th>18</th>" not in body
    state.finished(None)
    assert json.loads(get(port, "/__papergen/state")[1])["error"] is None
    assert b"No build error" in get(port, "/__papergen/source")[1]


def test_the_error_view_shows_no_file_outside_the_study(served):
    state, port = served
    state.finished("../outside.txt:1: made up")
    assert b"not for the browser" not in get(port, "/__papergen/source")[1]


def test_the_event_stream_starts_with_the_state(served):
    state, port = served
    status, first = get(port, "/__papergen/events", read_all=False)
    assert status == 200 and first.startswith(b"event: state\ndata: {")


def test_only_the_manuscript_folder_and_only_for_localhost(served):
    _, port = served
    assert get(port, "/numbers.json")[0] == 200
    assert get(port, "/figures/km.png") == (200, b"png")
    assert get(port, "/numbers.json", host="localhost")[0] == 200
    assert get(port, "/")[0] == 307
    for path in ("/../secret.txt", "/%2e%2e/secret.txt", "/..%2fsecret.txt", "/figures/../../secret.txt",
                 "/../../outside.txt", "/figures/", "/figures", "//etc/passwd", "/%2fetc%2fpasswd"):
        status, body = get(port, path)
        assert status == 404, path
        assert b"not for the browser" not in body and b"km.png" not in body
    for host in ("evil.example", "127.0.0.1.evil.example", "localhost.evil.example", "0.0.0.0"):
        assert get(port, "/numbers.json", host=host)[0] == 400, host


def test_bound_to_127_0_0_1_alone(served):
    _, port = served
    with pytest.raises(ConnectionRefusedError):  # another loopback address of this machine
        socket.create_connection(("127.0.0.2", port), timeout=5).close()


def test_the_client_runs_under_a_policy_of_hashes_in_chromium(served, browser):
    """The review edition's policy may allow only papergen's own inline scripts by hash: the client, a file of
    this origin, still runs, follows the events and shows the state."""
    state, port = served
    inline = "document.body.dataset.inline = 'ran';"
    digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
    csp = f"default-src 'none'; img-src data:; style-src 'sha256-AAA='; script-src 'sha256-{digest}'"
    page_html = PAGE.format(csp=csp, text=f"Strict page<script>{inline}</script>")
    state.new_page(page_html.encode(), {})
    state.finished(None)
    context = browser.new_context()
    page = context.new_page()
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    try:
        page.goto(f"http://127.0.0.1:{port}/")
        page.locator("#pg-preview-bar").filter(has_text="DOCX and PDF up to date").wait_for(timeout=30_000)
        assert page.evaluate("document.body.dataset.inline") == "ran"
        state.finished("templates/methods.md.j2:3: unknown name 'x'")
        page.locator("#pg-preview-error").filter(has_text="unknown name 'x'").wait_for(timeout=30_000)
        assert not problems, problems
    finally:
        context.close()


def test_a_port_in_use_is_one_line(served):
    _, port = served
    with pytest.raises(PortInUseError, match=rf"^port {port} on 127.0.0.1: .*; choose another with --port"):
        listen_socket(port)
