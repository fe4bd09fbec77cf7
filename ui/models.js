// Read models: the customers and orders lists (filters and cursors in the URL), and one
// document: live through /streams/queries/<kind>/<id>, its history, and a version slider that
// shows the document as it was at each version (the temporal query ?version=N).

import { api, badge, el, liveSource, navigate, table } from "/ui/app.js";

const KINDS = {
  customers: {
    title: "Customers", one: "customer", id: "customerId",
    filters: [{ name: "status", label: "Status", options: ["", "active", "deactivated"] }],
    columns: [["customerId", "id"], ["name", "name"], ["email", "email"], ["status", "status"],
      ["reservedCredit", "reserved"], ["availableCredit", "available"], ["orderCount", "orders"]],
  },
  orders: {
    title: "Orders", one: "order", id: "orderId",
    filters: [{ name: "status", label: "Status", options: ["", "pending", "approved", "rejected", "cancelled", "shipped"] },
      { name: "customerId", label: "Customer id" }],
    columns: [["orderId", "id"], ["customerName", "customer"], ["status", "status"], ["total", "total"],
      ["currency", "currency"], ["updatedAt", "updated"]],
  },
};

const STATUS_KIND = { active: "ok", approved: "ok", shipped: "ok", pending: "warn", deactivated: "bad", rejected: "bad", cancelled: "bad" };

function cell(key, value) {
  return key === "status" ? badge(value, STATUS_KIND[value] || "") : String(value ?? "");
}

export function models(main, [kindName, id], query) {
  const kind = KINDS[kindName];
  if (!kind) return;
  return id === undefined ? list(main, kindName, kind, query) : documentPage(main, kindName, kind, id);
}

function list(main, kindName, kind, query) {
  document.title = `${kind.title} · Tributary`;
  const inputs = kind.filters.map((f) => f.options
    ? el("select", { id: `f-${f.name}`, name: f.name }, f.options.map((o) => el("option", { value: o, selected: query.get(f.name) === o }, o || "any")))
    : el("input", { id: `f-${f.name}`, name: f.name, value: query.get(f.name) || "", pattern: "[A-Za-z0-9._~-]{1,64}" }));
  const form = el("form", { class: "inline", onsubmit: (event) => {
    event.preventDefault();
    const params = new URLSearchParams();
    for (const input of inputs) if (input.value) params.set(input.name, input.value);
    navigate(`/ui/${kindName}${params.size ? `?${params}` : ""}`);
  } }, kind.filters.map((f, i) => el("label", { for: inputs[i].id }, f.label, inputs[i])), el("button", { type: "submit" }, "Filter"));
  const body = el("tbody", { id: "rows" });
  const more = el("p", { id: "more" });
  main.append(el("h1", {}, kind.title), form,
    table(kind.columns.map(([, h]) => h), body), more);
  const params = new URLSearchParams(query);
  params.set("limit", "50");
  api(`/queries/${kindName}?${params}`).then(({ status, data }) => {
    if (status !== 200) { more.textContent = data?.detail || `HTTP ${status}`; return; }
    body.replaceChildren(...data.items.map((item) => el("tr", { "data-id": item[kind.id] },
      kind.columns.map(([key], i) => el("td", {}, i === 0
        ? el("a", { href: `/ui/${kindName}/${encodeURIComponent(item[key])}`, "data-link": true }, item[key]) : cell(key, item[key]))))));
    if (!data.items.length) body.append(el("tr", {}, el("td", { colspan: kind.columns.length, class: "muted" }, "Nothing here.")));
    if (data.nextCursor) {
      const next = new URLSearchParams(query);
      next.set("cursor", data.nextCursor);
      more.replaceChildren(el("a", { href: `/ui/${kindName}?${next}`, "data-link": true, rel: "next" }, "Next page"));
    }
  }).catch((error) => { more.textContent = error.message; });
}

function documentPage(main, kindName, kind, id) {
  document.title = `${kind.one} ${id} · Tributary`;
  const live = el("pre", { id: "document", class: "json" }, "…");
  const slider = el("input", { id: "version", name: "version", type: "range", min: 0, max: 0, value: 0, step: 1 });
  const asOfLabel = el("span", { id: "version-label", class: "muted" });
  const asOf = el("pre", { id: "as-of", class: "json" });
  const history = el("tbody", { id: "history" });
  main.append(el("h1", {}, `${kind.one} `, el("code", {}, id)),
    el("p", {}, el("a", { href: `/ui/${kindName}`, "data-link": true }, `All ${kindName}`)),
    el("h2", {}, "Now (live)"), live,
    el("h2", {}, "As it was"),
    el("div", { class: "controls" }, el("label", { for: "version" }, "Version", slider), asOfLabel), asOf,
    el("h2", {}, "History"),
    table(["version", "event", "time", "position", "correlation", "causation", "data"], history));

  const path = `${kindName}/${encodeURIComponent(id)}`;
  const close = liveSource(() => `/streams/queries/${path}`, (source) => {
    source.addEventListener(kind.one, (event) => {
      const doc = JSON.parse(event.data);
      live.textContent = JSON.stringify(doc, null, 2);
      loadHistory();
    });
    source.addEventListener("not-found", () => { live.textContent = `No ${kind.one} ${id} (yet).`; });
  });

  async function showVersion() {
    asOfLabel.textContent = `version ${slider.value} of ${slider.max}`;
    const { status, data } = await api(`/queries/${path}?version=${slider.value}`);
    asOf.textContent = status === 200 ? JSON.stringify(data, null, 2) : (data?.detail || `HTTP ${status}`);
  }
  slider.addEventListener("input", showVersion);

  async function loadHistory() {
    const { status, data } = await api(`/queries/${path}/history`);
    if (status !== 200) return;
    const atEnd = Number(slider.value) === Number(slider.max);
    slider.max = String(Math.max(0, data.events.length - 1));
    if (atEnd) slider.value = slider.max;
    showVersion();
    history.replaceChildren(...data.events.map((e) => el("tr", {},
      el("td", { class: "num" }, e.version), el("td", {}, e.type), el("td", { class: "muted" }, e.time), el("td", { class: "num" }, e.position),
      el("td", {}, e.correlationId ? el("a", { href: `/ui/trace/${encodeURIComponent(e.correlationId)}`, "data-link": true }, e.correlationId) : ""),
      el("td", {}, e.causationId ?? ""),
      el("td", {}, el("details", {}, el("summary", {}, "data"), el("pre", { class: "json" }, JSON.stringify(e.data, null, 2)))))));
  }
  return close;
}
