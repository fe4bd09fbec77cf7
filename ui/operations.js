// Operations: parked events (retry, skip), stopped components (resume from the failed event or
// the next one), live rebuilds of read models, and each service's journal of all of it. Every
// move states a reason, recorded with it. The page follows /streams/health and redraws when
// the components change.

import { api, ApiError, badge, el, liveSource, table } from "/ui/app.js";

const SERVICES = ["customers", "orders"];
const part = encodeURIComponent;

export function operations(main) {
  document.title = "Operations · Tributary";
  const reason = el("input", { id: "reason", name: "reason", maxlength: 500, placeholder: "why (recorded with the move)", required: true });
  const message = el("div", { id: "message", role: "status", "aria-live": "polite" });
  const parked = el("tbody", { id: "parked" });
  const components = el("tbody", { id: "operable" });
  const journal = el("tbody", { id: "journal" });
  main.append(el("h1", {}, "Operations"),
    el("form", { class: "inline", onsubmit: (e) => e.preventDefault() }, el("label", { for: "reason" }, "Reason for a move", reason)),
    message,
    el("h2", {}, "Parked events"),
    table(["service", "consumer", "position", "event", "order", "error", "attempts", ""], parked),
    el("h2", {}, "Read models and consumers"),
    table(["service", "name", "status", "position", "error", ""], components),
    el("h2", {}, "Journal"),
    table(["when", "service", "entry", "component", "position", "by", "reason", "outcome"], journal));

  function say(text, kind) { message.replaceChildren(el("p", { class: `message ${kind}` }, text)); }

  async function move(path, extra = {}) {
    if (!reason.value.trim()) { say("Say why first: the reason is recorded with the move.", "bad"); reason.focus(); return; }
    try {
      const { status, data } = await api(path, { method: "POST", body: { reason: reason.value, ...extra } });
      if (status >= 400) throw new ApiError(status, data);
      const entries = data.retried ?? [data];
      say(entries.length ? entries.map((e) => `${e.type.replace("operations.", "")} ${e.component} ${e.position ?? ""} ${e.outcome ?? ""}`).join("; ") : "nothing to do", "ok");
    } catch (error) {
      say(error.problem?.detail || error.message, "bad");
    }
    refresh();
  }

  let health = null;   // the latest /streams/health frame's document
  async function refresh() {
    try {
      const [{ data: p }, ...logs] = await Promise.all([api("/admin/parked"), ...SERVICES.map((s) => api(`/admin/operations/${s}`))]);
      parked.replaceChildren(...p.parked.map((e) => el("tr", { "data-position": e.position },
        el("td", {}, e.service), el("td", {}, e.component), el("td", { class: "num" }, e.position),
        el("td", {}, e.eventType), el("td", {}, e.sequence ?? ""), el("td", { class: "error" }, e.error ?? ""),
        el("td", { class: "num" }, e.attempts ?? ""),
        el("td", {},
          el("button", { type: "button", onclick: () => move(`/admin/parked/${part(e.service)}/${part(e.component)}/${part(e.position)}/retry`) }, "Retry"), " ",
          el("button", { type: "button", class: "secondary", onclick: () => move(`/admin/parked/${part(e.service)}/${part(e.component)}/${part(e.position)}/skip`) }, "Skip")))));
      if (!p.parked.length) parked.append(el("tr", {}, el("td", { colspan: 8, class: "muted" }, "Nothing is parked.")));
      const operable = (health?.components ?? []).filter((c) => c.kind === "projection" || c.kind === "consumer");
      components.replaceChildren(...operable.map((c) => el("tr", { "data-component": `${c.service}/${c.name}` },
        el("td", {}, c.service), el("td", {}, c.name),
        el("td", {}, badge(c.status, c.healthy ? "ok" : "bad"), c.parked ? ` ${c.parked} parked` : ""),
        el("td", { class: "num" }, c.position), el("td", { class: "error" }, c.error ?? ""),
        el("td", {},
          c.kind === "consumer" && c.parked ? el("button", { type: "button", onclick: () => move(`/admin/parked/${part(c.service)}/${part(c.name)}/retry`) }, "Retry all parked") : null,
          c.status === "failed" ? [
            el("button", { type: "button", onclick: () => move(`/admin/components/${part(c.service)}/${part(c.name)}/resume`, { from: "failed" }) }, "Resume"), " ",
            el("button", { type: "button", class: "secondary", onclick: () => move(`/admin/components/${part(c.service)}/${part(c.name)}/resume`, { from: "next" }) }, "Skip the event")] : null,
          c.kind === "projection" ? [" ", el("button", { type: "button", class: "secondary", onclick: () => move(`/admin/components/${part(c.service)}/${part(c.name)}/rebuild`) }, "Rebuild")] : null))));
      const entries = logs.flatMap(({ data }) => data.entries).sort((a, b) => (a.recordedAt < b.recordedAt ? 1 : -1)).slice(0, 200);
      journal.replaceChildren(...entries.map((e) => el("tr", {},
        el("td", { class: "muted" }, e.recordedAt), el("td", {}, e.service), el("td", {}, e.type.replace("operations.", "")),
        el("td", {}, e.component), el("td", { class: "num" }, e.position ?? ""), el("td", {}, e.by ?? ""),
        el("td", {}, e.reason ?? ""), el("td", {}, e.outcome ?? e.error ?? ""))));
      if (!entries.length) journal.append(el("tr", {}, el("td", { colspan: 8, class: "muted" }, "No entries yet.")));
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 401)) say(error.message, "bad");
    }
  }
  // Live: each change of the components (a status, a position, a parked count) redraws the
  // page from the health stream; no polling.
  let pending = null;
  const close = liveSource(() => "/streams/health", (source) => source.addEventListener("health", (event) => {
    health = JSON.parse(event.data).health;
    if (!pending) pending = setTimeout(() => { pending = null; refresh(); }, 100);
  }));
  return () => { close(); clearTimeout(pending); };
}
