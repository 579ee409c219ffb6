// Progress without reloading the page: an element with data-poll="URL" asks that URL for a small JSON
// ({"done": bool, "phase": "…", "figures": {name: number}}) — after 2 s, then less and less often (× 1.5,
// at most every 15 s; not while the tab is hidden) — writes the figures into its [data-figure] cells and
// reloads the page once, when the work is done. Without JavaScript the <noscript> refresh does it.
document.addEventListener("DOMContentLoaded", () => {
  const box = document.querySelector("[data-poll]");
  if (!box) return;
  const url = box.dataset.poll;
  let delay = 2000;
  const number = new Intl.NumberFormat("zh-CN");
  const later = () => {
    window.setTimeout(tick, delay);
    delay = Math.min(delay * 1.5, 15000);
  };
  async function tick() {
    if (document.hidden) {
      document.addEventListener("visibilitychange", tick, { once: true });
      return;
    }
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (response.ok) {
        const data = await response.json();
        if (data.done) {
          window.location.reload();
          return;
        }
        for (const [name, value] of Object.entries(data.figures || {})) {
          const cell = box.querySelector(`[data-figure="${name}"]`);
          if (!cell || typeof value !== "number") continue;
          if (cell.tagName === "PROGRESS") cell.value = value;
          else cell.textContent = number.format(value);
        }
        const phase = box.querySelector("[data-phase]");
        if (phase && typeof data.phase === "string") phase.textContent = data.phase;
      }
    } catch (error) {
      // offline for a moment: ask again later
    }
    later();
  }
  later();
});
