// A YAML reader for the subset the OpenAPI documents are written in (block mappings and
// sequences, plain / single-quoted / double-quoted / literal and folded scalars, one-line flow
// collections of scalars, anchors and aliases), resolving plain scalars as PyYAML does (YAML
// 1.1), so the console builds its forms and its API reference from openapi/*.yaml as served,
// with no build step. Not a general YAML parser: what it does not read it refuses (throws)
// rather than guess; the console tests compare it with PyYAML on both documents.

export function parseYAML(text) {
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  const anchors = new Map();
  let i = 0;

  const indentOf = (line) => line.length - line.trimStart().length;
  const blank = (line) => line.trim() === "" || line.trimStart().startsWith("#");
  function skipBlank() { while (i < lines.length && blank(lines[i])) i++; }

  /** A plain scalar's value, as PyYAML's resolver (YAML 1.1) reads it. */
  function plain(text) {
    const t = text.trim();
    if (/^(|~|null|Null|NULL)$/.test(t)) return null;
    if (/^(yes|Yes|YES|true|True|TRUE|on|On|ON)$/.test(t)) return true;
    if (/^(no|No|NO|false|False|FALSE|off|Off|OFF)$/.test(t)) return false;
    if (/^[-+]?(0|[1-9][0-9_]*)$/.test(t)) return Number(t.replace(/_/g, ""));
    if (/^[-+]?0x[0-9a-fA-F_]+$/.test(t)) return (t.startsWith("-") ? -1 : 1) * parseInt(t.replace(/^[-+]?0x|_/g, ""), 16);
    if (/^[-+]?0[0-7_]+$/.test(t)) return (t.startsWith("-") ? -1 : 1) * parseInt(t.replace(/^[-+]?0|_/g, ""), 8);
    if (/^[-+]?([0-9][0-9_]*)?\.[0-9_]*([eE][-+][0-9]+)?$/.test(t) && /[0-9]/.test(t)) return Number(t.replace(/_/g, ""));
    if (/^[-+]?\.(inf|Inf|INF)$/.test(t)) return t.startsWith("-") ? -Infinity : Infinity;
    if (/^\.(nan|NaN|NAN)$/.test(t)) return NaN;
    if (/^(<<|[!&*%@`])/.test(t)) throw new Error(`line ${i + 1}: unsupported YAML: ${t.slice(0, 20)}`);
    return t;
  }

  /** A one-line flow collection of scalars: `[a, 'b', 1]` or `{a: 1, b: x}` (nothing nested). */
  function flow(text) {
    const close = text[0] === "[" ? "]" : "}";
    const inner = text.slice(1, text.lastIndexOf(close));
    if (text.lastIndexOf(close) !== text.length - 1 || /[[\]{}]/.test(inner.replace(/'[^']*'|"(\\.|[^"\\])*"/g, ""))) {
      throw new Error(`line ${i + 1}: unsupported flow collection: ${text.slice(0, 40)}`);
    }
    const items = [];
    let k = 0;
    while (k < inner.length) {
      while (inner[k] === " ") k++;
      if (k >= inner.length) break;
      let item;
      if (inner[k] === "'" || inner[k] === '"') {
        const q = quoted(inner.slice(k + 1), inner[k]);
        item = { quoted: q.value };
        k = inner.length - q.after.length;
        while (inner[k] === " ") k++;
        if (inner[k] === ":") { const rest = inner.slice(k + 1); const end = rest.indexOf(","); item = { key: q.value, value: plain(end < 0 ? rest : rest.slice(0, end)) }; k += 1 + (end < 0 ? rest.length : end); }
      } else {
        const end = inner.indexOf(",", k);
        const raw = inner.slice(k, end < 0 ? inner.length : end);
        const colon = raw.search(/:(\s|$)/);
        item = colon >= 0 ? { key: raw.slice(0, colon).trim(), value: plain(raw.slice(colon + 1)) } : { value: plain(raw) };
        k = end < 0 ? inner.length : end;
      }
      items.push(item);
      while (inner[k] === " ") k++;
      if (inner[k] === ",") k++;
    }
    if (close === "]") return items.map((it) => ("quoted" in it ? it.quoted : it.value));
    return Object.fromEntries(items.map((it) => [it.key ?? it.quoted, it.value ?? null]));
  }

  /** A quoted scalar starting at `rest` (after the opening quote), possibly over several lines. */
  function quoted(rest, quote) {
    let out = "", text = rest, escapedBreak = false;
    for (;;) {
      escapedBreak = false;
      for (let k = 0; k < text.length; k++) {
        const c = text[k];
        if (quote === "'" && c === "'") {
          if (text[k + 1] === "'") { out += "'"; k++; continue; }
          return { value: out, after: text.slice(k + 1) };
        }
        if (quote === '"' && c === "\\") {
          const n = text[++k];
          if (n === undefined) { text = ""; escapedBreak = true; break; }   // an escaped line break: nothing
          const hex = { x: 2, u: 4, U: 8 }[n];
          if (hex) { out += String.fromCodePoint(parseInt(text.slice(k + 1, k + 1 + hex), 16)); k += hex; continue; }
          const simple = { n: "\n", t: "\t", r: "\r", e: "\x1b", a: "\x07", b: "\b", f: "\f", v: "\v", '"': '"', "\\": "\\",
            "/": "/", "0": "\0", " ": " ", N: "\x85", _: "\xa0", L: "\u2028", P: "\u2029" }[n];
          if (simple === undefined) throw new Error(`line ${i + 1}: unknown escape \\${n}`);
          out += simple;
          continue;
        }
        if (quote === '"' && c === '"') return { value: out, after: text.slice(k + 1) };
        out += c;
      }
      // Folded continuation: a line break is a space, each empty line a newline (an escaped
      // break, nothing).
      if (!escapedBreak) out = out.replace(/[ \t]+$/, "");
      let newlines = 0;
      i++;
      while (i < lines.length && lines[i].trim() === "") { newlines++; i++; }
      if (i >= lines.length) throw new Error("unterminated quoted scalar");
      out += newlines ? "\n".repeat(newlines) : (escapedBreak ? "" : " ");
      text = lines[i].trimStart();
    }
  }

  /** A block scalar (`|`, `|-`, `>`, `>-`) whose lines are more indented than `parent`. */
  function block(indicator, parent) {
    const body = [];
    let indent = -1;
    i++;
    while (i < lines.length) {
      const line = lines[i];
      if (line.trim() === "") { body.push(""); i++; continue; }
      const n = indentOf(line);
      if (n <= parent) break;
      if (indent < 0) indent = n;
      body.push(line.slice(indent));
      i++;
    }
    while (body.length && body[body.length - 1] === "") body.pop();
    let text = body.join("\n");
    if (indicator.startsWith(">")) {
      // Folded: a line break between two lines is a space; an empty line is a line break.
      if (body.some((l) => l.startsWith(" ") || l.startsWith("\t"))) throw new Error(`line ${i}: more-indented lines in a folded scalar are not supported`);
      text = "";
      body.forEach((l, k) => {
        if (k === 0) text = l;
        else if (l === "") text += "\n";
        else text += (body[k - 1] === "" ? "" : " ") + l;
      });
    }
    if (!indicator.endsWith("-")) text += "\n";
    i--;   // the caller moves past the value's line
    return text;
  }

  /** The value written after `key:` or `- ` on line i (`rest`), at nesting `parent`. */
  function inlineValue(rest, parent) {
    let anchor = null;
    let text = rest.trim();
    const a = /^&(\S+)\s*(.*)$/.exec(text);
    if (a) { anchor = a[1]; text = a[2]; }
    let value;
    if (text === "" || text.startsWith("#")) {
      i++;
      skipBlank();
      const next = i < lines.length ? lines[i] : "";
      const n = indentOf(next);
      value = i < lines.length && (n > parent || (n === parent && next.trimStart().startsWith("- "))) ? node(n) : null;
      if (anchor) anchors.set(anchor, value);
      return value;
    }
    if (text.startsWith("*")) {
      const name = text.slice(1).replace(/\s+#.*$/, "").trim();
      if (!anchors.has(name)) throw new Error(`line ${i + 1}: unknown alias *${name}`);
      value = anchors.get(name);
    }
    else if (text[0] === "[" || text[0] === "{") value = flow(text.replace(/\s+#.*$/, ""));
    else if (text[0] === "'" || text[0] === '"') value = quoted(text.slice(1), text[0]).value;
    else if (/^[|>]-?$/.test(text)) value = block(text, parent);
    else if (/^[|>]/.test(text)) throw new Error(`line ${i + 1}: unsupported block scalar header ${text}`);
    else {
      // A plain scalar may continue on more indented lines.
      let s = text.replace(/\s+#.*$/, "");
      while (i + 1 < lines.length && !blank(lines[i + 1]) && indentOf(lines[i + 1]) > parent && !/^\s*- /.test(lines[i + 1])
             && !/^\s*[^\s'"][^:]*:(\s|$)/.test(lines[i + 1])) {
        i++;
        s += " " + lines[i].trim();
      }
      value = plain(s);
    }
    i++;
    if (anchor) anchors.set(anchor, value);
    return value;
  }

  function key(text) {
    if (text[0] === "'" || text[0] === '"') {
      const q = quoted(text.slice(1), text[0]);
      return { key: q.value, rest: q.after.replace(/^\s*:/, "") };
    }
    const m = /^(.*?):(\s|$)(.*)$/.exec(text);
    if (!m) throw new Error(`line ${i + 1}: expected 'key: value'`);
    return { key: m[1], rest: m[3] };
  }

  function node(indent) {
    skipBlank();
    if (i >= lines.length) return null;
    return lines[i].trimStart().startsWith("- ") || lines[i].trim() === "-" ? sequence(indent) : mapping(indent);
  }

  function mapping(indent) {
    const out = {};
    for (;;) {
      skipBlank();
      if (i >= lines.length || indentOf(lines[i]) !== indent || lines[i].trimStart().startsWith("- ")) return out;
      const { key: k, rest } = key(lines[i].slice(indent));
      if (k === "<<") throw new Error(`line ${i + 1}: merge keys are not supported`);
      out[k] = inlineValue(rest, indent);
    }
  }

  function sequence(indent) {
    const out = [];
    for (;;) {
      skipBlank();
      if (i >= lines.length || indentOf(lines[i]) !== indent || !lines[i].trimStart().startsWith("-")) return out;
      const item = lines[i].slice(indent + 1);
      const itemIndent = indent + 1 + (item.length - item.trimStart().length);
      const content = item.trimStart();
      if (/^[^\s'"&*|>-][^:]*:(\s|$)/.test(content) || /^'[^']*':(\s|$)/.test(content)) {
        // A mapping starting on the dash's line: parse it as if that line were indented.
        lines[i] = " ".repeat(itemIndent) + content;
        out.push(mapping(itemIndent));
      } else {
        out.push(inlineValue(content, indent));
      }
    }
  }

  skipBlank();
  if (lines[i] === "---") i++;
  const result = node(0);
  skipBlank();
  if (i < lines.length) throw new Error(`line ${i + 1}: unexpected indentation`);
  return result;
}
