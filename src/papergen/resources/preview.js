// papergen preview (python build.py preview): follows the server's state and, after each build, patches the
// review edition in place (fetching only the parts of the page that changed: the manuscript, the index, the
// ledger, the cards; the review script then runs again on them) or, when more than those changed, reloads it;
// either way the scroll position and the open number card are kept. Shows the exports' state in a top bar, a
// failed build's error as a banner, and marks the numbers changed since the preview started (old -> new).
// Served as a same-origin file, so the page's policy needs only script-src 'self' and connect-src 'self'.
(() => {
  "use strict";
  const me = document.currentScript;
  const session = me.dataset.session || "";
  const review = window.papergenReview;  // preview-first.js, loaded before the review script
  if (review) review.stop();
  let shown = Number(me.dataset.version || 0);  // the version of the page as it is now
  let parts = me.dataset.parts ? JSON.parse(me.dataset.parts) : null;  // its parts' hashes
  let pristine = null;  // the manuscript's top-level nodes as last fetched (the live ones carry the review script's marks)
  let patching = false;
  let again = false;
  const KEEP = "papergen-preview-view";
  const STATUS = {
    updating: "updating DOCX and PDF …",
    ready: "DOCX and PDF up to date",
    failed: "DOCX and PDF not updated: the build failed (they are the last good build's)",
  };
  let changed = {};

  const css = document.createElement("link");
  css.rel = "stylesheet";
  css.href = "/__papergen/preview.css";
  document.head.appendChild(css);

  const bar = document.createElement("div");
  bar.id = "pg-preview-bar";
  bar.setAttribute("role", "status");
  bar.setAttribute("aria-live", "polite");
  const banner = document.createElement("div");
  banner.id = "pg-preview-error";
  banner.setAttribute("role", "alert");
  banner.hidden = true;
  // Fixed, set here (not by preview.css, which loads later): the bar and banner lie over the page and never
  // move its text, so a reload keeps the reader's scroll position to the pixel.
  for (const [el, top] of [[bar, "0"], [banner, "1.8rem"]]) {
    Object.assign(el.style, { position: "fixed", top, left: "0", right: "0", zIndex: "40" });
  }
  document.body.style.paddingTop = "1.8rem";  // room for the bar, before the scroll position is restored
  document.body.prepend(bar, banner);

  function showStatus(text) {
    bar.textContent = `Live preview · ${text}`;
    bar.dataset.status = text;
  }

  function showError(error) {
    banner.replaceChildren();
    banner.hidden = !error;
    if (!error) return;
    const message = document.createElement("span");
    message.className = "pg-preview-message";
    message.textContent = error.message;
    banner.append(message);
    if (error.file && error.line) {
      const link = document.createElement("a");
      link.href = "/__papergen/source#at";
      link.target = "_blank";
      link.rel = "noopener";
      link.textContent = `${error.file}, line ${error.line}`;
      banner.append(" ", link);
    }
  }

  // Numbers whose printed text changed since the preview started: marked, and old -> new in their card.
  function markChanged() {
    for (const el of document.querySelectorAll("#pg-paper .pg-value")) {
      const c = changed[el.dataset.key];
      el.classList.toggle("pg-changed", Boolean(c));
      if (c) el.title = `changed: ${c.old} -> ${c.new}`;
      else el.removeAttribute("title");
    }
    noteInCard();
  }

  function noteInCard() {
    const card = document.getElementById("pg-card");
    const body = document.getElementById("pg-card-body");
    if (!card || !body || card.hidden) return;
    const c = changed[card.dataset.key];
    const old = body.querySelector(".pg-changed-note");
    if (old && (!c || old.dataset.key !== card.dataset.key)) old.remove();
    if (!c || body.querySelector(".pg-changed-note")) return;
    const note = document.createElement("p");
    note.className = "pg-changed-note";
    note.dataset.key = card.dataset.key;
    const was = document.createElement("del");
    was.textContent = c.old;
    const now = document.createElement("ins");
    now.textContent = c.new;
    note.append("Changed since the preview started: ", was, " -> ", now);
    body.prepend(note);
  }

  const cardBody = document.getElementById("pg-card-body");
  if (cardBody) new MutationObserver(noteInCard).observe(cardBody, { childList: true });

  // Reloads keep the reader's place: scroll position and the open card.
  function keepView() {
    const card = document.getElementById("pg-card");
    sessionStorage.setItem(KEEP, JSON.stringify({
      x: window.scrollX, y: window.scrollY, card: card && !card.hidden ? card.dataset.key : null }));
  }

  function restoreView() {
    const kept = sessionStorage.getItem(KEEP);
    sessionStorage.removeItem(KEEP);
    if (!kept) return;
    const view = JSON.parse(kept);
    window.scrollTo(view.x, view.y);
    if (view.card) {
      const number = Array.from(document.querySelectorAll("#pg-paper .pg-value"))
        .find((el) => el.dataset.key === view.card);
      if (number) number.click();
      window.scrollTo(view.x, view.y);
    }
    window.addEventListener("load", () => window.scrollTo(view.x, view.y), { once: true });
  }

  if ("scrollRestoration" in history) history.scrollRestoration = "manual";
  restoreView();
  showStatus("connecting …");

  function reload() {
    events.close();
    keepView();
    window.location.reload();
  }

  // The manuscript's top-level nodes that changed since the last fetch replaced, the others left as they are
  // (figures are not decoded again); the first patch replaces them all.
  function patchPaper(html) {
    const paper = document.getElementById("pg-paper");
    const template = document.createElement("template");
    template.innerHTML = html;
    const next = Array.from(template.content.childNodes);
    const live = Array.from(paper.childNodes);
    if (!pristine || pristine.length !== live.length) {
      paper.replaceChildren(...next.map((n) => document.importNode(n, true)));
    } else {
      let a = 0;
      while (a < next.length && a < pristine.length && next[a].isEqualNode(pristine[a])) a += 1;
      let b = 0;
      while (b < next.length - a && b < pristine.length - a
             && next[next.length - 1 - b].isEqualNode(pristine[pristine.length - 1 - b])) b += 1;
      const fresh = next.slice(a, next.length - b).map((n) => document.importNode(n, true));
      const old = live.slice(a, live.length - b);
      if (old.length) old[0].before(...fresh);
      else if (b) live[live.length - b].before(...fresh);
      else paper.append(...fresh);
      old.forEach((n) => n.remove());
    }
    pristine = next;
  }

  function apply(got) {
    const card = document.getElementById("pg-card");
    const view = { x: window.scrollX, y: window.scrollY, card: card && !card.hidden ? card.dataset.key : null };
    const search = document.getElementById("pg-search");
    const query = search ? search.value : "";
    const p = got.parts;
    if ("banner" in p) document.querySelector("header.pg-banner").innerHTML = p.banner;
    if ("paper" in p) patchPaper(p.paper);
    if ("index" in p) document.getElementById("pg-index").innerHTML = p.index;
    if ("ledger" in p) document.getElementById("pg-ledger").textContent = p.ledger;
    if ("cards" in p) document.getElementById("pg-cards").textContent = p.cards;
    const scripts = document.querySelectorAll("body script:not([src]):not([type])");
    review.rerun(scripts[scripts.length - 1]);  // its numbers, cards, index and listeners anew
    const box = document.getElementById("pg-search");
    if (box && query) {
      box.value = query;
      box.dispatchEvent(new Event("input"));
    }
    if (view.card) {
      if (card) card.hidden = true;
      const number = Array.from(document.querySelectorAll("#pg-paper .pg-value"))
        .find((el) => el.dataset.key === view.card);
      if (number) number.click();
    }
    window.scrollTo(view.x, view.y);
    parts = got.hashes;
    shown = got.version;
    markChanged();
  }

  // The parts that changed since this page's version, fetched and put in; once more if a build ended meanwhile.
  async function patch() {
    if (patching) {
      again = true;
      return;
    }
    patching = true;
    try {
      do {
        again = false;
        const have = Object.entries(parts).map(([name, hash]) => `${name}:${hash}`).join(",");
        const response = await fetch(`/__papergen/parts?have=${encodeURIComponent(have)}`, { cache: "no-store" });
        const got = await response.json();
        if (got.reload) {
          reload();
          return;
        }
        apply(got);
      } while (again);
    } catch (err) {
      reload();
    } finally {
      patching = false;
    }
  }

  const events = new EventSource("/__papergen/events");
  events.addEventListener("state", (ev) => {
    const state = JSON.parse(ev.data);
    if (state.session !== session && state.version > 0) {  // the preview restarted: its page, whole
      reload();
      return;
    }
    changed = state.changed || {};
    if (state.version > shown) {  // a new page: in place if only its parts changed
      if (!review || !parts || !state.parts || state.parts.frame !== parts.frame) {
        reload();
        return;
      }
      patch();  // marks the changed numbers once the new parts are in (apply): not the old text before it
    } else {
      markChanged();
    }
    showStatus(STATUS[state.status] || state.status);
    showError(state.error);
  });
  events.addEventListener("error", () => showStatus("the preview server is not reachable (stopped?); retrying …"));
  window.addEventListener("pagehide", () => events.close());
})();
