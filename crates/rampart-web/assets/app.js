// rampart's console script: refreshes live panels and nothing else.
// Panels marked data-live are fetched again every second; the
// server answers 304 when nothing changed. The HTML comes from the
// server, which escapes every value in it.
"use strict";

(function () {
  const PERIOD_MS = 1000;

  function live(panel) {
    const url = panel.getAttribute("data-live");
    let tag = null;
    let busy = false;
    async function refresh() {
      if (busy || document.hidden) return;
      busy = true;
      try {
        const headers = tag ? { "If-None-Match": tag } : {};
        const response = await fetch(url, { headers, credentials: "same-origin" });
        if (response.status === 200) {
          tag = response.headers.get("ETag");
          const html = await response.text();
          const doc = new DOMParser().parseFromString(html, "text/html");
          panel.replaceChildren(...Array.from(doc.body.childNodes));
          panel.dataset.refreshed = String(Date.now());
        } else if (response.status === 304) {
          tag = response.headers.get("ETag") || tag;
        }
      } catch (e) {
        // The server is restarting or gone: try again next time.
      } finally {
        busy = false;
      }
    }
    setInterval(refresh, PERIOD_MS);
  }

  // A preset range clears the dates, and dates clear the preset.
  function ranges() {
    const range = document.getElementById("range");
    const since = document.getElementById("since");
    const until = document.getElementById("until");
    if (!range || !since || !until) return;
    range.addEventListener("change", function () {
      if (range.value) { since.value = ""; until.value = ""; }
    });
    [since, until].forEach(function (input) {
      input.addEventListener("change", function () {
        if (input.value) range.value = "";
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-live]").forEach(live);
    ranges();
  });
})();
