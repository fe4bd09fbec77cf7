// Command console: a form per command, built from openapi/api.yaml (the request body's schema
// and the path's parameters); the answer, or the problem+json's errors shown at the fields
// they name.

import { api, el, navigate } from "/ui/app.js";
import { deref, spec } from "/ui/spec.js";

/** The commands of the spec: [{service, name, path, op}] in the spec's order. */
function commands(doc) {
  const out = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    const m = /^\/commands\/([a-z]+)\/(?:\{id\}\/)?([a-z-]+)$/.exec(path);
    if (m && item.post) out.push({ service: m[1], name: m[2], path, op: item.post });
  }
  return out;
}

function input(doc, name, schema, required, value) {
  const s = deref(doc, schema) || {};
  const id = `field-${name.replace(/[^a-zA-Z0-9]+/g, "-")}`;
  let control;
  if (s.enum) control = el("select", { id, name }, (required ? [] : [""]).concat(s.enum).map((v) => el("option", { value: v, selected: v === value }, v)));
  else control = el("input", { id, name, type: s.type === "integer" || s.type === "number" ? "number" : "text",
    step: s.type === "integer" ? 1 : undefined, required, value: value ?? "", "data-type": s.type || "string", autocomplete: "off" });
  return el("div", { class: "field" }, el("label", { for: id }, `${name}${required ? "" : " (optional)"}`, control),
    el("span", { class: "field-error", id: `${id}-error`, role: "alert" }));
}

function valueOf(control) {
  if (control.value === "") return undefined;
  return control.dataset.type === "integer" || control.dataset.type === "number" ? Number(control.value) : control.value;
}

export function commandConsole(main, [service, name]) {
  document.title = "Commands · Tributary";
  const picker = el("select", { id: "command", name: "command" });
  const area = el("div", { id: "command-form" });
  const answer = el("div", { id: "answer", role: "status", "aria-live": "polite" });
  main.append(el("h1", {}, "Commands"),
    el("form", { class: "inline", onsubmit: (e) => e.preventDefault() }, el("label", { for: "command" }, "Command", picker)),
    area, answer);
  spec("api.yaml").then((doc) => {
    const all = commands(doc);
    const chosen = all.find((c) => c.service === service && c.name === name) || all[0];
    picker.replaceChildren(...all.map((c) => el("option", { value: `${c.service}/${c.name}`, selected: c === chosen }, `${c.service}: ${c.name}`)));
    picker.addEventListener("change", () => navigate(`/ui/commands/${picker.value}`));
    area.replaceChildren(form(doc, chosen, answer));
  });
}

function form(doc, command, answer) {
  const body = deref(doc, command.op.requestBody?.content?.["application/json"]?.schema) || { properties: {} };
  const required = new Set(body.required || []);
  const fields = [];
  const takesId = command.path.includes("{id}");
  if (takesId) fields.push(input(doc, "id", { type: "string" }, true));
  const arrays = [];
  for (const [prop, schema] of Object.entries(body.properties || {})) {
    const s = deref(doc, schema);
    if (s.type === "array") {
      const item = deref(doc, s.items);
      const rows = el("div", { class: "rows", "data-array": prop });
      const addRow = () => {
        const k = rows.children.length;
        rows.append(el("fieldset", { class: "row" }, el("legend", {}, `${prop}[${k}]`),
          Object.entries(item.properties).map(([p, ps]) => input(doc, `${prop}[${k}].${p}`, ps, (item.required || []).includes(p)))));
      };
      addRow();
      arrays.push(prop);
      fields.push(el("div", { class: "array" }, rows, el("button", { type: "button", class: "secondary", onclick: addRow }, `Add to ${prop}`)));
    } else {
      fields.push(input(doc, prop, schema, required.has(prop)));
    }
  }
  const key = input(doc, "Idempotency-Key", { type: "string" }, false);
  const f = el("form", { class: "card command", novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    for (const e of f.querySelectorAll(".field-error")) e.textContent = "";
    for (const c of f.querySelectorAll("[aria-invalid]")) c.removeAttribute("aria-invalid");
    const payload = {};
    for (const control of f.querySelectorAll("input, select")) {
      const n = control.name;
      if (n === "id" || n === "Idempotency-Key") continue;
      const v = valueOf(control);
      const m = /^([a-zA-Z]+)\[(\d+)\]\.(.+)$/.exec(n);
      if (m) { ((payload[m[1]] ??= [])[Number(m[2])] ??= {}); if (v !== undefined) payload[m[1]][Number(m[2])][m[3]] = v; }
      else if (v !== undefined) payload[n] = v;
    }
    const id = takesId ? f.querySelector("[name=id]").value : null;
    const path = command.path.replace("{id}", encodeURIComponent(id ?? ""));
    const headers = { "Content-Type": "application/json", Accept: "application/json" };
    const token = sessionStorage.getItem("tributary.token");
    if (token) headers.Authorization = `Bearer ${token}`;
    const keyValue = f.querySelector("[name='Idempotency-Key']").value;
    if (keyValue) headers["Idempotency-Key"] = keyValue;
    const r = await fetch(path, { method: "POST", headers, body: JSON.stringify(payload) });
    const data = await r.json().catch(() => null);
    answer.replaceChildren(el("p", { class: `message ${r.ok ? "ok" : "bad"}` }, `${r.status} ${r.ok ? "" : data?.title ?? ""}`.trim()),
      el("pre", { class: "json" }, JSON.stringify(data, null, 2)));
    for (const e of data?.errors ?? []) {
      const control = f.querySelector(`[name='${CSS.escape(e.field)}']`);
      if (!control) continue;
      control.setAttribute("aria-invalid", "true");
      document.getElementById(`${control.id}-error`).textContent = e.message;
    }
    if (r.ok && data?.id) {
      const kind = command.service;
      answer.append(el("p", {}, el("a", { href: `/ui/${kind}/${encodeURIComponent(data.id)}`, "data-link": true }, `Open ${data.id}`)));
    }
  } }, el("h2", {}, `${command.service}: ${command.name}`), el("p", { class: "muted" }, command.op.summary || ""),
    fields, key, el("button", { type: "submit" }, "Send"));
  return f;
}
