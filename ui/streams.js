// Stream browser: each store's streams, filtered by a part of their name and paged; one
// stream's events with their metadata. Correlation and causation ids link to the saga trace.

import { api, el, navigate, table } from "/ui/app.js";

const STORES = ["customers", "orders", "public"];

export function streams(main, [store, stream], query) {
  store = STORES.includes(store) ? store : "customers";   // only ever one of the stores in a request path
  if (stream !== undefined) return events(main, store, stream, query);
  document.title = `Streams of ${store} · Tributary`;
  const filter = el("input", { id: "containing", name: "containing", value: query.get("containing") || "", maxlength: 200 });
  const body = el("tbody", { id: "streams" });
  const more = el("p", { id: "more" });
  main.append(el("h1", {}, "Streams"),
    el("nav", { "aria-label": "Stores", class: "controls" }, STORES.map((s) =>
      el("a", { href: `/ui/streams/${s}`, "data-link": true, "aria-current": s === store ? "page" : false }, s))),
    el("form", { class: "inline", onsubmit: (event) => {
      event.preventDefault();
      navigate(`/ui/streams/${store}${filter.value ? `?containing=${encodeURIComponent(filter.value)}` : ""}`);
    } }, el("label", { for: "containing" }, "Name contains", filter), el("button", { type: "submit" }, "Filter")),
    table(["stream", "version"], body), more);
  const params = new URLSearchParams();
  for (const key of ["containing", "after"]) if (query.get(key)) params.set(key, query.get(key));
  params.set("limit", "100");
  api(`/admin/stores/${store}/streams?${params}`).then(({ data }) => {
    body.replaceChildren(...data.streams.map((s) => el("tr", { "data-stream": s.name },
      el("td", {}, el("a", { href: `/ui/streams/${store}/${encodeURIComponent(s.name)}`, "data-link": true }, s.name)),
      el("td", { class: "num" }, s.version))));
    if (!data.streams.length) body.append(el("tr", {}, el("td", { colspan: 2, class: "muted" }, "No stream.")));
    if (data.next) {
      const next = new URLSearchParams(query);
      next.set("after", data.next);
      more.replaceChildren(el("a", { href: `/ui/streams/${store}?${next}`, "data-link": true, rel: "next" }, "Next page"));
    }
  }).catch((error) => { more.textContent = error.message; });
}

function events(main, store, stream, query) {
  document.title = `${stream} · Tributary`;
  const body = el("tbody", { id: "stream-events" });
  const more = el("p", { id: "more" });
  main.append(el("h1", {}, "Stream ", el("code", {}, stream)),
    el("p", {}, el("a", { href: `/ui/streams/${store}`, "data-link": true }, `All streams of ${store}`)),
    table(["version", "type", "position", "time", "correlation", "causation", "event"], body), more);
  const from = query.get("from") || "0";
  api(`/admin/stores/${store}/streams/${encodeURIComponent(stream)}?from=${encodeURIComponent(from)}&limit=100`).then(({ status, data }) => {
    if (status !== 200) { more.textContent = data?.detail || `HTTP ${status}`; return; }
    const trace = (id) => (id ? el("a", { href: `/ui/trace/${encodeURIComponent(id)}`, "data-link": true }, id) : "");
    body.replaceChildren(...data.events.map((e) => el("tr", { id: `event-${e.eventId}` },
      el("td", { class: "num" }, e.version), el("td", {}, e.type), el("td", { class: "num" }, e.position),
      el("td", { class: "muted" }, e.time), el("td", {}, trace(e.correlationId)),
      el("td", {}, e.causationId ? el("a", { href: `/ui/trace/${encodeURIComponent(e.correlationId || e.causationId)}`, "data-link": true }, e.causationId) : ""),
      el("td", {}, el("details", {}, el("summary", {}, e.eventId), el("pre", { class: "json" }, JSON.stringify({ data: e.data, properties: e.properties, schemaVersion: e.schemaVersion }, null, 2)))))));
    if (data.next !== undefined) {
      more.replaceChildren(el("a", { href: `/ui/streams/${store}/${encodeURIComponent(stream)}?from=${data.next}`, "data-link": true, rel: "next" }, "Next events"));
    }
  }).catch((error) => { more.textContent = error.message; });
}
