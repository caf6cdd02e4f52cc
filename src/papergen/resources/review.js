// papergen review edition: open a number's trace card (click, or Tab + Enter), filter the index.
// The cards are HTML built by papergen from the ledger (escaped there); the ledger is embedded too.
(() => {
  "use strict";
  const ledger = JSON.parse(document.getElementById("pg-ledger").textContent);
  const cards = JSON.parse(document.getElementById("pg-cards").textContent);
  const values = ledger.values;
  const card = document.getElementById("pg-card");
  const cardBody = document.getElementById("pg-card-body");
  const closeButton = card.querySelector(".pg-close");
  const search = document.getElementById("pg-search");
  const count = document.getElementById("pg-count");
  const items = Array.from(document.querySelectorAll("#pg-list li"));
  let opener = null;
  let marked = [];

  const numbersFor = (key) => Array.from(document.querySelectorAll("#pg-paper .pg-value"))
    .filter((el) => el.dataset.key === key);

  // Every generated number: focusable, announced as a button that opens its trace.
  for (const el of document.querySelectorAll("#pg-paper .pg-value")) {
    const entry = values[el.dataset.key];
    el.tabIndex = 0;
    el.setAttribute("role", "button");
    el.setAttribute("aria-haspopup", "dialog");
    el.setAttribute("aria-label", `${el.textContent}: generated number ${el.dataset.key}` +
      (entry && entry.definition ? `, ${entry.definition}` : "") + " Press Enter for its trace.");
  }

  function position(anchor) {
    let r = anchor.getBoundingClientRect();
    const short = window.innerHeight - (r.bottom + 6 + card.offsetHeight + 8);
    if (short < 0 && !anchor.closest("aside")) {  // scroll so the card fits below the number, keeping it in view
      window.scrollBy(0, Math.min(-short, Math.max(0, r.top - 8)));
      r = anchor.getBoundingClientRect();
    }
    const width = card.offsetWidth;
    const left = Math.max(8, Math.min(r.left, document.documentElement.clientWidth - width - 8));
    let top = r.bottom + 6;
    if (top + card.offsetHeight > window.innerHeight && r.top - card.offsetHeight - 6 > 0) {
      top = r.top - card.offsetHeight - 6;  // no room below: open above the number
    }
    card.style.left = `${left + window.scrollX}px`;
    card.style.top = `${top + window.scrollY}px`;
  }

  function open(key, anchor) {
    if (!(key in cards)) return;
    cardBody.innerHTML = cards[key];
    card.hidden = false;
    card.dataset.key = key;
    marked.forEach((el) => el.classList.remove("pg-active"));
    marked = numbersFor(key);
    marked.forEach((el) => el.classList.add("pg-active"));
    opener = anchor;
    position(anchor);
    card.setAttribute("tabindex", "-1");
    card.focus({ preventScroll: true });
  }

  function close() {
    if (card.hidden) return;
    card.hidden = true;
    marked.forEach((el) => el.classList.remove("pg-active"));
    marked = [];
    if (opener && document.body.contains(opener)) opener.focus({ preventScroll: true });
  }

  document.addEventListener("click", (ev) => {
    const number = ev.target.closest("#pg-paper .pg-value");
    if (number) {
      ev.preventDefault();  // a number inside a link (a citation) opens its card, not the link
      open(number.dataset.key, number);
      return;
    }
    const item = ev.target.closest(".pg-index-item");
    if (item) {
      const first = numbersFor(item.dataset.key)[0];
      if (first) {
        first.scrollIntoView({ block: "center" });
        first.classList.remove("pg-flash");
        void first.offsetWidth;  // restart the flash animation
        first.classList.add("pg-flash");
      }
      open(item.dataset.key, first || item);
      return;
    }
    if (!card.contains(ev.target)) close();
  });

  document.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape") {
      close();
      return;
    }
    const number = ev.target.closest && ev.target.closest("#pg-paper .pg-value");
    if (number && (ev.key === "Enter" || ev.key === " ")) {
      ev.preventDefault();
      open(number.dataset.key, number);
    }
  });

  closeButton.addEventListener("click", close);
  window.addEventListener("resize", () => { if (!card.hidden && opener) position(opener); });

  // The index filter: every word must occur in the key, printed text or definition.
  search.addEventListener("input", () => {
    const words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    let shown = 0;
    for (const li of items) {
      const hit = words.every((w) => li.dataset.search.includes(w));
      li.hidden = !hit;
      if (hit) shown += 1;
    }
    count.textContent = `${shown} of ${items.length} numbers`;
  });
})();
