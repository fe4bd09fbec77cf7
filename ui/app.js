// The console's shell: a router over the History API (every page has a URL of its own), the
// API client (the token, when the server has tokens, kept for this tab only) and DOM helpers.
// Every value from the server is put in the page as text (textContent), never as HTML.

import { dashboard } from "/ui/dashboard.js";
import { tail } from "/ui/tail.js";
import { operations } from "/ui/operations.js";
import { models } from "/ui/models.js";
import { trace } from "/ui/trace.js";
import { streams } from "/ui/streams.js";
import { commandConsole } from "/ui/commands.js";
import { reference } from "/ui/reference.js";

const pages = {
  "": dashboard, tail, operations, trace, streams, commands: commandConsole, api: reference,
  customers: (main, rest, query) => models(main, ["customers", ...rest], query),
  orders: (main, rest, query) => models(main, ["orders", ...rest], query),
};
const TOKEN = "tributary.token";

/** Builds an element: el("td", {class: "num"}, "42", child, ...); strings become text nodes. */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** A table with its header row, in a box that scrolls sideways on a narrow screen. */
export function table(headers, body, attributes = {}) {
  return el("div", { class: "table-wrap" }, el("table", attributes,
    el("thead", {}, el("tr", {}, headers.map((h) => el("th", { scope: "col" }, h)))), body));
}

/** A badge for a status: ok (green), warn (amber), bad (red). */
export function badge(text, kind) {
  return el("span", { class: `badge ${kind}` }, text);
}

export function setConnection(text) {
  document.getElementById("connection").textContent = text;
}

/** Raised for an answer that is not 2xx: the status and the problem+json body, if any. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

/** fetch for the API: the tab's token when there is one; JSON in, JSON (or null) out. */
export async function api(path, { method = "GET", body } = {}) {
  const headers = { Accept: "application/json" };
  const token = sessionStorage.getItem(TOKEN);
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (response.status === 401) { askForToken(); throw new ApiError(401, data); }
  if (!response.ok && response.status !== 503) throw new ApiError(response.status, data);
  return { status: response.status, data };
}

/** Exchanges the tab's token for the session cookie the event streams need (sessions live in
 * the server's memory: a restart or 12 hours end them). True when the tab has a usable token. */
export async function renewSession() {
  const token = sessionStorage.getItem(TOKEN);
  if (!token) return false;
  const r = await fetch("/ui/session", { method: "POST", headers: { Authorization: `Bearer ${token}` } }).catch(() => null);
  return r?.status === 204;
}

/**
 * An EventSource that comes back: the browser reconnects by itself while the server is away,
 * but gives up on an answer that is not a stream (a 401 once the session is gone, a 503 at the
 * subscriber cap). Then this renews the session (or asks for a token) and opens `url()` again.
 * `listen(source)` adds the page's listeners to each new EventSource. Returns `close`.
 */
export function liveSource(url, listen) {
  let source = null, timer = null, closed = false;
  const open = () => {
    source = new EventSource(url());
    source.addEventListener("open", () => setConnection("live"));
    source.addEventListener("error", () => {
      if (source.readyState !== EventSource.CLOSED) { setConnection("reconnecting…"); return; }
      setConnection("disconnected");
      if (closed || timer) return;
      timer = setTimeout(async () => {
        timer = null;
        if (closed) return;
        if (!(await renewSession())) await api("/admin/parked").catch(() => {});   // asks for a token on 401
        if (!closed) open();
      }, 1000);
    });
    listen(source);
  };
  open();
  return () => { closed = true; clearTimeout(timer); source?.close(); };
}

/** The server has tokens and this tab has none (or a wrong one): ask for one. */
function askForToken() {
  if (document.getElementById("token-form")) return;
  // No name: the value never goes into a URL, whatever happens to the submit handler.
  const input = el("input", { id: "token", type: "password", autocomplete: "off", required: true });
  const message = el("p", { class: "muted" }, "This server needs an API token with the admin scope (and streams:read for the live tail). It is kept for this tab only.");
  const form = el("form", { id: "token-form", class: "card inline", method: "post", onsubmit: async (event) => {
    event.preventDefault();
    const token = input.value.trim();
    const r = await fetch("/ui/session", { method: "POST", headers: { Authorization: `Bearer ${token}` } });
    if (r.status !== 204) { message.textContent = "That token is not valid."; return; }
    sessionStorage.setItem(TOKEN, token);
    form.remove();
    route();
  } }, el("label", { for: "token" }, "API token", input), el("button", { type: "submit" }, "Use this token"), message);
  document.getElementById("page").prepend(form);
}

let leave = null;   // the current page's clean-up (closes its event streams)

function route() {
  if (leave) { leave(); leave = null; }
  const path = location.pathname.replace(/^\/ui\/?/, "");
  const [name, ...rest] = path.split("/");
  const page = pages[name];
  const main = document.getElementById("page");
  main.replaceChildren();
  for (const a of document.querySelectorAll("nav a")) {
    if (a.dataset.page === (name || "dashboard")) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  if (!page) {
    document.title = "Not found · Tributary";
    main.append(el("h1", {}, "Not found"), el("p", {}, "No page at ", el("code", {}, location.pathname), ". ",
      el("a", { href: "/ui/", "data-link": true }, "Back to the dashboard")));
    return;
  }
  let parts;
  try { parts = rest.map(decodeURIComponent); } catch { parts = rest; }   // a malformed escape: as written
  leave = page(main, parts, new URLSearchParams(location.search)) || null;
}

/** Goes to `url` (a console URL) without reloading. */
export function navigate(url) {
  history.pushState(null, "", url);
  route();
}

document.addEventListener("click", (event) => {
  const a = event.target.closest("a[data-link]");
  if (!a || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
  event.preventDefault();
  navigate(a.getAttribute("href"));
});
window.addEventListener("popstate", route);
renewSession().finally(route);
