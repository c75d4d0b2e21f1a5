// breakfix view: the only client code. Live pages: polls /api/stamp (same origin) every 3 s and reloads when the store
// gained records, unless switched off (remembered per browser) or the reader is typing. Filter menus apply on change.
(() => {
  const live = document.getElementById("live");
  const key = "breakfix.view.live";
  if (live) {
    live.checked = localStorage.getItem(key) !== "off";
    live.addEventListener("change", () => localStorage.setItem(key, live.checked ? "on" : "off"));
  }
  const stamp = document.body.dataset.stamp;
  const typing = () => {
    const a = document.activeElement;
    return a !== null && a !== live && /^(INPUT|TEXTAREA|SELECT)$/.test(a.tagName);
  };
  setInterval(async () => {
    if (!live?.checked || document.hidden || typing()) return;
    try {
      const r = await fetch("/api/stamp", { cache: "no-store" });
      if (r.ok && (await r.text()) !== stamp) location.reload();
    } catch {
      // the server stopped: keep the page as it is
    }
  }, 3000);
  for (const form of document.querySelectorAll("form[data-autosubmit]")) {
    for (const sel of form.querySelectorAll("select, input[type=checkbox]")) {
      sel.addEventListener("change", () => form.requestSubmit());
    }
  }
})();
