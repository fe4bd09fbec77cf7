// A YAML reader for the subset the OpenAPI documents are written in (block mappings and
// sequences, plain / single-quoted / double-quoted / literal and folded scalars, empty flow
// collections, anchors and aliases), so the console builds its forms and its API reference
// from openapi/*.yaml as served, with no build step. Not a general YAML parser.

export function parseYAML(text) {
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  const anchors = new Map();
  let i = 0;

  const indentOf = (line) => line.length - line.trimStart().length;
  const blank = (line) => line.trim() === "" || line.trimStart().startsWith("#");
  function skipBlank() { while (i < lines.length && blank(lines[i])) i++; }

  function plain(text) {
    const t = text.trim();
    if (t === "" || t === "~" || t === "null") return null;
    if (t === "true") return true;
    if (t === "false") return false;
    if (/^-?(0|[1-9][0-9]*)$/.test(t)) return Number(t);
    if (/^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$/.test(t)) return Number(t);
    return t;
  }

  /** A quoted scalar starting at `rest` (after the opening quote), possibly over several lines. */
  function quoted(rest, quote) {
    let out = "", text = rest;
    for (;;) {
      for (let k = 0; k < text.length; k++) {
        const c = text[k];
        if (quote === "'" && c === "'") {
          if (text[k + 1] === "'") { out += "'"; k++; continue; }
          return { value: out, after: text.slice(k + 1) };
        }
        if (quote === '"' && c === "\\") {
          const n = text[++k];
          out += { n: "\n", t: "\t", '"': '"', "\\": "\\", "/": "/", "0": "\0" }[n] ?? n;
          continue;
        }
        if (quote === '"' && c === '"') return { value: out, after: text.slice(k + 1) };
        out += c;
      }
      // Folded continuation: a line break is a space, each empty line a newline.
      out = out.replace(/[ \t]+$/, "");
      let newlines = 0;
      i++;
      while (i < lines.length && lines[i].trim() === "") { newlines++; i++; }
      if (i >= lines.length) throw new Error("unterminated quoted scalar");
      out += newlines ? "\n".repeat(newlines) : " ";
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
    let text = indicator.startsWith(">")
      ? body.reduce((acc, l, k) => acc + (k === 0 ? l : (l === "" || body[k - 1] === "" ? "\n" : " ") + l), "")
      : body.join("\n");
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
    if (text.startsWith("*")) value = anchors.get(text.slice(1).trim());
    else if (text === "{}") value = {};
    else if (text === "[]") value = [];
    else if (text[0] === "'" || text[0] === '"') value = quoted(text.slice(1), text[0]).value;
    else if (/^[|>][-+]?$/.test(text)) value = block(text, parent);
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
    const m = /^([^:]*?):(\s|$)(.*)$/.exec(text);
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

  const result = node(0);
  skipBlank();
  if (i < lines.length) throw new Error(`line ${i + 1}: unexpected indentation`);
  return result;
}
