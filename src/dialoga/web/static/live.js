// Live updates: when the workspace changes, fetch the page's live parts again.
// The parts are rendered (and escaped) by the server; this only swaps them in.
(function () {
  "use strict";
  const source = document.body.dataset.events;
  if (!source || !window.EventSource) { return; }
  let refreshing = false;
  async function refresh() {
    if (refreshing) { return; }
    refreshing = true;
    try {
      for (const part of document.querySelectorAll("[data-live]")) {
        const url = new URL(window.location.href);
        url.searchParams.set("fragment", part.dataset.live);
        const response = await fetch(url, { credentials: "same-origin" });
        if (response.ok) { part.innerHTML = await response.text(); }
      }
      document.body.dataset.refreshed = String(Date.now());
    } finally {
      refreshing = false;
    }
  }
  new EventSource(source).addEventListener("changed", refresh);
})();
