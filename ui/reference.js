// API reference: the two OpenAPI documents, rendered for reading: every operation of the HTTP
// API by tag, and every public event with its payload's fields.

import { el, table } from "/ui/app.js";
import { deref, spec } from "/ui/spec.js";

function schemaTable(doc, schema) {
  const s = deref(doc, schema);
  if (!s?.properties) return null;
  const required = new Set(s.required || []);
  return table(["field", "type", "", "description"],
    el("tbody", {}, Object.entries(s.properties).map(([name, p]) => {
      const d = deref(doc, p) || {};
      const type = p.$ref ? p.$ref.split("/").pop() : d.type === "array" ? `array of ${d.items?.$ref?.split("/").pop() ?? d.items?.type}` : (d.type ?? "");
      return el("tr", {}, el("td", {}, el("code", {}, name)), el("td", {}, type), el("td", {}, required.has(name) ? "required" : ""),
        el("td", { class: "prose" }, d.description ?? ""));
    })), { class: "schema" });
}

export function reference(main) {
  document.title = "API reference · Tributary";
  const http = el("section", { id: "http-api" }, el("p", { class: "muted" }, "Loading…"));
  const events = el("section", { id: "public-events" });
  main.append(el("h1", {}, "API reference"),
    el("p", {}, "The documents themselves: ", el("a", { href: "/openapi/api.yaml" }, "api.yaml"), " and ",
      el("a", { href: "/openapi/public-events.yaml" }, "public-events.yaml"), "."),
    http, events);
  spec("api.yaml").then((doc) => {
    const byTag = new Map();
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        const tag = op.tags?.[0] ?? "other";
        if (!byTag.has(tag)) byTag.set(tag, []);
        byTag.get(tag).push({ path, method, op });
      }
    }
    http.replaceChildren(el("h2", {}, `${doc.info.title} ${doc.info.version}`), el("p", { class: "prose" }, doc.info.description ?? ""),
      ...[...byTag].map(([tag, ops]) => el("section", {}, el("h2", {}, tag), ...ops.map(({ path, method, op }) =>
        el("details", { class: "operation", id: op.operationId },
          el("summary", {}, el("code", { class: "method" }, method.toUpperCase()), " ", el("code", {}, path), " ", el("span", { class: "muted" }, op.summary ?? "")),
          el("p", { class: "prose" }, op.description ?? ""),
          (op.parameters ?? []).length ? el("ul", {}, op.parameters.map((p) => deref(doc, p)).map((p) =>
            el("li", {}, el("code", {}, p.name), ` (${p.in}${p.required ? ", required" : ""}): `, p.description ?? ""))) : null,
          op.requestBody ? schemaTable(doc, op.requestBody.content?.["application/json"]?.schema) : null,
          el("p", {}, "Answers: ", Object.keys(op.responses).join(", ")))))));
  }).catch((e) => { http.textContent = e.message; });
  spec("public-events.yaml").then((doc) => {
    events.replaceChildren(el("h2", {}, "Public events"), el("p", { class: "prose" }, doc.info.description ?? ""),
      ...Object.entries(doc.webhooks).map(([name, hook]) => {
        const payload = hook.post.requestBody.content["application/json"].schema;
        const data = payload.allOf?.[1]?.properties?.data;
        return el("details", { class: "operation", id: `event-${name}` },
          el("summary", {}, el("code", {}, name), " ", el("span", { class: "muted" }, hook.post.summary ?? "")),
          el("p", { class: "prose" }, hook.post.description ?? ""), data ? schemaTable(doc, data) : null);
      }));
  }).catch((e) => { events.textContent = e.message; });
}
