// Live tail of the public log: an EventSource on /streams/public, filtered by event type,
// paused and resumed at will. The browser resumes a dropped stream by itself with
// Last-Event-ID (the public-log position), so a server restart leaves no gap.

import { el, liveSource } from "/ui/app.js";

const KEEP = 500;   // events kept on the page

/** The public event types, read from the public-events spec (its webhooks: `type.vN`). */
async function eventTypes() {
  const text = await (await fetch("/openapi/public-events.yaml")).text();
  const types = new Set();
  let inWebhooks = false;
  for (const line of text.split("\n")) {
    if (/^\S/.test(line)) inWebhooks = line.startsWith("webhooks:");
    const m = inWebhooks && /^  ([a-z0-9-]+\.[a-z0-9-]+)\.v\d+:\s*$/.exec(line);
    if (m) types.add(m[1]);
  }
  return [...types].sort();
}

function render(event) {
  const e = JSON.parse(event.data);
  return el("li", { "data-position": event.lastEventId, "data-type": event.type },
    el("details", {},
      el("summary", {}, el("span", { class: "type" }, `${e.type} v${e.version}`),
        el("span", { class: "muted" }, `#${event.lastEventId}`), el("span", {}, e.source),
        el("span", { class: "muted" }, e.occurredAt), e.correlationId ? el("span", { class: "muted" }, `correlation ${e.correlationId}`) : null),
      el("pre", { class: "json" }, JSON.stringify(e, null, 2))));
}

export function tail(main, _, query) {
  document.title = "Live tail · Tributary";
  const select = el("select", { id: "types", name: "types", multiple: true, size: 4 });
  const pause = el("button", { type: "button", id: "pause", class: "secondary" }, "Pause");
  const status = el("span", { id: "tail-status", class: "muted", role: "status" });
  const list = el("ol", { id: "events", class: "events", reversed: true });
  main.append(el("h1", {}, "Live tail of the public log"),
    el("div", { class: "controls" },
      el("label", { for: "types" }, "Event types (none selected: all)", select),
      pause, status),
    list);

  let source = null, paused = false, held = [], last = query.get("after") || "";
  const wanted = new Set((query.get("types") || "").split(",").filter(Boolean));

  function show(nodes) {
    for (const node of nodes) list.prepend(node);
    while (list.children.length > KEEP) list.lastElementChild.remove();
  }

  // Each (re)open resumes after the last event shown: no gap, no repeat.
  const url = () => {
    const params = new URLSearchParams();
    const chosen = [...select.selectedOptions].map((o) => o.value);
    if (chosen.length) params.set("types", chosen.join(","));
    if (last) params.set("lastEventId", last);
    return `/streams/public${params.size ? `?${params}` : ""}`;
  };
  function open(types) {
    if (source) source();
    source = liveSource(url, (es) => listen(es, types));
  }
  function listen(es, types) {
    for (const type of types) {
      es.addEventListener(type, (event) => {
        last = event.lastEventId;
        const node = render(event);
        if (paused) { held.push(node); status.textContent = `paused: ${held.length} new`; } else show([node]);
      });
    }
  }

  pause.addEventListener("click", () => {
    paused = !paused;
    pause.textContent = paused ? "Resume" : "Pause";
    if (!paused) { show(held); held = []; status.textContent = ""; } else status.textContent = "paused";
  });

  let types = [];
  eventTypes().then((all) => {
    types = all;
    select.replaceChildren(...all.map((t) => el("option", { value: t, selected: wanted.has(t) }, t)));
    select.addEventListener("change", () => {
      const chosen = [...select.selectedOptions].map((o) => o.value);
      const url = new URL(location.href);
      if (chosen.length) url.searchParams.set("types", chosen.join(",")); else url.searchParams.delete("types");
      history.replaceState(null, "", url);
      list.replaceChildren();
      open(types);
    });
    open(types);
  });
  return () => { if (source) source(); };
}
