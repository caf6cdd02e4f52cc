// papergen preview (python build.py preview): loaded before the review edition's own script, it notes the
// listeners that script adds, so that preview.js can patch the page in place after a build and run the
// review script again (same text, so the same CSP hash) without the old listeners. preview.js calls stop()
// once the review script has run; nothing added after that is noted.
(() => {
  "use strict";
  const add = EventTarget.prototype.addEventListener;
  const noted = [];
  let noting = true;
  EventTarget.prototype.addEventListener = function addNoted(type, listener, options) {
    if (noting) noted.push([this, type, listener, options]);
    return add.call(this, type, listener, options);
  };
  window.papergenReview = {
    stop() { noting = false; },
    // The review script's old listeners removed, the script run again on the page as it is now.
    rerun(script) {
      for (const [target, type, listener, options] of noted.splice(0)) {
        target.removeEventListener(type, listener, options);
      }
      const again = document.createElement("script");
      again.textContent = script.textContent;
      noting = true;
      try {
        script.replaceWith(again);  // an inline script runs when it is inserted
      } finally {
        noting = false;
      }
      return again;
    },
  };
})();
