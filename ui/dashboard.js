// Dashboard: every store and every runtime component, live over /streams/health (no polling).
// Rates come from two successive frames: appends/s from the stores' totals, events per batch
// from the events and batches written between them.

import { badge, el, liveSource, table } from "/ui/app.js";

function statusKind(status, healthy) {
  if (!healthy || status === "failed" || status === "stopped") return "bad";
  if (status === "retrying" || status === "catching-up" || status === "starting") return "warn";
  return "ok";
}

export function dashboard(main) {
  document.title = "Dashboard · Tributary";
  const summary = el("p", { id: "summary", class: "muted" }, "Connecting…");
  const stores = el("tbody", { id: "stores" });
  const components = el("tbody", { id: "components" });
  main.append(
    el("h1", {}, "Dashboard"), summary,
    el("h2", {}, "Stores"),
    table(["store", "status", "last position", "appends/s", "events/s", "events per batch"], stores),
    el("h2", {}, "Components"),
    table(["service", "kind", "name", "status", "position", "lag", "detail"], components));

  let previous = null;
  return liveSource(() => "/streams/health", (source) => source.addEventListener("health", (event) => {
    const frame = JSON.parse(event.data);
    const now = performance.now();
    const h = frame.health;
    summary.replaceChildren(badge(h.status, h.status === "ok" ? "ok" : "bad"), " ",
      h.ready ? "ready" : "not ready (read models catching up, or a store refusing writes)",
      ` · ${frame.subscribers} event-stream subscriber${frame.subscribers === 1 ? "" : "s"}`);
    stores.replaceChildren(...Object.entries(h.stores).map(([name, s]) => {
      const totals = frame.stores[name] || {};
      const before = previous?.stores[name];
      const seconds = previous ? (now - previous.at) / 1000 : 0;
      const rate = (key) => (before && seconds > 0 ? Math.max(0, (totals[key] - before[key]) / seconds).toFixed(0) : "–");
      const batches = before ? totals.batches - before.batches : 0;
      const perBatch = batches > 0 ? ((totals.events - before.events) / batches).toFixed(1) : "–";
      return el("tr", { "data-store": name },
        el("td", {}, name),
        el("td", {}, badge(s.status, s.status === "healthy" ? "ok" : "bad"), s.reason ? el("div", { class: "error" }, s.reason) : null),
        el("td", { class: "num" }, s.lastPosition), el("td", { class: "num" }, rate("appends")),
        el("td", { class: "num" }, rate("events")), el("td", { class: "num" }, perBatch));
    }));
    components.replaceChildren(...h.components.map((c) => {
      const detail = [];
      if (c.error) detail.push(el("div", { class: "error" }, c.error));
      if (c.parked) detail.push(el("a", { href: "/ui/operations", "data-link": true }, `${c.parked} parked`));
      if (c.rebuild) detail.push(el("span", {}, "rebuilding ", el("progress", { max: Math.max(1, c.rebuild.target), value: c.rebuild.position, "aria-label": `rebuild of ${c.name}` })));
      return el("tr", { "data-component": `${c.service}/${c.name}` },
        el("td", {}, c.service), el("td", {}, c.kind), el("td", {}, c.name),
        el("td", {}, badge(c.status, statusKind(c.status, c.healthy))),
        el("td", { class: "num" }, c.position), el("td", { class: "num" }, c.lag), el("td", {}, detail));
    }));
    previous = { at: now, stores: frame.stores };
  }));
}
