"""``python build.py preview`` in a real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright).

The real command runs in a copy of the study as a child process; the test edits
the copy's templates and data as an author would and watches the page: the new
sentence appears (scroll position and open card kept), a broken template shows
its one-line error as a banner over the last good page, the fix clears it, a
data edit marks the changed number with old -> new in its card, and nothing
outside manuscript/ can be fetched. Skipped only when chromium is truly absent
and CI is not set; on CI (CI=true) a missing browser fails the test (conftest.py's browser).
"""
from __future__ import annotations

import http.client
import json
import re
import signal
from pathlib import Path

import pytest

from studycopy import Running, copy_study

WAITING = "waiting for a change"
UP_TO_DATE = "DOCX and PDF up to date"
SCREENSHOT = Path("/tmp/papergen-preview-banner.png")


class Preview(Running):
    """A running ``python build.py preview --no-browser``, and raw requests to its server."""

    def __init__(self, study: Path) -> None:
        super().__init__(study, "preview", "--no-browser")
        first = self.until("papergen preview: ")[-1]
        self.url = re.search(r"http://127\.0\.0\.1:\d+/", first).group(0)
        self.port = int(self.url.rsplit(":", 1)[1].strip("/"))

    def get(self, path: str, host: str = "127.0.0.1") -> tuple[int, bytes]:
        """A raw request (the path sent as written, no client-side clean-up) with the given Host header."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.putrequest("GET", path, skip_host=True, skip_accept_encoding=True)
            conn.putheader("Host", f"{host}:{self.port}")
            conn.endheaders()
            r = conn.getresponse()
            return r.status, r.read()
        finally:
            conn.close()


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_edit_break_fix_and_a_data_edit_in_the_browser(browser, tmp_path):
    study = copy_study(tmp_path / "study")
    template = study / "templates" / "discussion.md.j2"
    preview = Preview(study)
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    problems = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    try:
        preview.until(WAITING)
        page.goto(preview.url)
        bar = page.locator("#pg-preview-bar")
        bar.filter(has_text=UP_TO_DATE).wait_for()
        assert page.url.endswith("/manuscript.review.html")

        # a prose edit: the sentence appears; the scroll position and the open card stay
        number = page.locator('#pg-paper .pg-value[data-key="os.mean"]').first
        number.click()
        assert page.locator("#pg-card").is_visible()
        page.evaluate("window.scrollTo(0, 1500)")
        y = page.evaluate("window.scrollY")
        page.evaluate("window.pgSamePage = true")  # gone if the page reloads instead of patching itself in place
        with open(template, "a", encoding="utf-8") as fh:
            fh.write("\nA sentence the preview must show.\n")
        page.locator("#pg-paper").filter(has_text="A sentence the preview must show.").wait_for(timeout=60_000)
        page.locator("#pg-card").wait_for(state="visible", timeout=10_000)  # the client runs once the page is read
        assert page.locator("#pg-card").get_attribute("data-key") == "os.mean"
        assert abs(page.evaluate("window.scrollY") - y) <= 2
        assert page.evaluate("window.pgSamePage") is True
        # the review script runs again on the patched page: once, with the new cards and index
        page.keyboard.press("Escape")
        assert page.locator("#pg-card").is_hidden()
        page.locator('#pg-paper .pg-value[data-key="n_patients"]').first.click()
        assert page.locator("#pg-card").get_attribute("data-key") == "n_patients"
        assert page.locator("#pg-card-body").inner_text().count("Exact") == 1
        page.fill("#pg-search", "os.mean")
        assert page.locator("#pg-list li:not([hidden])").count() < page.locator("#pg-list li").count()
        page.fill("#pg-search", "")
        page.keyboard.press("Escape")
        page.locator('#pg-paper .pg-value[data-key="os.mean"]').first.click()
        bar.filter(has_text=UP_TO_DATE).wait_for(timeout=60_000)
        assert "A sentence the preview must show." in (study / "manuscript" / "manuscript.md").read_text(encoding="utf-8")

        # a broken template: the banner names file, line and rule; the last good page stays
        with open(template, "a", encoding="utf-8") as fh:
            fh.write("\nThere were 42 typed patients.\n")
        banner = page.locator("#pg-preview-error")
        banner.wait_for(state="visible", timeout=60_000)
        text = banner.inner_text()
        assert re.search(r"templates/discussion\.md\.j2:\d+:\d+: typed number '42'", text), text
        assert "A sentence the preview must show." in page.locator("#pg-paper").inner_text()
        assert "There were 42 typed patients." not in page.locator("#pg-paper").inner_text()
        page.screenshot(path=str(SCREENSHOT))
        link = banner.locator("a")
        line = int(re.search(r":(\d+):", text).group(1))
        assert link.inner_text() == f"templates/discussion.md.j2, line {line}"
        status, body = preview.get(link.get_attribute("href").split("#")[0])
        assert status == 200 and b"There were 42 typed patients." in body and f"<th>{line}</th>".encode() in body

        # the fix clears the banner and shows the fixed sentence
        edit(template, "There were 42 typed patients.", "The author fixed the sentence.")
        page.locator("#pg-paper").filter(has_text="The author fixed the sentence.").wait_for(timeout=60_000)
        banner.wait_for(state="hidden", timeout=60_000)

        # a data edit: the changed number is marked, old -> new in its card
        key = "surgery.op_time"
        bar.filter(has_text=UP_TO_DATE).wait_for(timeout=60_000)
        ledger = lambda: json.loads((study / "manuscript" / "numbers.json").read_text(encoding="utf-8"))  # noqa: E731
        old_text = ledger()["values"][key]["text"]
        before = page.locator(f'#pg-paper .pg-value[data-key="{key}"]').first.inner_text()
        data = study / "data" / "patients.csv"
        rows = data.read_text(encoding="utf-8").splitlines(keepends=True)
        col = rows[0].rstrip("\n").split(",").index("operation_minutes")
        cells = rows[1].rstrip("\n").split(",")
        cells[col] = str(int(float(cells[col])) + 97)
        data.write_text("".join([rows[0], ",".join(cells) + "\n", *rows[2:]]), encoding="utf-8")
        marked = page.locator(f'#pg-paper .pg-value.pg-changed[data-key="{key}"]').first
        marked.wait_for(timeout=60_000)
        after = marked.inner_text()
        assert after != before
        marked.click()
        note = page.locator("#pg-card .pg-changed-note")
        bar.filter(has_text=UP_TO_DATE).wait_for(timeout=60_000)
        new_text = ledger()["values"][key]["text"]
        assert old_text != new_text and old_text in before and new_text in after
        assert note.inner_text() == f"Changed since the preview started: {old_text} -> {new_text}"
        assert page.locator('#pg-paper .pg-value.pg-changed[data-key="os.mean"]').count() == 0

        # only manuscript/'s files, only for localhost
        assert preview.get("/numbers.json")[0] == 200
        assert preview.get("/numbers.json", host="localhost")[0] == 200
        for path in ("/../build.py", "/%2e%2e/build.py", "/..%2fbuild.py", "/figures/", "/../data/patients.csv",
                     "//etc/passwd", "/%2fetc%2fpasswd"):
            status, body = preview.get(path)
            assert status == 404, (path, status)
            assert b"operation_minutes" not in body and b"root:" not in body
        assert page.request.get(preview.url + "../build.py").status == 404
        assert preview.get("/numbers.json", host="evil.example")[0] == 400
        assert preview.get("/", host="127.0.0.1.evil.example")[0] == 400
        assert not problems, problems
    finally:
        context.close()
        code = preview.stop(signal.SIGHUP)  # the terminal closed
        print("\n".join(preview.lines))  # shown by pytest when the test failed
    assert code == 0, "\n".join(preview.lines)
    assert "stopped the preview" in preview.lines


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "kill"])
def test_ctrl_c_or_kill_stops_the_server(tmp_path, sig):
    study = copy_study(tmp_path / "study")
    preview = Preview(study)
    try:
        preview.until(WAITING)
        assert preview.get("/")[0] == 307
    finally:
        code = preview.stop(sig)
    assert code == 0, "\n".join(preview.lines)
    assert not any("Traceback" in line for line in preview.lines)
    with pytest.raises(OSError):
        preview.get("/")
