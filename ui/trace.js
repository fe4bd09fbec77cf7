// Saga trace: every internal and public event of one request, across the services, as a
// causation tree: each event under the event that caused it, with the time the hop took.
// An order id is resolved to the correlation id its placement was made with.

import { api, el, navigate, table } from "/ui/app.js";

async function load(id) {
  let { data } = await api(`/admin/trace/${encodeURIComponent(id)}`);
  if (data.count) return { correlationId: id, events: data.events };
  // Not a correlation id: perhaps an order's id.
  const history = await api(`/queries/orders/${encodeURIComponent(id)}/history`).catch(() => null);
  const correlation = history?.status === 200 ? history.data.events[0]?.correlationId : null;
  if (!correlation) return { correlationId: id, events: [] };
  ({ data } = await api(`/admin/trace/${encodeURIComponent(correlation)}`));
  return { correlationId: correlation, orderId: id, events: data.events };
}

/** The events as a tree: roots first (caused by nothing in the trace), children by time. */
function tree(events) {
  const byId = new Map(events.map((e) => [e.eventId, e]));
  const children = new Map();
  const roots = [];
  for (const e of events) {
    const cause = byId.get(e.causationId);
    if (cause) (children.get(cause.eventId) ?? children.set(cause.eventId, []).get(cause.eventId)).push(e);
    else roots.push(e);
  }
  const rows = [];
  const walk = (e, depth, cause) => {
    rows.push({ e, depth, cause });
    for (const c of children.get(e.eventId) ?? []) walk(c, depth + 1, e);
  };
  for (const r of roots) walk(r, 0, null);
  return rows;
}

export function trace(main, [id], query) {
  document.title = "Saga trace · Tributary";
  const input = el("input", { id: "trace-id", name: "id", value: id ?? "", required: true, maxlength: 128 });
  const summary = el("p", { id: "chain" });
  const body = el("tbody", { id: "trace" });
  main.append(el("h1", {}, "Saga trace"),
    el("form", { class: "inline", onsubmit: (event) => {
      event.preventDefault();
      navigate(`/ui/trace/${encodeURIComponent(input.value.trim())}`);
    } }, el("label", { for: "trace-id" }, "Order id or correlation id", input), el("button", { type: "submit" }, "Trace")),
    summary,
    table(["event", "store", "position", "time", "hop", "stream"], body));
  if (!id) return;
  load(id).then(({ correlationId, orderId, events }) => {
    if (!events.length) { summary.textContent = `No events carry ${id} (recent sagas only).`; return; }
    const chain = events.filter((e) => e.store === "public").map((e) => e.type);
    summary.replaceChildren(orderId ? `Order ${orderId}, correlation ${correlationId}: ` : `Correlation ${correlationId}: `,
      el("strong", { class: "chain" }, chain.join(" → ")));
    body.replaceChildren(...tree(events).map(({ e, depth, cause }) => {
      const hop = cause ? `+${Math.max(0, Date.parse(e.time) - Date.parse(cause.time))} ms` : "";
      const link = e.store === "public" ? null : `/ui/${e.store}/${encodeURIComponent(e.stream.replace(/^[a-z]+-/, ""))}`;
      return el("tr", { "data-type": e.type, "data-store": e.store },
        el("td", {}, el("span", { class: "indent", style: undefined, "data-depth": depth }, depth ? "↳ ".padStart(depth * 2 + 2, " ") : ""),
          el("details", { class: "inline-details" }, el("summary", {}, e.type), el("pre", { class: "json" }, JSON.stringify(e, null, 2)))),
        el("td", {}, e.store), el("td", { class: "num" }, e.position), el("td", { class: "muted" }, e.time),
        el("td", { class: "num" }, hop),
        el("td", {}, link ? el("a", { href: link, "data-link": true }, e.stream) : e.stream));
    }));
  }).catch((error) => { summary.textContent = error.message; });
}
