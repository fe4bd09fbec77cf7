// The OpenAPI documents as the server serves them, parsed once per page load.

import { parseYAML } from "/ui/yaml.js";

const cache = new Map();

export function spec(name) {
  if (!cache.has(name)) {
    cache.set(name, fetch(`/openapi/${name}`).then((r) => r.text()).then(parseYAML));
  }
  return cache.get(name);
}

/** Follows a local `$ref` (`#/components/...`). */
export function deref(doc, node) {
  let n = node;
  while (n && n.$ref) n = n.$ref.slice(2).split("/").reduce((o, k) => o?.[k], doc);
  return n;
}
