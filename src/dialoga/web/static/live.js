// Live updates: when the workspace changes, fetch the page's live parts again.
// The parts are rendered (and escaped) by the server; this only swaps them in.
(function () {
  "use strict";
  const source = document.body.dataset.events;
  if (!source || !window.EventSource) { return; }
  let refreshing = false;
  let again = false;  // a change came during a refresh, whose answers may predate it
  async function refresh() {
    if (refreshing) { again = true; return; }
    refreshing = true;
    try {
      do {
        again = false;
        for (const part of document.querySelectorAll("[data-live]")) {
          const url = new URL(window.location.href);
          url.searchParams.set("fragment", part.dataset.live);
          const response = await fetch(url, { credentials: "same-origin" });
          if (response.ok) { part.innerHTML = await response.text(); }
        }
      } while (again);
      document.body.dataset.refreshed = String(Date.now());
    } finally {
      refreshing = false;
    }
  }
  // Each (re)connected stream first says where the activity counter is: a change made
  // while it was away (between two streams) is refreshed then, not missed.
  let seen = null;
  const stream = new EventSource(source);
  stream.addEventListener("ready", (event) => {
    if (seen !== null && event.data !== seen) { refresh(); }
    seen = event.data;
  });
  stream.addEventListener("changed", (event) => { seen = event.data; refresh(); });
})();
